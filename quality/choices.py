from django.db import models


class CheckOrigin(models.TextChoices):
    DBT = "dbt", "dbt test"
    OPENLINEAGE = "openlineage", "OpenLineage assertion"
    GREAT_EXPECTATIONS = "great_expectations", "Great Expectations"
    SODA = "soda", "Soda"


class Severity(models.TextChoices):
    ERROR = "error", "Error"
    WARN = "warn", "Warning"


class CheckStatus(models.TextChoices):
    """The outcome of one run of a check, in dbt's words. ``warn`` is a failure of a warning-severity check;
    ``error`` means the check itself could not run."""

    PASS = "pass", "Passed"
    WARN = "warn", "Failed (warning)"
    FAIL = "fail", "Failed"
    ERROR = "error", "Could not run"
    SKIPPED = "skipped", "Skipped"


# The statuses that count as "this check is failing" for the badge and the alerts.
FAILING = (CheckStatus.WARN, CheckStatus.FAIL, CheckStatus.ERROR)


class FreshnessStatus(models.TextChoices):
    PASS = "pass", "Fresh"
    WARN = "warn", "Late (warning)"
    ERROR = "error", "Stale (error)"
    RUNTIME_ERROR = "runtime error", "Could not be checked"
