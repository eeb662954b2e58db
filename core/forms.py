from django import forms

from core.limits import StatedLimits
from core.models import NotificationPreference

KEPT = ("inbox_cadence", "email_cadence", "digest_hour", "digest_weekday")


class PreferenceForm(StatedLimits, forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = ["inbox", "inbox_cadence", "email", "email_cadence", "digest_hour", "digest_weekday"]
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
        # A form posted without a cadence or a digest time (an older page, a script) keeps the one already chosen.
        for name in KEPT:
            self.fields[name].required = False

    def clean(self):
        cleaned = super().clean()
        for name in KEPT:
            if name in cleaned and cleaned[name] in (None, ""):
                cleaned[name] = getattr(self.instance, name)
        return cleaned
