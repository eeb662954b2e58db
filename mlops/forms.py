from django import forms

from catalog.choices import AssetKind, DatasetFormat
from catalog.finding import AssetFilter
from catalog.forms import AssetField
from core.limits import StatedLimits
from mlops.models import DeliveryHook, ModelOps, ScoringSchedule
from mlops.monitoring import in_use
from mlops.scoring import SCORABLE, SCORABLE_NOUN
from monitoring.probes import SQL_KINDS

PREDICTION_TABLES = AssetFilter(kind=AssetKind.DATASET, formats=(DatasetFormat.TABLE,), source_kinds=SQL_KINDS)
IN_USE = "the version in use"


def _dataset(asset):
    return asset.dataset if asset is not None else None


class MonitoringSettingsForm(StatedLimits, forms.ModelForm):
    """A model's monitoring thresholds and its retraining policy."""

    prediction_table = AssetField(
        asset_filter=PREDICTION_TABLES, required=False,
        noun="table of a SQLite, PostgreSQL or MySQL source", nouns="tables of SQLite, PostgreSQL or MySQL sources",
        help_text="A table of a SQLite, PostgreSQL or MySQL source where the team's own batch scoring writes "
        "predictions (columns id, time, prediction, optional score, the features), read before each monitoring run. "
        "Type part of its name and pick it; leave empty for none.",
    )  # fmt: skip

    class Meta:
        model = ModelOps
        fields = ["psi_threshold", "ks_p_value", "missing_rate_limit", "out_of_range_limit", "prediction_table",
                  "retrain_on_drift", "retrain_every_days"]  # fmt: skip
        labels = {"psi_threshold": "PSI threshold", "ks_p_value": "KS p-value threshold"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        table = self.instance.prediction_table if self.instance.prediction_table_id else None
        if table is not None:
            self.initial["prediction_table"] = table
            self.fields["prediction_table"].current = table.asset

    def clean_prediction_table(self):
        return _dataset(self.cleaned_data["prediction_table"])

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


class _VersionAndDataset(forms.Form):
    """What scoring now and scoring on a schedule both ask: a version of the model (or the version in use) and a
    scorable dataset, typed. The versions come from the model as ``registry.access.get_model`` fetched them."""

    version = forms.TypedChoiceField(label="Version", required=False, coerce=int, empty_value=None)
    dataset = AssetField(label="Dataset", asset_filter=SCORABLE, noun=SCORABLE_NOUN)

    def __init__(self, *args, model, **kwargs):
        super().__init__(*args, **kwargs)
        self.model = model
        self.versions = {version.version: version for version in model.versions.all()}
        self.fields["version"].choices = [("", IN_USE), *((n, f"v{n}") for n in sorted(self.versions, reverse=True))]

    def clean_version(self):
        return self.versions.get(self.cleaned_data["version"])

    def clean_dataset(self):
        return _dataset(self.cleaned_data["dataset"])


class ScoringForm(StatedLimits, _VersionAndDataset):
    """Score a dataset now."""

    id_column = forms.CharField(label="Id column (optional)", required=False, max_length=100)

    def clean_version(self):
        version = super().clean_version() or in_use(self.model)
        if version is None:
            raise forms.ValidationError("No version is in use: choose the version to score with.")
        return version


class ScoringScheduleForm(StatedLimits, _VersionAndDataset, forms.ModelForm):
    """Score a dataset every N hours; the rules are the model's (``ScoringSchedule.clean``), as in the API."""

    class Meta:
        model = ScoringSchedule
        fields = ["version", "dataset", "id_column", "every_hours"]
        labels = {"id_column": "Id column (optional)", "every_hours": "Every (hours)"}


class DeliveryHookForm(StatedLimits, forms.ModelForm):
    class Meta:
        model = DeliveryHook
        fields = ["url"]
        labels = {"url": "Webhook URL of your deployment pipeline"}
