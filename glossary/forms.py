from django import forms
from django.contrib.auth import get_user_model

from accounts.models import Team
from catalog.access import ownership_errors
from catalog.models import Asset, Column
from core.limits import StatedLimits
from glossary.models import Term


class TermForm(StatedLimits, forms.ModelForm):
    version = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Term
        fields = ["name", "definition", "synonyms", "owner", "team", "assets", "columns"]
        widgets = {"definition": forms.Textarea(attrs={"rows": 6}), "synonyms": forms.Textarea(attrs={"rows": 3})}
        labels = {"assets": "Used by (datasets, reports, models)", "columns": "Columns that hold it"}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["owner"].queryset = get_user_model().objects.filter(is_active=True).order_by("username")
        self.fields["team"].queryset = Team.objects.order_by("name")
        self.fields["assets"].queryset = Asset.objects.visible().order_by("kind", "name")
        self.fields["assets"].required = False
        self.fields["columns"].queryset = Column.objects.select_related("dataset__asset").order_by("name")
        self.fields["columns"].label_from_instance = lambda column: f"{column.dataset.asset.name}.{column.name}"
        self.fields["columns"].required = False
        if self.instance.pk:
            self.fields["version"].initial = self.instance.updated_at.isoformat()
        else:
            self.fields["owner"].initial = user

    def clean(self):
        cleaned = super().clean()
        for field, message in ownership_errors(
            self.user, cleaned.get("owner"), cleaned.get("team"), asset=self.instance if self.instance.pk else None
        ).items():
            self.add_error(field, message)
        return cleaned
