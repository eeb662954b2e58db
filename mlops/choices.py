from django.db import models


class MonitoringStatus(models.TextChoices):
    """A model in use, as monitoring last found it. Worst first in ``SEVERITY``."""

    NOT_MONITORED = "not_monitored", "Not monitored"
    HEALTHY = "healthy", "Healthy"
    DRIFTING = "drifting", "Drifting"
    DEGRADED = "degraded", "Performance below threshold"


SEVERITY = [MonitoringStatus.DEGRADED, MonitoringStatus.DRIFTING, MonitoringStatus.HEALTHY]


class CheckKind(models.TextChoices):
    FEATURE_DRIFT = "feature_drift", "Feature drift"
    PREDICTION_DRIFT = "prediction_drift", "Prediction drift"
    MISSING = "missing", "Missing values"
    OUT_OF_RANGE = "out_of_range", "Out of training range"
    PERFORMANCE = "performance", "Performance"


class CheckStatus(models.TextChoices):
    OK = "ok", "OK"
    WARNING = "warning", "Warning"
    ALERT = "alert", "Alert"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Gave up"
