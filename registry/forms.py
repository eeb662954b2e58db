import json

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from accounts.models import Team
from catalog.access import ownership_errors
from catalog.choices import AssetKind
from catalog.finding import AssetFilter
from catalog.forms import AssetField, AssetsField
from core.limits import LONG_TEXT_LIMIT, StatedLimits
from registry.models import Assumption, ModelCard, ModelUser, PromotionRequest, RegisteredModel
from registry.training import ALGORITHM_CHOICES, TRAINABLE_FORMATS

MARKDOWN_HELP = " Markdown."


def people():
    return get_user_model().objects.filter(is_active=True).order_by("username")


class ModelFactsForm(StatedLimits, forms.ModelForm):
    """What a model is and who is behind it; the name and team live on its catalog asset."""

    name = forms.CharField(max_length=200)
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, help_text="The team that owns it.")
    developers = forms.ModelMultipleChoiceField(queryset=people(), required=False)

    class Meta:
        model = RegisteredModel
        fields = ["name", "team", "summary", "goal", "developers", "users_description"]
        widgets = {"goal": forms.Textarea(attrs={"rows": 3}), "users_description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"summary": "One sentence: what the model predicts."}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if self.instance.pk:
            self.fields["name"].initial = self.instance.asset.name
            self.fields["team"].initial = self.instance.asset.team_id

    def clean(self):
        cleaned = super().clean()
        if self.user is not None:
            # The catalog's one rule: the team must be one of yours unless you are staff (or it stays as it was).
            asset = self.instance.asset if self.instance.pk else None
            owner = asset.owner_id if asset is not None else self.user.pk
            for field, message in ownership_errors(self.user, owner, cleaned.get("team"), asset=asset).items():
                self.add_error(field, message)
        return cleaned


class ApproversForm(StatedLimits, forms.ModelForm):
    """Staff only: who may approve promotions of this model."""

    approvers = forms.ModelMultipleChoiceField(queryset=people(), required=False)

    class Meta:
        model = RegisteredModel
        fields = ["approvers"]


class CardForm(StatedLimits, forms.ModelForm):
    """The owner's prose. ``base_revision`` is the revision the editor started from: the optimistic lock."""

    base_revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    class Meta:
        model = ModelCard
        fields = ModelCard.TEXT_FIELDS
        widgets = {name: forms.Textarea(attrs={"rows": 4}) for name in ModelCard.TEXT_FIELDS}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["base_revision"].initial = self.instance.revision
        for field in self.fields.values():
            if isinstance(field.widget, forms.Textarea):
                field.help_text = (field.help_text or "") + MARKDOWN_HELP

    def changes(self):
        return {name: self.cleaned_data[name] for name in ModelCard.TEXT_FIELDS}


class CardConflictForm(forms.Form):
    """After a refused save, for each section both the editor and someone else changed: the editor's own text
    (``yours_<name>``, kept whole) and their choice (``resolve_<name>``): keep theirs, take the saved text, or save
    the merge box (the section's own field of ``CardForm``). ``started_from`` is the revision they first opened."""

    CHOICES = [("yours", "Keep yours"), ("saved", "Take the saved text"), ("merged", "Merge: save the box below")]
    started_from = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)

    def __init__(self, *args, names=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.names = [name for name in ModelCard.TEXT_FIELDS if name in names]
        for name in self.names:
            label = ModelCard._meta.get_field(name).verbose_name
            self.fields[f"yours_{name}"] = forms.CharField(
                widget=forms.HiddenInput, required=False, max_length=LONG_TEXT_LIMIT
            )
            self.fields[f"resolve_{name}"] = forms.ChoiceField(
                choices=self.CHOICES,
                widget=forms.RadioSelect,
                label=f"Which text of {label} to save",
                error_messages={"required": f"Choose which text of {label} to save."},
            )

    @classmethod
    def names_in(cls, data):
        """The sections a posted form is resolving."""
        return [name for name in ModelCard.TEXT_FIELDS if f"yours_{name}" in data]

    def resolve(self, changes, saved):
        """``changes`` with each resolved section replaced by the chosen text (``saved``: the card as the editor
        last saw it)."""
        resolved = dict(changes)
        for name in self.names:
            choice = self.cleaned_data[f"resolve_{name}"]
            if choice == "yours":
                resolved[name] = self.cleaned_data[f"yours_{name}"]
            elif choice == "saved":
                resolved[name] = saved.get(name, "")
        return resolved

    def sections(self, conflicts):
        """``(section, its choice field)`` of each conflicting section, for the page."""
        return [(section, self[f"resolve_{section.name}"]) for section in conflicts]


def _parse_metrics(text):
    metrics = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            metrics[name.strip()] = float(value)
        except ValueError:
            raise ValidationError(f"Line {number} is not 'name = number': {line.strip()!r}.") from None
    return metrics


DATASETS = AssetFilter(kind=AssetKind.DATASET)
TRAINABLE = AssetFilter(kind=AssetKind.DATASET, formats=TRAINABLE_FORMATS)


class VersionForm(StatedLimits, forms.Form):
    """A new version registered by hand (trained outside the portal's training job)."""

    algorithm = forms.CharField(max_length=200, label="Algorithm or architecture")
    hyperparameters = forms.JSONField(required=False, initial=dict, help_text='JSON, e.g. {"max_depth": 6}.')
    features = forms.CharField(required=False, help_text="Feature names, separated by commas.")
    training_datasets = AssetsField(asset_filter=DATASETS, noun="dataset", required=False)
    evaluation_datasets = AssetsField(asset_filter=DATASETS, noun="dataset", required=False)
    metrics = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, help_text="One per line: name = value."
    )
    split = forms.CharField(max_length=100, initial="test", help_text="The split or dataset the metrics come from.")
    snapshot_url = forms.URLField(required=False, label="Data snapshot link", assume_scheme="https")
    size_bytes = forms.IntegerField(required=False, min_value=0, label="Model size (bytes)")
    mlflow_run_id = forms.CharField(max_length=64, required=False, label="MLflow run id")
    model_uri = forms.CharField(max_length=500, required=False, label="Model URI")

    def clean_hyperparameters(self):
        value = self.cleaned_data["hyperparameters"]
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise ValidationError('Give an object, e.g. {"max_depth": 6}.')
        return value

    def clean_features(self):
        return [name.strip() for name in self.cleaned_data["features"].split(",") if name.strip()]

    def clean_metrics(self):
        return _parse_metrics(self.cleaned_data["metrics"])

    def version_fields(self):
        data = dict(self.cleaned_data)
        return (
            data.pop("training_datasets"),
            data.pop("evaluation_datasets"),
            data.pop("metrics"),
            data.pop("split"),
            {name: value for name, value in data.items() if value is not None},
        )


class AssumptionForm(StatedLimits, forms.ModelForm):
    class Meta:
        model = Assumption
        fields = ["statement", "verified_on", "valid_for_days"]
        widgets = {
            "statement": forms.Textarea(attrs={"rows": 2}),
            "verified_on": forms.DateInput(attrs={"type": "date"}),
        }


class ModelUserForm(StatedLimits, forms.ModelForm):
    class Meta:
        model = ModelUser
        fields = ["name", "kind", "needs"]
        widgets = {"needs": forms.Textarea(attrs={"rows": 2})}
        # Beside the model's own name in the card editor: a label of its own.
        labels = {"name": "Team or organisation"}


class PromotionNoteForm(StatedLimits, forms.ModelForm):
    class Meta:
        model = PromotionRequest
        fields = ["note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}
        labels = {"note": "Note for the approver (optional)"}


class QualityGatesForm(StatedLimits, forms.Form):
    """A model's thresholds (one per line) and its fairness limit; ``registry.services`` checks and saves them."""

    thresholds = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line: metric, split, >= or <=, value. For example “roc_auc test >= 0.75” or "
        "“mae test <= 12”.",
    )
    sensitive_column = forms.CharField(
        required=False, max_length=200, help_text="The column whose groups must be treated alike (e.g. segment)."
    )
    max_gap = forms.FloatField(
        required=False,
        label="Largest gap allowed between groups",
        help_text="On any metric, between the best and the worst group (training measures it as max_group_gap).",
    )

    def clean(self):
        from registry.services import parse_thresholds

        cleaned = super().clean()
        try:
            cleaned["parsed"] = parse_thresholds(cleaned.get("thresholds", ""))
        except ValidationError as exc:
            self.add_error("thresholds", exc)
        return cleaned


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


class TrainingForm(StatedLimits, forms.Form):
    """The fields of a training request. Checking them against the dataset is ``training.validate_request``."""

    # Typed with suggestions: a list of every CSV and Parquet dataset was about 40,000 options at full scale.
    dataset = AssetField(
        asset_filter=TRAINABLE,
        noun="CSV or Parquet dataset",
        help_text="A CSV or Parquet dataset under DATA_ROOT: start typing its name and pick it.",
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

    def clean_dataset(self):
        return self.cleaned_data["dataset"].dataset

    def clean(self):
        from django.core.exceptions import ValidationError

        from registry.training import validate_request

        data = super().clean()
        if self.errors:
            return data
        try:
            self.request = validate_request(self.model, data)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return data
