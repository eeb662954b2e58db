from django import forms

from core.limits import StatedLimits
from core.models import NotificationPreference


class PreferenceForm(StatedLimits, forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = ["inbox", "email"]
        help_texts = {
            "inbox": "Alerts appear in the portal's inbox, with the unread count in the menu.",
            "email": "Alerts are emailed to your address.",
        }
