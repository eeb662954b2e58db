"""Forms of the consumer's side of trust: declaring a dependency, requesting a change, reviewing requirements.

Validation is the models' (``Dependency.clean``, ``ChangeRequest.clean``), so these forms and the API refuse the
same things; the forms only offer the choices a person may make (their teams, the assets they may change).
"""

from django import forms
from django.db.models import Q

from catalog.choices import AssetKind
from catalog.models import Asset
from core.limits import StatedLimits
from trust.choices import ConsumerKind
from trust.models import ChangeRequest


class DependencyForm(StatedLimits, forms.Form):
    consumer_kind = forms.ChoiceField(
        label="Who depends on it", choices=ConsumerKind.choices, initial=ConsumerKind.PERSON, widget=forms.RadioSelect
    )
    team = forms.ModelChoiceField(queryset=None, required=False, help_text="When a team of yours depends on it.")
    consumer_asset = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Asset",
        help_text="When a report, model or dataset you own (or your team owns) depends on it.",
    )
    columns = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick the columns it reads; none ticked means the whole dataset. You are told about changes to "
        "these only.",
    )
    needed_by = forms.TimeField(
        required=False,
        label="Needed updated by (time of day)",
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text="Optional, e.g. 07:00 when a morning report reads it.",
    )
    purpose = forms.CharField(required=False, max_length=500, help_text="What it is used for, in a sentence.")

    def __init__(self, *args, dataset, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = user.teams.all()
        mine = Q(owner=user) | Q(team__in=user.teams.all())
        self.fields["consumer_asset"].queryset = (
            Asset.objects.visible()
            .filter(mine, kind__in=[AssetKind.REPORT, AssetKind.MODEL, AssetKind.DATASET, AssetKind.PIPELINE])
            .exclude(pk=dataset.pk)
            .order_by("name")
        )
        self.fields["columns"].choices = [
            (name, name) for name in dataset.dataset.columns.values_list("name", flat=True)
        ]

    def clean(self):
        data = super().clean()
        kind = data.get("consumer_kind")
        if kind == ConsumerKind.TEAM and not data.get("team"):
            self.add_error("team", "Choose the team that depends on it.")
        if kind == ConsumerKind.ASSET and not data.get("consumer_asset"):
            self.add_error("consumer_asset", "Choose the asset that depends on it.")
        return data

    def consumer(self, user):
        kind = self.cleaned_data["consumer_kind"]
        if kind == ConsumerKind.TEAM:
            return self.cleaned_data["team"]
        if kind == ConsumerKind.ASSET:
            return self.cleaned_data["consumer_asset"]
        return user


class DeclineForm(StatedLimits, forms.Form):
    reason = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 2}), label="Why you decline")


class ChangeRequestForm(StatedLimits, forms.ModelForm):
    class Meta:
        model = ChangeRequest
        fields = ["title", "wanted", "why"]
        widgets = {"wanted": forms.Textarea(attrs={"rows": 4}), "why": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, asset, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.asset = asset


class ChangeRequestTransitionForm(StatedLimits, forms.Form):
    status = forms.CharField()
    comment = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Required to decline: say why."
    )


class RequirementsReviewForm(StatedLimits, forms.Form):
    comment = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="What users need now, in brief."
    )
    interval_days = forms.IntegerField(label="Re-examine again in (days)", min_value=1, max_value=3650, initial=90)
