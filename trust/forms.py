from datetime import timedelta

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone

from catalog.finding import AssetFilter
from catalog.forms import AssetField
from catalog.models import Asset
from core.limits import StatedLimits
from trust.models import Certification, DataIssue, Deprecation


class DataIssueForm(StatedLimits, forms.ModelForm):
    """Everything a reporter says about a problem. Validation is the model's (``DataIssue.clean`` and the
    attachment validator), so this form and the API refuse the same things."""

    class Meta:
        model = DataIssue
        fields = [
            "title", "description", "category", "severity", "affected_columns", "affected_from", "affected_until",
            "attachment",
        ]  # fmt: skip
        widgets = {
            # As the reporter types, open issues with the same words move to the top of "Already reported?".
            "title": forms.TextInput(
                attrs={
                    "hx-trigger": "input changed delay:400ms",
                    "hx-target": "#issue-suggestions",
                    "hx-swap": "outerHTML",
                }
            ),
            "description": forms.Textarea(attrs={"rows": 5}),
            "affected_from": forms.DateInput(attrs={"type": "date"}),
            "affected_until": forms.DateInput(attrs={"type": "date"}),
            "attachment": forms.ClearableFileInput(
                attrs={"accept": ",".join(sorted(settings.TRUST_ATTACHMENT_EXTENSIONS))}
            ),
        }

    def __init__(self, *args, asset, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.asset = asset
        self.fields["title"].widget.attrs["hx-get"] = reverse(
            "trust:report_problem", kwargs={"kind": asset.kind, "slug": asset.slug}
        )
        limit = filesizeformat(settings.TRUST_ATTACHMENT_MAX_BYTES)
        self.fields[
            "attachment"
        ].help_text = f"Optional. A screenshot (PNG, JPEG, GIF, WebP) or a CSV/text sample, at most {limit}."
        columns = ", ".join(asset.dataset.columns.values_list("name", flat=True)) if hasattr(asset, "dataset") else ""
        self.fields["affected_columns"].help_text = "Optional. Which columns look wrong, separated by commas" + (
            f" (its columns: {columns})." if columns else "."
        )


class TransitionForm(StatedLimits, forms.Form):
    status = forms.CharField()
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    duplicate_of = forms.UUIDField(required=False)


class CommentForm(StatedLimits, forms.Form):
    body = forms.CharField(label="Comment", widget=forms.Textarea(attrs={"rows": 3}))


class DeprecationForm(StatedLimits, forms.ModelForm):
    # Typed with suggestions: a list of every active asset of the kind was 100,000 options for a dataset at full scale.
    replacement = AssetField(
        required=False,
        help_text="What people should use instead: start typing its name and pick it. Leave empty if there is nothing.",
    )

    class Meta:
        model = Deprecation
        fields = ["reason", "replacement", "sunset_date"]
        widgets = {"reason": forms.Textarea(attrs={"rows": 3}), "sunset_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, asset, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.asset = asset
        field = self.fields["replacement"]
        field.asset_filter = field.widget.asset_filter = AssetFilter(kind=asset.kind)
        # Its own kind, active or not: the deprecation's own rules (``Deprecation.clean``) refuse itself and what is
        # not active, and say so on the field.
        field.noun = asset.get_kind_display().lower()
        field.nouns = f"{field.noun}s"


class ReviewForm(StatedLimits, forms.Form):
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Optional.")
    interval_days = forms.IntegerField(
        label="Review again in (days)", min_value=1, max_value=3650, help_text="Sets the next review date from today."
    )


class CertificationForm(StatedLimits, forms.ModelForm):
    class Meta:
        model = Certification
        fields = ["expires_on", "statement"]
        widgets = {
            "expires_on": forms.DateInput(attrs={"type": "date"}),
            "statement": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, asset, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.asset = asset
        self.instance.certified_by = user
        self.fields["expires_on"].initial = timezone.localdate() + timedelta(days=180)


class AcknowledgeForm(StatedLimits, forms.Form):
    note = forms.CharField(required=False, max_length=500, label="Note (optional)")


class DeprecationConditionsForm(StatedLimits, forms.ModelForm):
    class Meta:
        model = Asset
        fields = ["deprecation_conditions"]
        labels = {"deprecation_conditions": "When should it be deprecated?"}
        help_texts = {
            "deprecation_conditions": "Markdown. e.g. “When the v2 table covers store orders, or if nobody reads it "
            "for 90 days.” Shown on its page, and to whoever proposes its deprecation."
        }
        widgets = {"deprecation_conditions": forms.Textarea(attrs={"rows": 4})}
