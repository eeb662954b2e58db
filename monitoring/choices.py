from django.db import models


class FreshnessStatus(models.TextChoices):
    """Computed from timestamps, never typed in. Ordered from best to worst by ``SEVERITY``."""

    FRESH = "fresh", "Fresh"
    LATE = "late", "Late"
    STALE = "stale", "Stale"
    UNKNOWN = "unknown", "Unknown"


# "Stalest" when combining an asset with its inputs: an unknown input is less alarming than a late one.
# The freshness board's order: what needs attention first.
BOARD_ORDER = [FreshnessStatus.STALE, FreshnessStatus.LATE, FreshnessStatus.UNKNOWN, FreshnessStatus.FRESH]
SEVERITY = {FreshnessStatus.FRESH: 0, FreshnessStatus.UNKNOWN: 1, FreshnessStatus.LATE: 2, FreshnessStatus.STALE: 3}


class FilterOperator(models.TextChoices):
    """The comparisons a structured freshness condition may make; the SQL is built from these and nothing else."""

    EQUAL = "=", "equals"
    NOT_EQUAL = "!=", "differs from"
    LESS = "<", "is less than"
    LESS_OR_EQUAL = "<=", "is at most"
    GREATER = ">", "is greater than"
    GREATER_OR_EQUAL = ">=", "is at least"


class FreshnessMethod(models.TextChoices):
    SQL = "sql", "SQL: newest timestamp in a table"
    FILE = "file", "File: modification time under DATA_ROOT"
    HTTP = "http", "HTTP: Last-Modified header or a JSON field"
    HEARTBEAT = "heartbeat", "Heartbeat: the pipeline pings a secret URL"


class ScheduleKind(models.TextChoices):
    PERIOD = "period", "Every period (plus grace)"
    CRON = "cron", "Cron schedule (plus grace)"


class PingKind(models.TextChoices):
    SUCCESS = "success", "Finished"
    START = "start", "Started"
    FAIL = "fail", "Failed"


class DriftMeasure(models.TextChoices):
    DURATION = "duration", "Duration"
    OUTPUT_ROWS = "output_rows", "Output rows"
