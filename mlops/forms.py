from django import forms

from core.limits import StatedLimits
from mlops.models import DeliveryHook, ModelOps


class MonitoringSettingsForm(StatedLimits, forms.ModelForm):
    """A model's monitoring thresholds and its retraining policy."""

    class Meta:
        model = ModelOps
        fields = ["psi_threshold", "ks_p_value", "missing_rate_limit", "out_of_range_limit", "prediction_table",
                  "retrain_on_drift", "retrain_every_days"]  # fmt: skip
        labels = {"psi_threshold": "PSI threshold", "ks_p_value": "KS p-value threshold"}

    def __init__(self, *args, **kwargs):
        from catalog.choices import DatasetFormat
        from catalog.models import Dataset

        super().__init__(*args, **kwargs)
        self.fields["prediction_table"].queryset = Dataset.objects.filter(format=DatasetFormat.TABLE).select_related(
            "asset"
        )

    def clean(self):
        cleaned = super().clean()
        for name in ("psi_threshold", "missing_rate_limit", "out_of_range_limit"):
            if cleaned.get(name) is not None and cleaned[name] < 0:
                self.add_error(name, "Give 0 or more.")
        if cleaned.get("ks_p_value") is not None and not 0 < cleaned["ks_p_value"] < 1:
            self.add_error("ks_p_value", "A p-value threshold lies between 0 and 1, e.g. 0.01.")
        if cleaned.get("retrain_every_days") == 0:
            self.add_error("retrain_every_days", "At least one day between two retrainings.")
        return cleaned


class DeliveryHookForm(StatedLimits, forms.ModelForm):
    class Meta:
        model = DeliveryHook
        fields = ["url"]
        labels = {"url": "Webhook URL of your deployment pipeline"}
