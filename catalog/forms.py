import re
from datetime import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Q, Value
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from accounts.models import Team
from catalog.access import can_edit_expression, ownership_errors
from catalog.choices import AssetKind
from catalog.finding import ANY_ASSET, find_asset, matches
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


LIST_ID = re.compile(r"^[A-Za-z][\w-]{0,80}$")


class AssetInput(forms.TextInput):
    """A text input that asks ``catalog:asset_suggestions`` (htmx, as you type) for the assets its filter allows,
    into a ``<datalist>`` of its own."""

    def __init__(self, asset_filter=ANY_ASSET, attrs=None):
        super().__init__({"autocomplete": "off", "placeholder": "Type a name, e.g. orders", **(attrs or {})})
        self.asset_filter = asset_filter

    @staticmethod
    def list_id(name, attrs):
        return attrs.get("list") or f"{attrs.get('id') or name}-suggestions"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        list_id = self.list_id(name, widget_attrs)
        query = urlencode({"field": name, "list": list_id, **self.asset_filter.query()}, doseq=True)
        widget_attrs.update({
            "list": list_id,
            "hx-get": f"{reverse('catalog:asset_suggestions')}?{query}",
            "hx-trigger": "input changed delay:250ms",
            "hx-target": f"#{list_id}",
            "hx-swap": "outerHTML",
        })  # fmt: skip
        return context

    def render(self, name, value, attrs=None, renderer=None):
        list_id = self.list_id(name, {**self.attrs, **(attrs or {})})
        return super().render(name, value, attrs, renderer) + format_html('<datalist id="{}"></datalist>', list_id)


class AssetField(forms.CharField):
    """An asset typed, not picked from a list of every asset (a catalog holds hundreds of thousands): the field
    suggests matches as you type and accepts a suggestion (``kind/slug``), an exact name, or a UUID, among the
    visible assets ``asset_filter`` allows. Cleans to the ``Asset`` (its ``dataset`` joined when the filter's kind
    is dataset); empty to None when not required. Its form may set ``current`` (see ``find_asset``)."""

    widget = AssetInput

    def __init__(self, *, asset_filter=ANY_ASSET, noun="asset", nouns="", **kwargs):
        kwargs.setdefault("max_length", 300)
        kwargs.setdefault("help_text", "Start typing its name, then pick it from the suggestions.")
        super().__init__(**kwargs)
        self.asset_filter, self.noun, self.nouns, self.current = asset_filter, noun, nouns, None
        self.widget.asset_filter = asset_filter

    def prepare_value(self, value):
        # An initial value is an asset or a kind's row (a dataset); what was typed stays as typed.
        return getattr(getattr(value, "asset", value), "name", value)

    def clean(self, value):
        typed = super().clean(value)
        if typed in self.empty_values:
            return None
        return find_asset(typed, self.asset_filter.assets(), noun=self.noun, nouns=self.nouns, current=self.current)


class AssetsInput(AssetInput):
    """``AssetInput`` for several assets separated by commas: its suggestions keep what was typed before the last
    comma, so picking one adds to the list instead of replacing it."""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"]["hx-get"] += "&several=1"
        return context


def _quoted(values):
    return ", ".join(f"“{value}”" for value in values)


class AssetsField(AssetField):
    """Several assets typed, separated by commas (``AssetField`` for a list): each a suggestion (``kind/slug``), an
    exact name or a UUID among what ``asset_filter`` allows; every one that names nothing, or several things, is
    said. Cleans to the list of assets (their ``Dataset`` rows when the filter's kind is dataset), each once; shows a
    saved list as suggestions would write it. A catalog of 100,000 datasets made a list of every one 7 MB of
    options and 15 seconds for the card editor (full-scale bench, 2026-12-07)."""

    widget = AssetsInput

    def __init__(self, *, noun="asset", nouns="", most=50, **kwargs):
        kwargs.setdefault("max_length", 5000)
        kwargs.setdefault(
            "help_text", "Start typing a name, then pick it from the suggestions; separate several with commas."
        )
        super().__init__(noun=noun, nouns=nouns or f"{noun}s", **kwargs)
        self.most = most

    def prepare_value(self, value):
        if isinstance(value, str) or value is None:
            return value
        assets = [getattr(item, "asset", item) for item in value]
        return ", ".join(f"{asset.kind}/{asset.slug}" for asset in assets)

    def clean(self, value):
        typed = forms.CharField.clean(self, value) or ""  # the text; ``AssetField.clean`` would look up one asset
        items = list(dict.fromkeys(part.strip() for part in typed.split(",") if part.strip()))
        if len(items) > self.most:
            raise forms.ValidationError(f"At most {self.most} {self.nouns}.")
        assets = self.asset_filter.assets()
        found, missing, several = [], [], []
        for item in items:
            named = matches(item, assets)
            if len(named) == 1:
                found.append(named[0])
            else:
                (several if named else missing).append(item)
        if missing or several:
            # One message for the field (a form shows one error per field), naming every value that failed.
            said = [f"No {self.noun} called {_quoted(missing)}"] if missing else []
            said += [f"Several {self.nouns} are called {_quoted(several)}"] if several else []
            raise forms.ValidationError(f"{'; '.join(said)}. Start typing and pick each from the suggestions.")
        found = list({asset.pk: asset for asset in found}.values())
        return [asset.dataset for asset in found] if self.asset_filter.kind == AssetKind.DATASET else found


class LineageForm(StatedLimits, forms.Form):
    """Add an edge by hand, from the page of one of its ends; the other asset is typed (``AssetField``)."""

    direction = forms.ChoiceField(
        choices=[("down", "is used by (downstream)"), ("up", "feeds from (upstream)")], label="This asset"
    )
    other = AssetField(
        label="Asset",
        widget=AssetInput(
            attrs={"id": "lineage-other", "list": "lineage-candidates", "aria-describedby": "lineage-other-help"}
        ),
    )

    def __init__(self, *args, asset, **kwargs):
        super().__init__(*args, **kwargs)
        self.asset = asset

    def clean_other(self):
        other = self.cleaned_data["other"]
        if other.pk == self.asset.pk:
            raise forms.ValidationError("An asset cannot feed itself.")
        return other

    def ends(self):
        other = self.cleaned_data["other"]
        return (self.asset, other) if self.cleaned_data["direction"] == "down" else (other, self.asset)


class NamingConventionForm(StatedLimits, forms.ModelForm):
    class Meta:
        model = NamingConvention
        fields = ["kind", "pattern", "explanation"]
        widgets = {"explanation": forms.Textarea(attrs={"rows": 2})}
