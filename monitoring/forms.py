from django import forms

from core.limits import StatedLimits
from monitoring.models import FreshnessPolicy, MaintenanceWindow
from monitoring.reasons import mask_url


class FreshnessPolicyForm(StatedLimits, forms.ModelForm):
    """Validation is the model's ``clean()``; the API serializer runs the same."""

    class Meta:
        model = FreshnessPolicy
        fields = [
            "method", "schedule_kind", "period", "cron", "time_zone", "grace", "timestamp_column", "filter_column",
            "filter_operator", "filter_value", "sql_filter",
            "file_path", "url", "json_field", "timeout_seconds", "paused",
        ]  # fmt: skip
        labels = {
            "sql_filter": "Free-text SQL condition (legacy)",
            "timeout_seconds": "Probe timeout (seconds)",
            "schedule_kind": "Schedule",
        }
        help_texts = {
            "period": "As days and time, e.g. '1 00:00:00' for daily or '06:00:00' for every six hours.",
            "grace": "e.g. '02:00:00' for two hours.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A token in the probe URL's query string is masked on the page too; sent back unchanged, it is kept.
        if self.instance.pk and self.instance.url:
            self.initial["url"] = mask_url(self.instance.url)

    def clean_url(self):
        url = self.cleaned_data.get("url", "")
        if self.instance.pk and url and url == mask_url(self.instance.url):
            return self.instance.url
        return url


class MaintenanceWindowForm(StatedLimits, forms.ModelForm):
    """Validation is the model's ``clean()`` (an end after the start, in the future; a reason)."""

    class Meta:
        model = MaintenanceWindow
        fields = ["starts_at", "ends_at", "reason", "freshness_only"]
        labels = {"starts_at": "From", "ends_at": "Until"}
        help_texts = {"starts_at": "Leave as it is to start now (snooze).", "ends_at": "When alerts resume."}
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left empty, the window starts now: a snooze.
        self.fields["starts_at"].required = False
