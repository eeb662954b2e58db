"""Registered models: what a model is, who relies on it, what it assumes, and how complete its card is."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from catalog.choices import AssetKind
from catalog.models import Asset
from registry.choices import ModelUserKind, Stage
from registry.events import send_card_changed


class PromotionBlocked(ValidationError):
    """A promotion cannot go ahead; ``missing`` names each unmet requirement in plain words."""

    def __init__(self, missing):
        self.missing = list(missing)
        super().__init__(["Promotion refused. Still missing: " + "; ".join(self.missing) + "."])


class RegisteredModelQuerySet(models.QuerySet):
    def by_name(self):
        """In name order. Naming the asset kind (implied by the table) lets PostgreSQL read a page straight off the
        asset's (kind, name, id) index instead of sorting every model."""
        return self.filter(asset__kind=AssetKind.MODEL).order_by("asset__name", "pk")

    def with_completeness_facts(self):
        """Everything ``card_completeness`` reads, for many models in a fixed number of queries."""
        return self.select_related("card").prefetch_related(*completeness_prefetches())


def completeness_prefetches():
    """The related rows ``card_completeness`` reads besides the card, for ``prefetch_related`` on a list of models
    or ``prefetch_related_objects`` on rows already fetched (the trust badges'). Versions carry only the fields it
    looks at: a page of 50 models has some 250 versions, and decoding their JSON fields (parameters, run metrics)
    was most of a list's time."""
    from registry.models.versions import ModelVersion, recorded_annotations  # versions point back at models

    # Whether there are any, not the rows: a page of models has about a thousand metrics.
    versions = ModelVersion.objects.only("asset_id", "model_id", "version", "stage", "algorithm").annotate(
        **recorded_annotations()
    )
    return [
        "assumptions", "developers", "model_users", "quality_thresholds", models.Prefetch("versions", queryset=versions)
    ]  # fmt: skip


def completeness_rows():
    """``completeness_prefetches`` as ``core.onequery.Rows``: the same rows read as JSON arrays in the statement
    that reads the models (the API's hot reads: one statement for a model, one for a page of them). Also the
    approvers and tags the API shows."""
    from django.contrib.auth import get_user_model

    from catalog.models import Tag
    from core.onequery import Rows
    from registry.models.gates import QualityThreshold
    from registry.models.versions import ModelVersion, recorded_annotations

    user = get_user_model()
    every = lambda model: tuple(f.name for f in model._meta.concrete_fields)  # noqa: E731
    recorded = recorded_annotations()
    return (
        Rows("asset__tags", Tag.objects.all(), "assets", ("name",)),
        Rows("approvers", user.objects.all(), "approvable_models", ("username",)),
        Rows("developers", user.objects.all(), "developed_models", ("username",)),
        Rows("assumptions", Assumption.objects.all(), "model", every(Assumption)),
        Rows("model_users", ModelUser.objects.all(), "model", every(ModelUser)),
        Rows("quality_thresholds", QualityThreshold.objects.all(), "model", every(QualityThreshold)),
        Rows("versions", ModelVersion.objects.all(), "model", ("model", "version", "stage", "algorithm"), recorded),
    )


class RegisteredModel(models.Model):
    """A model as the business knows it ("churn predictor"), across all its versions. Its card is ``self.card``."""

    asset = models.OneToOneField(Asset, primary_key=True, on_delete=models.CASCADE, related_name="registered_model")
    summary = models.CharField(max_length=300, blank=True)
    goal = models.TextField(blank=True, help_text="The problem this model solves.")
    developers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="developed_models")
    users_description = models.TextField(
        "users and their needs", blank=True, help_text="Who uses the model (internal or external) and what they need."
    )
    approvers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="approvable_models",
        help_text="Who may approve promotions (set by staff). Empty: the owner, the owning team and staff.",
    )
    mlflow_name = models.CharField(max_length=200, blank=True, db_index=True)
    mlflow_tags = models.JSONField(default=dict, blank=True)

    objects = RegisteredModelQuerySet.as_manager()

    def __str__(self):
        return self.asset.name

    def get_absolute_url(self):
        return reverse("registry:model_detail", kwargs={"slug": self.asset.slug})

    def current_version(self):
        """The version in use, else the newest one; None for a model with no versions."""
        versions = list(self.versions.all())
        return next((v for v in versions if v.stage == Stage.PRODUCTION), versions[0] if versions else None)

    def get_card(self):
        """The card, or an empty unsaved one, so a model registered elsewhere (admin, old rows) still reads."""
        from registry.models.cards import ModelCard  # the card points back at its model

        try:
            return self.card
        except ModelCard.DoesNotExist:
            return ModelCard(model=self)

    def card_sections(self, card=None, draft=None):
        """Every section a trustworthy card answers, as (label, filled) in reading order. ``card``: an unsaved card
        with the editor's text, for the meter that follows typing (``registry.views.card_meter``); ``draft``: what
        the same editor holds beside the prose, unsaved: ``summary``, ``goal``, ``users_description``,
        ``developers`` (each in place of the saved value), ``assumption`` and ``user`` (a new one, unsaved),
        ``thresholds`` (the quality gates' thresholds as typed, in place of the saved ones) and ``version`` (the
        current version's facts as typed, or those of the version being registered: ``algorithm``, ``training``
        and ``metrics``, the last two whether any are given)."""
        card = card or self.get_card()
        draft = draft or {}
        version = self.current_version()
        typed = draft.get("version")
        if typed is not None:
            algorithm, training, metrics = typed["algorithm"], typed["training"], typed["metrics"]
        else:
            algorithm = version.algorithm if version else ""
            training, metrics = bool(version and version.has_training_data()), bool(version and version.has_metrics())
        thresholds = draft["thresholds"] if "thresholds" in draft else self.quality_thresholds.all()
        filled = {name: bool(getattr(card, name).strip()) for name in card.TEXT_FIELDS}
        summary, goal = draft.get("summary", self.summary), draft.get("goal", self.goal)
        users_description = draft.get("users_description", self.users_description)
        developers = draft["developers"] if "developers" in draft else self.developers.all()
        new_assumption = [draft["assumption"]] if draft.get("assumption") is not None else []
        return [
            ("Model description", bool(summary.strip()) and filled["description"]),
            ("Goal (the problem it solves)", bool(goal.strip())),
            ("A registered version", version is not None or typed is not None),
            ("Algorithm or architecture", bool(algorithm.strip())),
            ("Training data", training),
            ("Diagnostic metrics", metrics),
            ("Quality gates (metric thresholds)", bool(thresholds)),
            ("Model assumptions (verified)", self.assumptions_verified_until(new_assumption) is not None),
            ("Model limitations", filled["limitations"]),
            ("Intended uses", filled["intended_uses"]),
            ("Out-of-scope uses", filled["out_of_scope_uses"]),
            ("Fairness considerations", filled["fairness_considerations"]),
            ("Fairness validation result", filled["fairness_validation"]),
            ("How the model was validated", filled["validation"]),
            ("Model owner", self.asset.owner_id is not None),
            ("Developers", bool(developers)),
            ("Users and their needs", bool(users_description.strip()) or bool(self.model_users.all())
             or draft.get("user") is not None),
            ("Other comments and learnings", filled["comments"]),
            ("Introduction", filled["introduction"]),
            ("The problem", filled["problem"]),
            ("The data set", filled["data"]),
            ("Methodology", filled["data_preparation"] and filled["approach"]),
            ("Results", filled["results"]),
            ("Recommendations", filled["recommendations"]),
        ]  # fmt: skip

    def assumptions_verified_until(self, unsaved=()):
        """The last day every assumption still counts as verified; None when one needs verifying today or there are
        none. The card's completeness changes by the clock alone the day after. ``unsaved``: assumptions the editor
        is adding, counted as if saved."""
        assumptions = list(self.assumptions.all()) + list(unsaved)
        today = timezone.localdate()
        if not assumptions or any(item.needs_verifying(today) for item in assumptions):
            return None
        return min(item.expires_on for item in assumptions)

    def card_completeness(self, card=None, draft=None):
        """(percent 0 to 100, labels of the missing sections). Rounded down, so 100 means nothing is missing."""
        sections = self.card_sections(card, draft)
        missing = [label for label, filled in sections if not filled]
        return 100 * (len(sections) - len(missing)) // len(sections), missing

    def can_approve(self, user, can_edit=None):
        """Staff, and the configured approvers; with none configured, whoever may edit the model (``can_edit``
        when the caller already knows it, as the pages do)."""
        if not user.is_authenticated:
            return False
        if user.is_staff:
            return True
        approver_ids = {approver.pk for approver in self.approvers.all()}
        if approver_ids:
            return user.pk in approver_ids
        return can_edit if can_edit is not None else self.asset.can_edit(user)


class ModelUser(models.Model):
    """A team or organisation that relies on the model, and what it needs from it."""

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="model_users")
    name = models.CharField(max_length=200, help_text="The team or organisation.")
    kind = models.CharField(max_length=20, choices=ModelUserKind.choices, default=ModelUserKind.INTERNAL)
    needs = models.TextField(blank=True, help_text="What they use the model for and what they expect of it.")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["model", "name"], name="modeluser_unique_name_per_model")]

    def __str__(self):
        return self.name

    def clean(self):
        # The unique constraint names ``model``, which forms leave out; check it here so they show a field error.
        others = ModelUser.objects.filter(model_id=self.model_id, name__iexact=self.name).exclude(pk=self.pk)
        if self.model_id and others.exists():
            raise ValidationError({"name": f"{self.name} is already listed as a user of this model."})


class Assumption(models.Model):
    """Something the model takes for granted about the world; it must be checked again every so often."""

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="assumptions")
    statement = models.TextField()
    verified_on = models.DateField(null=True, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    valid_for_days = models.PositiveIntegerField(
        default=180, help_text="After this many days the assumption must be verified again."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return self.statement[:80]

    @property
    def expires_on(self):
        return self.verified_on + timedelta(days=self.valid_for_days) if self.verified_on else None

    def needs_verifying(self, today=None):
        """Never verified, or verified too long ago."""
        return self.verified_on is None or self.expires_on < (today or timezone.localdate())

    def verify(self, by):
        self.verified_on, self.verified_by = timezone.localdate(), by
        with transaction.atomic():
            self.save(update_fields=["verified_on", "verified_by"])
            send_card_changed(self.model_id)
