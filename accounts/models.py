import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.text import slugify

from core import outbound
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
        """The live token matching ``key``, or None. Only the hash is stored, so a leaked table leaks no tokens."""
        token = self.select_related("user").filter(key_hash=_hash(key), revoked_at__isnull=True).first()
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
