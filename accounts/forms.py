from django import forms

from core.limits import StatedLimits


class TokenForm(StatedLimits, forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'airflow lineage'.")


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(
        required=False,
        label="Time zone",
        help_text="Dates and times on every page are shown in this time zone.",
    )

    def __init__(self, *args, **kwargs):
        from django.conf import settings

        from accounts.models import time_zone_choices

        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [("", f"The portal's own ({settings.TIME_ZONE})"), *time_zone_choices()]
