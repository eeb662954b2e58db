"""The shared vocabulary of background jobs and notifications; every app's kinds are listed here."""

from django.db import models


class NotificationKind(models.TextChoices):
    FRESHNESS = "freshness", "Freshness changed"
    JOB = "job", "Job finished"
    DRIFT = "drift", "Pipeline drift"
    SCHEMA_CHANGE = "schema_change", "Schema changed"
    ISSUE = "issue", "Data issue"
    DEPRECATION = "deprecation", "Deprecation"
    REVIEW = "review", "Review due"
    PROMOTION = "promotion", "Promotion"
    DEPENDENCY = "dependency", "Dependency"
    CHANGE_REQUEST = "change_request", "Change request"
    MODEL_MONITORING = "model_monitoring", "Model monitoring"
    UPSTREAM = "upstream", "Problem upstream"
    DIGEST = "digest", "Digest"
    OTHER = "other", "Other"


class JobKind(models.TextChoices):
    SCHEMA_SCAN = "schema_scan", "Schema scan"
    TRAINING = "training", "Model training"
    MLFLOW_SYNC = "mlflow_sync", "MLflow sync"
    FRESHNESS_CHECK = "freshness_check", "Freshness check"
    MODEL_MONITORING = "model_monitoring", "Model monitoring"
    BATCH_SCORING = "batch_scoring", "Batch scoring"
    RETRAINING = "retraining", "Retraining on drift"
    MLFLOW_ALIAS = "mlflow_alias", "MLflow alias"


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class Cadence(models.TextChoices):
    """How often a channel delivers non-critical news; critical news is always delivered at once."""

    IMMEDIATE = "immediate", "Immediately"
    DAILY = "daily", "Daily digest"
    WEEKLY = "weekly", "Weekly digest"


class Weekday(models.IntegerChoices):
    """The day of a weekly digest (``datetime.weekday()`` numbering)."""

    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class Channel(models.TextChoices):
    INBOX = "inbox", "Inbox"
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Team webhook"
