import uuid
from datetime import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Q, Value

from accounts.models import Team
from catalog.access import can_edit_expression, ownership_errors
from catalog.choices import AssetKind
from catalog.models import SOURCE_NOT_YOURS, Asset, Dataset, DataSource, NamingConvention, Pipeline, Report, Tag
from core.limits import StatedLimits

# The kinds the catalog's own forms create and edit; models and versions belong to the registry.
EDITABLE_KINDS = [AssetKind.SOURCE, AssetKind.DATASET, AssetKind.REPORT, AssetKind.PIPELINE]
MAX_TAGS = 20


def _people():
    return get_user_model().objects.filter(is_active=True).order_by("username")


class AssetForm(StatedLimits, forms.ModelForm):
    """What every kind of asset has: name, description, owners, lifecycle, review dates, tags."""

    tags_text = forms.CharField(
        label="Tags", required=False, max_length=500, help_text="Separated by commas, e.g. finance, gold."
    )
    version = forms.DateTimeField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Asset
        fields = [
            "name", "description", "owner", "team", "lifecycle", "maintained_until", "review_interval_days",
            "next_review_date", "deprecation_conditions",
        ]  # fmt: skip
        widgets = {
            "description": forms.Textarea(attrs={"rows": 8}),
            "deprecation_conditions": forms.Textarea(attrs={"rows": 2}),
            "maintained_until": forms.DateInput(attrs={"type": "date"}),
            "next_review_date": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["owner"].queryset = _people()
        self.fields["owner"].label_from_instance = lambda user: user.get_full_name() or user.username
        self.fields["team"].queryset = Team.objects.order_by("name")
        if self.instance.pk:
            self.fields["tags_text"].initial = ", ".join(tag.name for tag in self.instance.tags.all())
            self.fields["version"].initial = self.instance.updated_at.isoformat()

    def clean(self):
        cleaned = super().clean()
        if self.user is not None:
            # ``self.instance`` still holds the values as they were: construct_instance runs after clean().
            errors = ownership_errors(
                self.user, cleaned.get("owner"), cleaned.get("team"), asset=self.instance if self.instance.pk else None
            )
            for field, message in errors.items():
                self.add_error(field, message)
        return cleaned

    def clean_version(self):
        # Microseconds matter: two saves within one second must still be told apart.
        raw = self.data.get(self.add_prefix("version"), "")
        return datetime.fromisoformat(raw) if raw else None

    def clean_tags_text(self):
        names = []
        for raw in self.cleaned_data["tags_text"].split(","):
            name = raw.strip().lower()
            if not name:
                continue
            if len(name) > Tag._meta.get_field("name").max_length:
                raise forms.ValidationError(f"The tag “{name[:20]}…” is longer than 50 characters.")
            if name not in names:
                names.append(name)
        if len(names) > MAX_TAGS:
            raise forms.ValidationError(f"At most {MAX_TAGS} tags.")
        return names


class SourceForm(StatedLimits, forms.ModelForm):
    class Meta:
        model = DataSource
        fields = ["source_kind", "connection", "secret_env_var", "namespace"]
        labels = {"source_kind": "Kind of source", "secret_env_var": "Secret's environment variable"}


class DatasetForm(StatedLimits, forms.ModelForm):
    """When the data last changed is left to scans and OpenLineage events, which know it to the second."""

    class Meta:
        model = Dataset
        fields = [
            "source", "qualified_name", "format", "steward", "classification", "retention_days", "retain_until",
            "retention_action", "intended_use", "out_of_scope_uses", "update_frequency", "row_count", "size_bytes",
            "documentation_url", "snapshot_url",
        ]  # fmt: skip
        widgets = {
            "intended_use": forms.Textarea(attrs={"rows": 2}),
            "out_of_scope_uses": forms.Textarea(attrs={"rows": 2}),
            "retain_until": forms.DateInput(attrs={"type": "date"}),
        }
        labels = {"size_bytes": "Size (bytes)", "retain_until": "Or keep until"}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the sources the user may edit are offered (and accepted), plus the dataset's current one.
        editable = Q(editable=True)
        if self.instance.source_id:
            editable |= Q(pk=self.instance.source_id)
        self.fields["source"].queryset = (
            DataSource.objects.select_related("asset")
            .annotate(
                editable=can_edit_expression(user, "asset__") if user else Value(False, output_field=BooleanField())
            )
            .filter(editable)
            .order_by("asset__name")
        )
        self.fields["source"].error_messages["invalid_choice"] = SOURCE_NOT_YOURS.format(source="that source")
        self.fields["steward"].queryset = _people()


class ReportForm(StatedLimits, forms.ModelForm):
    class Meta:
        model = Report
        fields = ["url", "audience", "refresh_schedule"]


class PipelineForm(StatedLimits, forms.ModelForm):
    class Meta:
        model = Pipeline
        fields = ["schedule", "code_url", "namespace"]


KIND_FORMS = {
    AssetKind.SOURCE: SourceForm,
    AssetKind.DATASET: DatasetForm,
    AssetKind.REPORT: ReportForm,
    AssetKind.PIPELINE: PipelineForm,
}


class LineageForm(StatedLimits, forms.Form):
    """Add an edge by hand, from the page of one of its ends.

    The other asset is typed, not picked from a list of every asset (a catalog holds hundreds of thousands): the
    field suggests matches as you type (``catalog:asset_suggestions``) and accepts a suggestion (``kind/slug``), an
    asset's exact name, or its UUID.
    """

    direction = forms.ChoiceField(
        choices=[("down", "is used by (downstream)"), ("up", "feeds from (upstream)")], label="This asset"
    )
    other = forms.CharField(
        label="Asset", max_length=300, help_text="Start typing its name, then pick it from the suggestions."
    )

    def __init__(self, *args, asset, **kwargs):
        super().__init__(*args, **kwargs)
        self.asset = asset

    def clean_other(self):
        typed = self.cleaned_data["other"].strip()
        candidates = Asset.objects.visible()
        kind, _, slug = typed.partition("/")
        if slug and kind in AssetKind.values:
            found = candidates.filter(kind=kind, slug=slug)
        else:
            try:
                found = candidates.filter(uuid=uuid.UUID(typed))
            except ValueError:
                found = candidates.filter(name__iexact=typed)
        found = list(found[:2])
        if not found:
            raise forms.ValidationError(f"No asset called “{typed}”. Start typing and pick one from the suggestions.")
        if len(found) > 1:
            raise forms.ValidationError(f"Several assets are called “{typed}”: pick one from the suggestions.")
        if found[0].pk == self.asset.pk:
            raise forms.ValidationError("An asset cannot feed itself.")
        return found[0]

    def ends(self):
        other = self.cleaned_data["other"]
        return (self.asset, other) if self.cleaned_data["direction"] == "down" else (other, self.asset)


class NamingConventionForm(StatedLimits, forms.ModelForm):
    class Meta:
        model = NamingConvention
        fields = ["kind", "pattern", "explanation"]
        widgets = {"explanation": forms.Textarea(attrs={"rows": 2})}
