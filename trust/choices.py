from django.db import models


class TrustLevel(models.TextChoices):
    TRUSTED = "trusted", "Trusted"
    CAUTION = "caution", "Use with caution"
    DO_NOT_USE = "do_not_use", "Do not use"
    UNKNOWN = "unknown", "Unknown"


class IssueStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    IN_PROGRESS = "in_progress", "In progress"
    RESOLVED = "resolved", "Resolved"
    WONT_FIX = "wont_fix", "Won't fix"
    DUPLICATE = "duplicate", "Duplicate"


class IssueSeverity(models.TextChoices):
    CRITICAL = "critical", "Critical — the data is wrong or unusable"
    MAJOR = "major", "Major — some results are wrong"
    MINOR = "minor", "Minor — an annoyance"


class IssueCategory(models.TextChoices):
    WRONG_VALUES = "wrong_values", "Wrong values"
    MISSING_DATA = "missing_data", "Missing data"
    LATE_DATA = "late_data", "Late data"
    SCHEMA_CHANGE = "schema_change", "Schema change"
    ACCESS = "access", "Access"
    OTHER = "other", "Other"


class DeprecationState(models.TextChoices):
    ANNOUNCED = "announced", "Announced"
    WITHDRAWN = "withdrawn", "Withdrawn"
    RETIRED = "retired", "Retired"


class ReviewNoticeKind(models.TextChoices):
    REMINDER = "reminder", "Review coming up"
    OVERDUE = "overdue", "Review overdue"


class ProblemTransition(models.TextChoices):
    STARTED = "started", "Started"
    CLEARED = "cleared", "Cleared"


class NoticeState(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    SILENCED = "silenced", "Silenced (in maintenance)"
