"""What the portal keeps about a model after go-live.

- ``ModelOps``: one row per registered model, its monitoring thresholds and status (compare-and-set on
  ``status``), its challenger in shadow and its retraining policy.
- ``Prediction`` and ``Outcome``: the prediction log (one row per scored row, by version) and the true values,
  arriving later, by prediction id. Stored in PostgreSQL with a BRIN index on the prediction time (cheap to keep
  on an append-mostly table), deleted after ``PREDICTION_RETENTION_DAYS``.
- ``MonitoringRun`` and ``MonitoringResult``: each run of the monitoring job and what each check found.
- ``ScoringSchedule``: batch scoring on a schedule, set by the model's owner and started by beat.
- ``DeliveryHook`` and ``WebhookDelivery``: a team's signed webhook URLs and the log of every delivery (the outbox).
"""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from core import outbound
from core.validators import web_url_validator
from mlops.choices import CheckKind, CheckStatus, DeliveryState, MonitoringStatus

MAX_EVERY_HOURS = 744  # a month of 31 days
EVERY_HOURS_RANGE = f"Every 1 to {MAX_EVERY_HOURS} hours (a month at most)."


class ModelOps(models.Model):
    """A model's life in use: thresholds for monitoring, its current status, challenger and retraining policy.

    ``status`` moves only through ``mlops.monitoring.set_status`` (a compare-and-set), which raises one alert per
    transition and sends ``monitoring_changed``.
    """

    model = models.OneToOneField("registry.RegisteredModel", primary_key=True, on_delete=models.CASCADE,
                                 related_name="ops")  # fmt: skip
    psi_threshold = models.FloatField(default=0.2, help_text="PSI above this on a feature or the predictions: drift.")
    ks_p_value = models.FloatField(default=0.01, help_text="A KS test p-value below this on a numeric feature: drift.")
    missing_rate_limit = models.FloatField(default=0.1, help_text="More missing values than this share: alert.")
    out_of_range_limit = models.FloatField(default=0.05, help_text="More values outside the training range: alert.")
    status = models.CharField(max_length=20, choices=MonitoringStatus.choices, default=MonitoringStatus.NOT_MONITORED)
    status_since = models.DateTimeField(null=True, blank=True)
    status_reason = models.TextField(blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    challenger = models.ForeignKey(
        "registry.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="A version scoring the same rows in shadow.",
    )  # fmt: skip
    prediction_table = models.ForeignKey(
        "catalog.Dataset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="A table (of a SQLite, PostgreSQL or MySQL source) where the team's own batch scoring writes "
        "predictions: columns id, "
        "time, prediction, optional score, the features. Read incrementally before each monitoring run.",
    )  # fmt: skip
    # The largest ``time`` read from the prediction table, as the table stores it (compared as the table compares).
    prediction_table_read_until = models.CharField(max_length=64, blank=True)
    retrain_on_drift = models.BooleanField(default=False, help_text="Start a training run when an alert fires.")
    retrain_every_days = models.PositiveIntegerField(default=7, help_text="At most one retraining per this many days.")
    last_retrained_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.model}: {self.get_status_display().lower()}"


class Prediction(models.Model):
    """One row a version scored: its id (the caller's), when, its features, the prediction and an optional score.
    A challenger's shadow prediction of the same row has the same ``prediction_id`` under its own version."""

    id = models.BigAutoField(primary_key=True)
    # No foreign key constraints in the database (Django still cascades a deleted model or version to its rows):
    # PostgreSQL checks deferred constraints row by row at commit, two lookups per prediction, which cost a third
    # of an ingested batch's time. Ingest writes only a version it has just read, in the same transaction.
    model = models.ForeignKey("registry.RegisteredModel", on_delete=models.CASCADE, related_name="+",
                              db_index=False, db_constraint=False)  # fmt: skip
    version = models.ForeignKey("registry.ModelVersion", on_delete=models.CASCADE, related_name="+", db_index=False,
                                db_constraint=False)  # fmt: skip
    prediction_id = models.CharField(max_length=100)
    predicted_at = models.DateTimeField()
    features = models.JSONField(default=dict)
    prediction = models.JSONField()
    score = models.FloatField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "prediction_id"], name="prediction_unique_id_per_version")
        ]
        # (version, time) serves the monitoring window and the pages; the BRIN index on predicted_at alone (the
        # purge's range delete) is added on PostgreSQL only by migration 0002.
        indexes = [models.Index(fields=["version", "predicted_at"], name="prediction_version_time")]

    def __str__(self):
        return f"{self.prediction_id}: {self.prediction}"


class Outcome(models.Model):
    """The true value for a prediction id of a model, whenever it becomes known."""

    id = models.BigAutoField(primary_key=True)
    model = models.ForeignKey("registry.RegisteredModel", on_delete=models.CASCADE, related_name="+",
                              db_index=False)  # fmt: skip
    prediction_id = models.CharField(max_length=100)
    value = models.JSONField()
    observed_at = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "prediction_id"], name="outcome_unique_per_model")]

    def __str__(self):
        return f"{self.prediction_id}: {self.value}"


class MonitoringRun(models.Model):
    """One pass of the monitoring job over a window of a model's predictions."""

    model = models.ForeignKey("registry.RegisteredModel", on_delete=models.CASCADE, related_name="monitoring_runs")
    version = models.ForeignKey("registry.ModelVersion", null=True, on_delete=models.SET_NULL, related_name="+")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    rows = models.PositiveIntegerField(default=0)
    labelled_rows = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=20, choices=MonitoringStatus.choices)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-window_end", "-pk"]
        indexes = [models.Index(fields=["model", "-window_end"], name="monitoringrun_model_recent")]

    def __str__(self):
        return f"{self.model} to {self.window_end:%Y-%m-%d %H:%M}: {self.status}"


class MonitoringResult(models.Model):
    """What one check found in one run: a feature's drift, the predictions' drift, a missing rate, a metric."""

    run = models.ForeignKey(MonitoringRun, on_delete=models.CASCADE, related_name="results")
    kind = models.CharField(max_length=20, choices=CheckKind.choices)
    name = models.CharField(max_length=200, help_text="The feature or metric.")
    value = models.FloatField(null=True, help_text="PSI, share of rows, or the metric's value.")
    ks_p_value = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=CheckStatus.choices, default=CheckStatus.OK)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.name}: {self.status}"


class ScoringScheduleQuerySet(models.QuerySet):
    def of_model(self, model):
        """A model's schedules as its page and the API show them."""
        return self.filter(model=model).select_related("version", "dataset__asset", "last_run")


class ScoringSchedule(models.Model):
    """Batch scoring on a schedule the model's owner sets: every ``every_hours`` hours beat starts the scoring job of
    ``version`` (the version in use when none is chosen) over ``dataset``. Each start claims the schedule by moving
    ``next_run_at`` forward (compare-and-set), so two beats never start the same run. The rules for a schedule are
    its fields' validators and ``clean()``, which the page's form and the API's serializer both run."""

    model = models.ForeignKey("registry.RegisteredModel", on_delete=models.CASCADE, related_name="scoring_schedules")
    version = models.ForeignKey(
        "registry.ModelVersion", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="Empty: whichever version is in use when the run starts.",
    )  # fmt: skip
    dataset = models.ForeignKey("catalog.Dataset", on_delete=models.CASCADE, related_name="+",
                                help_text="CSV or Parquet under DATA_ROOT, or a table of a SQL source.")  # fmt: skip
    id_column = models.CharField(max_length=100, blank=True, help_text="The input's column of row ids (optional).")
    every_hours = models.PositiveIntegerField(
        default=24,
        validators=[MinValueValidator(1, EVERY_HOURS_RANGE), MaxValueValidator(MAX_EVERY_HOURS, EVERY_HOURS_RANGE)],
        help_text="Hours between two runs (1 to 744).",
    )  # fmt: skip
    next_run_at = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(default=True)
    last_run = models.ForeignKey("core.JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_note = models.CharField(max_length=300, blank=True, help_text="Why the last due run was not started.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScoringScheduleQuerySet.as_manager()

    class Meta:
        ordering = ["model", "pk"]
        indexes = [models.Index(fields=["next_run_at"], condition=models.Q(active=True), name="scoringschedule_due")]

    def __str__(self):
        which = f"v{self.version.version}" if self.version_id else "the version in use"
        return f"{self.model}: {which} over {self.dataset} every {self.every_hours} h"

    def clean(self):
        from mlops.scoring import check_scorable

        if self.version_id and self.model_id and self.version.model_id != self.model_id:
            raise ValidationError({"version": f"v{self.version.version} is a version of another model."})
        if self.dataset_id:
            check_scorable(self.dataset)


def new_secret():
    return secrets.token_hex(32)


class DeliveryHook(models.Model):
    """A URL a team registered to hear when one of its models goes into use, signed with the hook's secret."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="delivery_hooks")
    url = models.URLField(max_length=500, validators=[web_url_validator])
    secret = models.CharField(max_length=64, default=new_secret, editable=False)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team", "url"]
        constraints = [models.UniqueConstraint(fields=["team", "url"], name="deliveryhook_unique_url_per_team")]

    def __str__(self):
        return self.url

    def clean(self):
        try:
            outbound.check_url(self.url)
        except outbound.OutboundRefused as exc:
            raise ValidationError({"url": str(exc)}) from None


class WebhookDelivery(models.Model):
    """One event for one hook: the outbox row and its log. pending → delivered | failed (after the last attempt).
    Each attempt claims the row by moving ``next_attempt_at`` forward (compare-and-set), so two senders never post
    the same attempt."""

    hook = models.ForeignKey(DeliveryHook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=50)
    payload = models.JSONField()
    state = models.CharField(max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(state="pending"), name="delivery_due"),
        ]

    def __str__(self):
        return f"{self.event} to {self.hook}: {self.state}"
