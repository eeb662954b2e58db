import json

from django import forms

from monitoring.models import FreshnessPolicy, NotificationPreference
from monitoring.training import ALGORITHM_CHOICES, trainable_datasets


class FreshnessPolicyForm(forms.ModelForm):
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


class JSONObjectField(forms.CharField):
    """A JSON object typed into a text area; ``{}`` when left empty."""

    widget = forms.Textarea(attrs={"rows": 2})

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return {}
        try:
            parsed = json.loads(value)
        except ValueError:
            raise forms.ValidationError('Write a JSON object, e.g. {"n_estimators": 200}.') from None
        if not isinstance(parsed, dict):
            raise forms.ValidationError('Write a JSON object, in braces: {"name": value}.')
        return parsed

    def prepare_value(self, value):
        return json.dumps(value) if isinstance(value, dict) else value


class TrainingForm(forms.Form):
    """The fields of a training request. Checking them against the dataset is ``training.validate_request``."""

    dataset = forms.ModelChoiceField(
        queryset=trainable_datasets(), help_text="A CSV or Parquet dataset under DATA_ROOT.", empty_label="Choose…"
    )
    target = forms.CharField(help_text="The column to predict.")
    features = forms.CharField(help_text="Columns the model learns from, separated by commas.")
    algorithm = forms.ChoiceField(choices=ALGORITHM_CHOICES)
    hyperparameters = JSONObjectField(required=False, help_text='e.g. {"n_estimators": 200, "max_depth": 6}')
    test_size = forms.FloatField(
        initial=0.2, min_value=0.05, max_value=0.5, help_text="Share of rows kept for testing."
    )
    seed = forms.IntegerField(initial=42, help_text="Same seed, same split, same model.")
    thresholds = JSONObjectField(
        required=False,
        help_text='Minimum scores (maximum for mae, rmse and max_group_gap), e.g. {"roc_auc": 0.75}.',
    )
    sensitive_column = forms.CharField(
        required=False, help_text="Optional: compare the metrics between the groups of this column (fairness)."
    )

    def __init__(self, *args, model, **kwargs):
        self.model = model
        super().__init__(*args, **kwargs)

    def clean(self):
        from django.core.exceptions import ValidationError

        from monitoring.training import validate_request

        data = super().clean()
        if self.errors:
            return data
        try:
            self.request = validate_request(self.model, data)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return data


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = ["inbox", "email"]
        help_texts = {
            "inbox": "Alerts appear in the portal's inbox, with the unread count in the menu.",
            "email": "Alerts are emailed to your address.",
        }
