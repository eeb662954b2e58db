from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from catalog.choices import AssetKind
from catalog.models import Asset, Dataset
from registry.choices import ALLOWED_MOVES, ChecklistItem, ModelUserKind, PromotionState, Stage
from registry.events import send_card_changed


class PromotionBlocked(ValidationError):
    """A promotion cannot go ahead; ``missing`` names each unmet requirement in plain words."""

    def __init__(self, missing):
        self.missing = list(missing)
        super().__init__(["Promotion refused. Still missing: " + "; ".join(self.missing) + "."])


class CardEditConflict(Exception):
    """Someone saved the card after the editor opened it; ``revision`` is the change they would overwrite."""

    def __init__(self, revision):
        self.revision = revision
        author = revision.author.get_username() if revision and revision.author else "someone"
        super().__init__(f"{author} changed this card after you opened it (revision {revision.number}).")


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
    versions = ModelVersion.objects.only("asset_id", "model_id", "version", "stage", "algorithm").annotate(
        # Whether there are any, not the rows: a page of models has about a thousand metrics.
        training_data_recorded=models.Exists(
            ModelVersion.training_datasets.through.objects.filter(modelversion_id=models.OuterRef("pk"))
        ),
        metrics_recorded=models.Exists(Metric.objects.filter(version_id=models.OuterRef("pk"))),
    )
    return ["assumptions", "developers", "model_users", models.Prefetch("versions", queryset=versions)]


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
        try:
            return self.card
        except ModelCard.DoesNotExist:
            return ModelCard(model=self)

    def card_sections(self):
        """Every section a trustworthy card answers, as (label, filled) in reading order."""
        card = self.get_card()
        version = self.current_version()
        filled = {name: bool(getattr(card, name).strip()) for name in ModelCard.TEXT_FIELDS}
        return [
            ("Model description", bool(self.summary.strip()) and filled["description"]),
            ("Goal (the problem it solves)", bool(self.goal.strip())),
            ("A registered version", version is not None),
            ("Algorithm or architecture", bool(version and version.algorithm.strip())),
            ("Training data", bool(version and version.has_training_data())),
            ("Diagnostic metrics", bool(version and version.has_metrics())),
            ("Model assumptions (verified)", self.assumptions_verified_until() is not None),
            ("Model limitations", filled["limitations"]),
            ("Intended uses", filled["intended_uses"]),
            ("Out-of-scope uses", filled["out_of_scope_uses"]),
            ("Fairness considerations", filled["fairness_considerations"]),
            ("Fairness validation result", filled["fairness_validation"]),
            ("How the model was validated", filled["validation"]),
            ("Model owner", self.asset.owner_id is not None),
            ("Developers", bool(self.developers.all())),
            ("Users and their needs", bool(self.users_description.strip()) or bool(self.model_users.all())),
            ("Other comments and learnings", filled["comments"]),
            ("Introduction", filled["introduction"]),
            ("The problem", filled["problem"]),
            ("The data set", filled["data"]),
            ("Methodology", filled["data_preparation"] and filled["approach"]),
            ("Results", filled["results"]),
            ("Recommendations", filled["recommendations"]),
        ]  # fmt: skip

    def assumptions_verified_until(self):
        """The last day every assumption still counts as verified; None when one needs verifying today or there are
        none. The card's completeness changes by the clock alone the day after."""
        assumptions = list(self.assumptions.all())
        today = timezone.localdate()
        if not assumptions or any(item.needs_verifying(today) for item in assumptions):
            return None
        return min(item.expires_on for item in assumptions)

    def card_completeness(self):
        """(percent 0 to 100, labels of the missing sections). Rounded down, so 100 means nothing is missing."""
        sections = self.card_sections()
        missing = [label for label, filled in sections if not filled]
        return 100 * (len(sections) - len(missing)) // len(sections), missing

    def can_approve(self, user):
        """Staff, and the configured approvers; with none configured, whoever may edit the model."""
        if not user.is_authenticated:
            return False
        if user.is_staff:
            return True
        approver_ids = {approver.pk for approver in self.approvers.all()}
        return user.pk in approver_ids if approver_ids else self.asset.can_edit(user)


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
    snapshot_url = models.URLField("data snapshot", blank=True, help_text="Link to the frozen training data.")
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
        return blockers

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
    link = models.URLField(blank=True, help_text="Evidence: a review, a meeting note, the repository.")

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
            raise ValidationError("You are not one of the people who may approve promotions of this model.")
        with transaction.atomic():
            blockers = ModelVersion.objects.get(pk=self.version_id).promotion_blockers()
            if blockers:
                raise PromotionBlocked(blockers)
            self._decide(PromotionState.APPROVED, by, note)
            requester = self.requested_by.get_username() if self.requested_by else "someone"
            reason = f"Promotion requested by {requester}, approved by {by.get_username()}. {note}".strip()
            self.version._move(Stage.PRODUCTION, by, reason, promotion=self)

    def reject(self, by, note=""):
        if not self.model.can_approve(by):
            raise ValidationError("You are not one of the people who may decide promotions of this model.")
        self._decide(PromotionState.REJECTED, by, note)

    def withdraw(self, by):
        if by.pk != self.requested_by_id and not self.model.asset.can_edit(by):
            raise ValidationError("Only the requester or the model's owners can withdraw this request.")
        self._decide(PromotionState.WITHDRAWN, by, "")


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


class ModelCard(models.Model):
    """The owner's prose about a model; the card page combines it with the current version's facts.

    ``revision`` counts saved edits and is the optimistic lock: an edit names the revision it started from and is
    refused when the card has moved on (``edit`` raises ``CardEditConflict``). Every edit writes a full snapshot
    to ``CardRevision``.
    """

    TEXT_FIELDS = [
        "description", "intended_uses", "out_of_scope_uses", "limitations", "fairness_considerations",
        "fairness_validation", "validation", "comments", "introduction", "problem", "data", "data_preparation",
        "approach", "results", "recommendations",
    ]  # fmt: skip

    model = models.OneToOneField(RegisteredModel, primary_key=True, on_delete=models.CASCADE, related_name="card")
    description = models.TextField(
        blank=True, help_text="Where the model comes from, what it predicts, its size and date, the features it uses."
    )
    intended_uses = models.TextField(blank=True, help_text="What the model is meant for, and by whom.")
    out_of_scope_uses = models.TextField(blank=True, help_text="Uses the model must not be put to.")
    limitations = models.TextField("model limitations", blank=True, help_text="Where the model is known to be weak.")
    fairness_considerations = models.TextField(
        blank=True, help_text="Groups that could be treated unfairly, sensitive features, mitigations."
    )
    fairness_validation = models.TextField(
        "fairness validation result", blank=True, help_text="How fairness was checked and what the check found."
    )
    validation = models.TextField(
        "how the model was validated", blank=True, help_text="Validation method, data, and who reviewed it."
    )
    comments = models.TextField("other comments and learnings", blank=True, help_text="What was learned.")
    introduction = models.TextField(blank=True, help_text="The project in a paragraph.")
    problem = models.TextField("the problem", blank=True, help_text="The business problem being solved.")
    data = models.TextField("the data set", blank=True, help_text="The data: origin, size, period, features.")
    data_preparation = models.TextField("how the data was prepared", blank=True)
    approach = models.TextField(
        "machine learning / statistical approach", blank=True, help_text="The approach taken to get the results."
    )
    results = models.TextField(blank=True)
    recommendations = models.TextField(blank=True, help_text="Recommendations based on the results.")
    revision = models.PositiveIntegerField(default=0, help_text="Number of saved edits; the optimistic lock.")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Card of {self.model}"

    def snapshot(self):
        return {name: getattr(self, name) for name in self.TEXT_FIELDS}

    def edit(self, changes, by, base_revision, restored_from=None):
        """Save ``changes`` (field → text) made on top of ``base_revision``; returns the new revision or None.

        Refused with ``CardEditConflict`` when someone saved after ``base_revision``, so nobody overwrites text
        they never saw.
        """
        unknown = set(changes) - set(self.TEXT_FIELDS)
        if unknown:
            raise ValidationError(f"Not a card section: {', '.join(sorted(unknown))}.")
        with transaction.atomic():
            card = ModelCard.objects.select_for_update().get(pk=self.pk)
            if card.revision != base_revision:
                raise CardEditConflict(card.revisions.select_related("author").get(number=card.revision))
            changed = [name for name, text in changes.items() if getattr(card, name) != text]
            if not changed:
                return None
            for name in changed:
                setattr(card, name, changes[name])
            card.revision += 1
            card.updated_by = by
            card.save()
            revision = CardRevision.objects.create(
                card=card,
                number=card.revision,
                author=by,
                changed_fields=changed,
                snapshot=card.snapshot(),
                restored_from=restored_from,
            )
            send_card_changed(card.model_id)
        self.refresh_from_db()
        return revision

    def restore(self, number, by, base_revision):
        """Bring back the text of revision ``number`` as a new revision; history is never rewritten."""
        old = self.revisions.get(number=number)
        return self.edit(old.snapshot, by, base_revision, restored_from=number)


class CardRevision(models.Model):
    """A saved edit of a model card: who, when, which sections, and the full text after the edit."""

    card = models.ForeignKey(ModelCard, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    changed_fields = models.JSONField(default=list)
    snapshot = models.JSONField(default=dict)
    restored_from = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["card", "number"], name="cardrevision_unique_number")]

    def __str__(self):
        return f"{self.card} revision {self.number}"

    def changed_labels(self):
        return [ModelCard._meta.get_field(name).verbose_name.capitalize() for name in self.changed_fields]
