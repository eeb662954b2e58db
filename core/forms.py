from django import forms

from core.limits import StatedLimits
from core.models import NotificationPreference


class PreferenceForm(StatedLimits, forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = ["inbox", "inbox_cadence", "email", "email_cadence"]
        labels = {
            "inbox_cadence": "Inbox: non-critical news",
            "email_cadence": "Email: non-critical news",
        }
        help_texts = {
            "inbox": "Alerts appear in the portal's inbox, with the unread count in the menu.",
            "email": "Alerts are emailed to your address.",
            "inbox_cadence": "At once, or gathered in one daily or weekly digest. Critical news always comes at once.",
            "email_cadence": "At once, or one email a day or a week. Critical news always comes at once.",
        }
