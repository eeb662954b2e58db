"""One-click unsubscribe from a watch, from an email, without signing in.

The link carries the watch's id, its person and its asset, signed with the site's key (``django.core.signing``,
its own salt): it can stop only that watch, and only while it is the same person watching the same asset. It works
by a POST (the page's one button, or a mail client following ``List-Unsubscribe-Post``, RFC 8058); a GET only shows
the button, since mail scanners open links by themselves.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from catalog.models import Watch

_SALT = "trust.unsubscribe.watch"


def token_for(watch_id, user_id, asset_id):
    return signing.dumps([watch_id, user_id, asset_id], salt=_SALT, compress=True)


def unsubscribe_url(watch_id, user_id, asset_id):
    """The absolute link that stops this watch (its id, person and asset: no query)."""
    token = token_for(watch_id, user_id, asset_id)
    return settings.PORTAL_BASE_URL + reverse("trust:unsubscribe", kwargs={"token": token})


def watch_for(token):
    """The watch a token names, or None (a forged or mangled token, or a watch already gone)."""
    try:
        watch_id, user_id, asset_id = signing.loads(token, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return Watch.objects.select_related("asset", "user").filter(pk=watch_id, user_id=user_id, asset_id=asset_id).first()


def known(token):
    """Whether a token is genuine (signed by this site), whatever became of its watch."""
    try:
        signing.loads(token, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return False
    return True
