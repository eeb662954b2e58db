"""Versions of a model, their metrics and stages, and the promotion into use with its checklist and approval."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from catalog.models import Asset, Dataset
from core.validators import web_url_validator
from registry.choices import ALLOWED_MOVES, ChecklistItem, PromotionState, Stage
from registry.events import send_card_changed, send_version_promoted
from registry.models.gates import gate_blockers
from registry.models.models import PromotionBlocked, RegisteredModel


class ModelVersion(models.Model):
    """One trained artifact of a registered model, moving through stages.

    Stages move only through ``change_stage`` (and ``PromotionRequest.approve`` for Production), which check the
    move against ``ALLOWED_MOVES`` under a row lock and record a ``StageChange``; ``clean()`` applies the same rule
    to forms such as the admin's.
    """

    asset = models.OneToOneField(Asset, primary_key=True, on_delete=models.CASCADE, related_name="model_version")
    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.DEVELOPMENT, db_index=True)
    algorithm = models.CharField("algorithm or architecture", max_length=200, blank=True)
    hyperparameters = models.JSONField(default=dict, blank=True)
    features = models.JSONField(default=list, blank=True)
    training_datasets = models.ManyToManyField(Dataset, blank=True, related_name="trained_versions")
    evaluation_datasets = models.ManyToManyField(Dataset, blank=True, related_name="evaluated_versions")
    snapshot_url = models.URLField(
        "data snapshot", blank=True, validators=[web_url_validator], help_text="Link to the frozen training data."
    )
    size_bytes = models.BigIntegerField("model size (bytes)", null=True, blank=True)
    mlflow_run_id = models.CharField(max_length=64, blank=True)
    model_uri = models.CharField(max_length=500, blank=True)
    mlflow_version = models.PositiveIntegerField(null=True, blank=True, help_text="Its number in MLflow's registry.")
    mlflow_tags = models.JSONField(default=dict, blank=True)
    mlflow_aliases = models.JSONField(default=list, blank=True)
    run_params = models.JSONField(default=dict, blank=True, help_text="The MLflow run's parameters, as last synced.")
    run_metrics = models.JSONField(default=dict, blank=True, help_text="The MLflow run's metrics, as last synced.")
    passed_thresholds = models.BooleanField(
        null=True, blank=True, help_text="Whether the metrics met the thresholds set for the training run."
    )
    threshold_results = models.JSONField(
        default=dict, blank=True, help_text='{"metric": {"threshold": 0.8, "value": 0.83, "passed": true}}'
    )
    reference_profile = models.JSONField(
        default=dict, blank=True, help_text="The training data's profile, for monitoring (registry.profiles)."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="version_unique_number_per_model"),
            # At most one version of a model is in use at a time; the database enforces it too.
            models.UniqueConstraint(
                fields=["model"], condition=Q(stage=Stage.PRODUCTION), name="version_one_production_per_model"
            ),
            models.UniqueConstraint(
                fields=["model", "mlflow_version"],
                condition=Q(mlflow_version__isnull=False),
                name="version_unique_mlflow_version",
            ),
        ]

    def __str__(self):
        return f"{self.model} v{self.version}"

    def get_absolute_url(self):
        return reverse("registry:version_detail", kwargs={"slug": self.model.asset.slug, "number": self.version})

    def has_training_data(self):
        """Whether a training dataset is recorded; lists of models annotate it (``completeness_prefetches``)."""
        recorded = getattr(self, "training_data_recorded", None)
        return recorded if recorded is not None else bool(self.training_datasets.all())

    def has_metrics(self):
        recorded = getattr(self, "metrics_recorded", None)
        return recorded if recorded is not None else bool(self.metrics.all())

    @staticmethod
    def move_error(current, to, *, approved=False):
        """Why a version cannot go from ``current`` to ``to``, or "" when it may."""
        current, to = Stage(current), Stage(to)
        if to == current:
            return f"The version is already {to.label.lower()}."
        if to == Stage.PRODUCTION:
            if current != Stage.STAGING:
                return f"A version that is {current.label.lower()} must be in validation before it can be in use."
            return "" if approved else "A version goes into use only through an approved promotion request."
        if to not in ALLOWED_MOVES[current]:
            allowed = ", ".join(sorted(stage.label.lower() for stage in ALLOWED_MOVES[current]))
            return (
                f"A version that is {current.label.lower()} cannot become {to.label.lower()}; it can become {allowed}."
            )
        return ""

    def clean(self):
        if self.pk:
            stored = ModelVersion.objects.filter(pk=self.pk).values_list("stage", flat=True).first()
            if stored and stored != self.stage:
                error = self.move_error(stored, self.stage)
                if error:
                    raise ValidationError({"stage": error})

    def change_stage(self, to, by, reason=""):
        """Move this version to another stage, recorded with actor and time; ValidationError for illegal moves."""
        if to not in Stage.values:
            raise ValidationError(f"{to!r} is not a stage.")
        return self._move(Stage(to), by, reason)

    def _move(self, to, by, reason, promotion=None):
        with transaction.atomic():
            current = ModelVersion.objects.select_for_update().get(pk=self.pk)
            error = self.move_error(current.stage, to, approved=promotion is not None)
            if error:
                raise ValidationError(error)
            if to == Stage.PRODUCTION:
                self._retire_previous(by, promotion)
            ModelVersion.objects.filter(pk=self.pk, stage=current.stage).update(stage=to)
            change = StageChange.objects.create(
                version=self, from_stage=current.stage, to_stage=to, actor=by, reason=reason, promotion=promotion
            )
            send_card_changed(self.model_id)
        self.stage = to
        return change

    def _retire_previous(self, by, promotion):
        # Retired first: the partial unique index allows one production row per model at every instant.
        for previous in ModelVersion.objects.select_for_update().filter(model_id=self.model_id, stage=Stage.PRODUCTION):
            ModelVersion.objects.filter(pk=previous.pk, stage=Stage.PRODUCTION).update(stage=Stage.ARCHIVED)
            StageChange.objects.create(
                version=previous,
                from_stage=Stage.PRODUCTION,
                to_stage=Stage.ARCHIVED,
                actor=by,
                reason=f"Replaced by v{self.version}.",
                promotion=promotion,
            )

    def checklist(self):
        """[(item, tick or None)] for every checklist item, in the checklist's order."""
        ticks = {tick.item: tick for tick in self.checklist_ticks.all()}
        return [(item, ticks.get(item.value)) for item in ChecklistItem]

    def promotion_blockers(self):
        """Everything that keeps this version out of use, in plain words; empty when it may be promoted."""
        blockers = []
        if self.stage != Stage.STAGING:
            blockers.append(f"the version must be in validation (it is {self.get_stage_display().lower()})")
        blockers += [f"checklist: {item.label}" for item, tick in self.checklist() if tick is None]
        percent, missing = self.model.card_completeness()
        threshold = settings.MODEL_CARD_COMPLETENESS_THRESHOLD
        if percent < threshold:
            blockers.append(
                f"model card {percent}% complete, needs {threshold}% (missing sections: {', '.join(missing)})"
            )
        return blockers + gate_blockers(self)

    def tick(self, item, by, link=""):
        """Record that ``by`` checked ``item`` now; ticking again updates who, when and the link."""
        tick = ChecklistTick(version=self, item=item, ticked_by=by, link=link, ticked_at=timezone.now())
        tick.full_clean(validate_unique=False, validate_constraints=False)
        tick, _ = ChecklistTick.objects.update_or_create(
            version=self, item=item, defaults={"ticked_by": by, "link": link, "ticked_at": tick.ticked_at}
        )
        return tick

    def untick(self, item):
        return ChecklistTick.objects.filter(version=self, item=item).delete()[0] > 0


class Metric(models.Model):
    """A diagnostic metric of a version, and the dataset or split it was computed on."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=100)
    value = models.FloatField()
    split = models.CharField(max_length=100, blank=True, help_text="e.g. 'test', or the evaluation dataset's name.")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["version", "name", "split"], name="metric_unique_per_split")]

    def __str__(self):
        return f"{self.name}={self.value:g}"


class StageChange(models.Model):
    """One move of a version between stages: the history shown on the version page, never edited."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=20, choices=Stage.choices)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    reason = models.TextField(blank=True)
    promotion = models.ForeignKey(
        "PromotionRequest", null=True, blank=True, on_delete=models.SET_NULL, related_name="stage_changes"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.version}: {self.get_from_stage_display()} → {self.get_to_stage_display()}"


class ChecklistTick(models.Model):
    """Someone vouched for one production-readiness item of a version, at a time, optionally with evidence."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="checklist_ticks")
    item = models.CharField(max_length=40, choices=ChecklistItem.choices)
    ticked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    ticked_at = models.DateTimeField(default=timezone.now)
    link = models.URLField(
        blank=True, validators=[web_url_validator], help_text="Evidence: a review, a meeting note, the repository."
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "item"], name="checklisttick_unique_item")]

    def __str__(self):
        return f"{self.version}: {self.get_item_display()}"

    def clean(self):
        if self.item == ChecklistItem.VERSION_CONTROL and not self.link:
            raise ValidationError({"link": "Give the link to the code in version control."})


class PromotionRequest(models.Model):
    """A request to put a version into use, approved by someone other than the requester.

    pending → approved (the version moves to Production, the previous one is retired) | rejected | withdrawn.
    Each move is a compare-and-set on ``state``.
    """

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="promotion_requests")
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="promotion_requests")
    state = models.CharField(max_length=20, choices=PromotionState.choices, default=PromotionState.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["version"], condition=Q(state="pending"), name="promotion_one_pending_per_version"
            )
        ]

    def __str__(self):
        return f"Promote {self.version} ({self.get_state_display().lower()})"

    @classmethod
    def open(cls, model, version, by, note=""):
        """Ask for ``version`` to go into use. Refused, naming every unmet item, unless the gate is complete.
        ``registry.services.request_promotion`` calls this and tells the approvers."""
        if version.model_id != model.pk:
            raise ValidationError(f"{version} belongs to another model; it cannot be promoted as {model}.")
        with transaction.atomic():
            version = ModelVersion.objects.select_for_update().get(pk=version.pk)
            if version.promotion_requests.filter(state=PromotionState.PENDING).exists():
                raise ValidationError(f"A promotion of {version} is already waiting for approval.")
            blockers = version.promotion_blockers()
            if blockers:
                raise PromotionBlocked(blockers)
            return cls.objects.create(model=model, version=version, requested_by=by, note=note)

    def clean(self):
        if self.version_id and self.model_id and self.version.model_id != self.model_id:
            raise ValidationError({"version": "This version belongs to another model."})

    def _decide(self, state, by, note):
        updated = PromotionRequest.objects.filter(pk=self.pk, state=PromotionState.PENDING).update(
            state=state, decided_by=by, decided_at=timezone.now(), decision_note=note
        )
        if updated != 1:
            self.refresh_from_db()
            raise ValidationError(f"This request is already {self.get_state_display().lower()}.")
        self.refresh_from_db()

    def approve(self, by, note=""):
        """Put the version into use and retire the previous one, if the gate is still complete."""
        if by.pk == self.requested_by_id:
            raise ValidationError("You requested this promotion; another person must approve it.")
        if not self.model.can_approve(by):
            raise PermissionDenied("You are not one of the people who may approve promotions of this model.")
        with transaction.atomic():
            blockers = ModelVersion.objects.get(pk=self.version_id).promotion_blockers()
            if blockers:
                raise PromotionBlocked(blockers)
            self._decide(PromotionState.APPROVED, by, note)
            requester = self.requested_by.get_username() if self.requested_by else "someone"
            reason = f"Promotion requested by {requester}, approved by {by.get_username()}. {note}".strip()
            self.version._move(Stage.PRODUCTION, by, reason, promotion=self)
            send_version_promoted(self.version_id, self.pk)

    def reject(self, by, note=""):
        if not self.model.can_approve(by):
            raise PermissionDenied("You are not one of the people who may decide promotions of this model.")
        self._decide(PromotionState.REJECTED, by, note)

    def withdraw(self, by):
        if by.pk != self.requested_by_id and not self.model.asset.can_edit(by):
            raise PermissionDenied("Only the requester or the model's owners can withdraw this request.")
        self._decide(PromotionState.WITHDRAWN, by, "")


def recorded_annotations():
    """Whether each version has training data and metrics recorded, as the annotations ``has_training_data`` and
    ``has_metrics`` read: for lists of versions (the card's completeness, the maturity list), EXISTS rather than
    the rows."""
    return {
        "training_data_recorded": models.Exists(
            ModelVersion.training_datasets.through.objects.filter(modelversion_id=models.OuterRef("pk"))
        ),
        "metrics_recorded": models.Exists(Metric.objects.filter(version_id=models.OuterRef("pk"))),
    }
