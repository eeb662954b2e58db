"""One way to write a moment for people (issue 17): "3 h ago" and "6 Dec 2026, 21:19 UTC", both in the time zone
active for the request (the viewer's, ``accounts.middleware.TimeZoneMiddleware``). Templates use the ``when`` and
``at`` filters (``core/templatetags/portal_tags.py``); Python that writes sentences for pages (freshness reasons)
calls these."""

from django.utils import timezone
from django.utils.dateformat import format as date_format

ABSOLUTE_FORMAT = "j M Y, H:i T"
_UNITS = ((86400 * 365, "y"), (86400 * 30, "mo"), (86400 * 7, "wk"), (86400, "d"), (3600, "h"), (60, "min"))


def relative(value, now=None):
    """ "3 h ago", "in 2 d", "just now": the largest whole unit, short enough to read at a glance."""
    seconds = ((now or timezone.now()) - value).total_seconds()
    future, seconds = seconds < 0, abs(seconds)
    for size, unit in _UNITS:
        if seconds >= size:
            amount = f"{int(seconds // size)} {unit}"
            return f"in {amount}" if future else f"{amount} ago"
    return "just now"


def absolute(value):
    """ "6 Dec 2026, 21:19 UTC" in the active time zone."""
    return date_format(timezone.localtime(value), ABSOLUTE_FORMAT)
