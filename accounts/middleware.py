import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware

# Machine endpoints authenticate on their own terms (API tokens, heartbeat UUIDs, secret badge links).
EXEMPT_PREFIXES = ("/api/", "/health/", "/ping/", "/badges/", "/static/", "/admin/")


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Every page needs a signed-in user, except the machine endpoints above and views marked login_not_required."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith(EXEMPT_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


# --- idle session timeout ----------------------------------------------------------------------------------------
IDLE_STAMP = "_idle_refreshed_at"


def refresh_every():
    """How often a signed-in session's expiry is moved forward: a tenth of the idle timeout, at most a minute.
    Writing the session on every request (SESSION_SAVE_EVERY_REQUEST) would add a database write to each one."""
    return min(60, settings.SESSION_IDLE_TIMEOUT // 10)


def stamp_session(sender, request, user, **kwargs):
    """On sign-in (``user_logged_in``): the session starts its idle clock now."""
    if getattr(request, "session", None) is not None:
        request.session[IDLE_STAMP] = int(time.time())


class IdleSessionMiddleware:
    """Signs people out after SESSION_IDLE_TIMEOUT seconds without a request.

    A session expires SESSION_COOKIE_AGE (= the idle timeout) after it was last saved; this moves that forward
    (by saving it) when the last move is older than ``refresh_every()``, so a session ends between the idle timeout
    less a minute and the idle timeout after the last request. Place it after the session middleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # Only a session already loaded (every signed-in page loads it) and signed in; never a new anonymous one.
        if session is not None and getattr(session, "_session_cache", None) and SESSION_KEY in session:
            now = int(time.time())
            if now - session.get(IDLE_STAMP, 0) >= refresh_every():
                session[IDLE_STAMP] = now
        return response


# --- the viewer's time zone --------------------------------------------------------------------------------------
TIME_ZONE_KEY = "_time_zone"


def remember_time_zone(request, name):
    """Keep the person's time zone in their session, so pages need no query to know it."""
    if getattr(request, "session", None) is not None:
        request.session[TIME_ZONE_KEY] = name or ""


def load_time_zone(sender, request, user, **kwargs):
    """On sign-in (``user_logged_in``): the profile's time zone goes into the session (one query, once)."""
    from accounts.models import Profile

    remember_time_zone(request, Profile.objects.filter(user=user).values_list("time_zone", flat=True).first())


class TimeZoneMiddleware:
    """Shows dates and times in the viewer's time zone (their profile), else the site's ``TIME_ZONE``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        import zoneinfo

        from django.utils import timezone

        name = request.session.get(TIME_ZONE_KEY) if getattr(request, "session", None) is not None else None
        try:
            if name:
                timezone.activate(zoneinfo.ZoneInfo(name))
            else:
                timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
