import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.text import slugify

from core import outbound
from core.choices import Cadence
from core.onequery import Compiled
from core.validators import web_url_validator


class Team(models.Model):
    """A group of people that owns assets together; a user may belong to several teams."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    email = models.EmailField(blank=True, help_text="Shared mailbox that receives the team's alerts.")
    webhook_url = models.URLField(
        blank=True, validators=[web_url_validator], help_text="Slack-compatible incoming webhook for the team's alerts."
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    webhook_cadence = models.CharField(
        "webhook: non-critical news", max_length=10, choices=Cadence.choices, default=Cadence.IMMEDIATE,
        help_text="Chosen by the team's members: news about problems upstream at once, or in a daily or weekly "
        "digest. Critical news is always posted at once.",
    )  # fmt: skip

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name)[:100]
        super().save(*args, **kwargs)

    def clean(self):
        if self.webhook_url:
            try:
                outbound.check_url(self.webhook_url)
            except outbound.OutboundRefused as exc:
                raise ValidationError({"webhook_url": str(exc)}) from None


def _hash(key):
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def authenticate(self, key):
        """The live token matching ``key``, or None. Only the hash is stored, so a leaked table leaks no tokens.
        Every API request asks: the query is compiled once per process (``core.onequery.Compiled``) and read
        afresh each time, so a revoked token or a deactivated user is refused at once."""
        token = _LIVE_TOKEN.first(key_hash=_hash(key))
        if token is None or not token.user.is_active:
            return None
        return token


class ApiToken(models.Model):
    """A personal or service-account token for the API. The key is shown once, at creation, and never again."""

    PREFIX_LENGTH = 8

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'airflow lineage'.")
    prefix = models.CharField(max_length=PREFIX_LENGTH, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    lineage_namespaces = models.TextField(
        blank=True,
        help_text="OpenLineage namespaces this token may report on, one a line (datasets' and jobs' alike); empty: "
        "any namespace its owner may change.",
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, user, name):
        """Create a token and return ``(token, key)``; the key exists only in this return value."""
        key = secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, prefix=key[: cls.PREFIX_LENGTH], key_hash=_hash(key))
        return token, key

    def revoke(self):
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])

    @property
    def is_active(self):
        return self.revoked_at is None

    @property
    def namespace_allow_list(self):
        """The namespaces of ``lineage_namespaces``, or an empty set when the token may name any."""
        return {line.strip() for line in self.lineage_namespaces.splitlines() if line.strip()}


_LIVE_TOKEN = Compiled(
    lambda key_hash: ApiToken.objects.select_related("user").filter(key_hash=key_hash, revoked_at__isnull=True),
    key_hash="\x1fkey hash\x1f",
)


class OidcIdentity(models.Model):
    """A person of the company's OpenID Connect provider: the provider's issuer and its stable subject (``sub``)
    for them. Sign-in finds the portal account through this pair, never through an email address alone."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_identities")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "company sign-in identity"
        verbose_name_plural = "company sign-in identities"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="oidc_identity_unique_subject"),
            # One company account per portal account and provider: a second would be a takeover, not a login.
            models.UniqueConstraint(fields=["user", "issuer"], name="oidc_identity_one_per_user"),
        ]

    def __str__(self):
        return f"{self.subject} at {self.issuer}"


class GroupMapping(models.Model):
    """A group of the company's identity provider (from the groups claim) and what it gives in the portal: a
    team's membership, the staff flag, or both. Applied at every company sign-in, so leaving the group at the
    provider leaves the team at the next sign-in."""

    group = models.CharField(max_length=255, help_text="The group's name exactly as the provider sends it.")
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="group_mappings",
        help_text="Members of the group are members of this team.",
    )  # fmt: skip
    is_staff = models.BooleanField(
        "gives staff", default=False, help_text="Members of the group are the portal's staff (administrators)."
    )

    class Meta:
        ordering = ["group"]
        constraints = [models.UniqueConstraint(fields=["group", "team"], name="group_mapping_unique")]

    def __str__(self):
        given = [str(self.team)] if self.team_id else []
        given += ["staff"] if self.is_staff else []
        return f"{self.group} → {', '.join(given) or 'nothing'}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if not self.team_id and not self.is_staff:
            raise ValidationError("Give the group a team, the staff flag, or both.")


def time_zone_choices():
    import zoneinfo

    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class Profile(models.Model):
    """What a person sets about how the portal shows things to them. Created on first save of a setting; a person
    without one sees the site's defaults (``TIME_ZONE``)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        help_text="Dates and times are shown in this time zone. Empty: the portal's own time zone.",
    )

    def __str__(self):
        return f"Profile of {self.user}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.time_zone and self.time_zone not in dict(time_zone_choices()):
            raise ValidationError({"time_zone": f"“{self.time_zone}” is not a time zone name, e.g. Europe/Paris."})
