from django import forms

from core.limits import StatedLimits
from monitoring.models import FreshnessPolicy


class FreshnessPolicyForm(StatedLimits, forms.ModelForm):
    """Validation is the model's ``clean()``; the API serializer runs the same."""

    class Meta:
        model = FreshnessPolicy
        fields = [
            "method", "schedule_kind", "period", "cron", "time_zone", "grace", "timestamp_column", "sql_filter",
            "file_path", "url", "json_field", "timeout_seconds", "paused",
        ]  # fmt: skip
        labels = {"sql_filter": "SQL filter", "timeout_seconds": "Probe timeout (seconds)", "schedule_kind": "Schedule"}
        help_texts = {
            "period": "As days and time, e.g. '1 00:00:00' for daily or '06:00:00' for every six hours.",
            "grace": "e.g. '02:00:00' for two hours.",
        }
