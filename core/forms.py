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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A form posted without a cadence (an older page, a script) keeps the one already chosen.
        for name in ("inbox_cadence", "email_cadence"):
            self.fields[name].required = False

    def _kept(self, name):
        return self.cleaned_data.get(name) or getattr(self.instance, name)

    def clean_inbox_cadence(self):
        return self._kept("inbox_cadence")

    def clean_email_cadence(self):
        return self._kept("email_cadence")
