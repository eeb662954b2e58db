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
    OTHER = "other", "Other"
