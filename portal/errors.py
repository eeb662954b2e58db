"""Error answers people can act on: a 503 page while the database is away, JSON for the API, a friendly page
for a request too large to read.

None of these answers touches the database: the templates are rendered without a request (so no context
processor runs, and none can query), and only the path decides between HTML and JSON.
"""

import logging
import sys

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults

logger = logging.getLogger(__name__)

# Seconds a client is asked to wait before trying again while the database is unavailable.
RETRY_AFTER_SECONDS = 30
UNAVAILABLE = (OperationalError, InterfaceError)
API_PREFIXES = ("/api/",)
MACHINE_PREFIXES = ("/ping/", "/badges/", "/health/", "/static/")


def _page(template, status, context=None, fallback=""):
    """Renders an error page with no request (no context processor, no query); a plain page if even that fails."""
    try:
        html = loader.render_to_string(template, context)
    except Exception:  # a missing static manifest entry must not turn an error page into another error
        logger.exception("Could not render %s", template)
        html = f"<!doctype html><title>Data portal</title><h1>{fallback}</h1>"
    return HttpResponse(html, status=status)


def wants_json(request):
    return request.path.startswith(API_PREFIXES)


def unavailable(request):
    """503: the database (or its connection) is away. Says so, and when to try again."""
    if request.path == "/health/":
        response = JsonResponse({"status": "error"}, status=503)
    elif wants_json(request):
        response = JsonResponse(
            {"detail": "The portal is temporarily unavailable (its database does not answer). Try again shortly."},
            status=503,
        )
    else:
        response = _page("503.html", 503, fallback="The portal is temporarily unavailable. Try again shortly.")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _is_unavailable(exc):
    while exc is not None:
        if isinstance(exc, UNAVAILABLE):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class DatabaseUnavailableMiddleware:
    """The database being away answers 503, also under DEBUG (where Django would show its debug page).

    Placed after the authentication middleware: it reads the signed-in user first (the session and the user, the
    first queries of most requests, which the login middleware makes anyway), so a failure there is answered
    here; a view's failure reaches ``process_exception``. Anything else reaches ``server_error`` below.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(MACHINE_PREFIXES):
            # Heartbeat pings, badges and health checks read no user: they pay for no session query here.
            return self.get_response(request)
        try:
            request.user.is_authenticated  # noqa: B018 (loads the session and the user)
        except UNAVAILABLE:
            logger.exception("Database unavailable while reading the session for %s", request.path)
            return unavailable(request)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if _is_unavailable(exception):
            logger.error("Database unavailable while serving %s", request.path, exc_info=exception)
            return unavailable(request)
        return None


def server_error(request):
    """handler500: 503 when the cause is the database being away, else 500; JSON under /api/."""
    if _is_unavailable(sys.exc_info()[1]):
        return unavailable(request)
    if wants_json(request):
        return JsonResponse({"detail": "Something went wrong on our side. It has been logged."}, status=500)
    return _page("500.html", 500, fallback="Something went wrong on our side.")


def too_large(request, limit_bytes, what="request"):
    """413: the body is (or would be) larger than ``limit_bytes``; says the limit, in JSON under /api/."""
    limit_mb = max(1, limit_bytes // (1024 * 1024))
    if wants_json(request):
        return JsonResponse(
            {"detail": f"The {what} is larger than {limit_mb} MB, the most the portal reads. Send less."},
            status=413,
        )
    return _page("413.html", 413, {"limit_mb": limit_mb}, fallback="What you sent is too large to read.")


def largest_body():
    """The most one request may send: a form's text (``DATA_UPLOAD_MAX_MEMORY_SIZE``) and one attachment."""
    from django.conf import settings

    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE + settings.TRUST_ATTACHMENT_MAX_BYTES


class BodySizeLimitMiddleware:
    """Refuses a request whose declared length is over ``largest_body()`` with 413 before a byte of its body is
    read: Django counts only a form's text against its limit, and would stream any file to disk whole before the
    form could say it is too large."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > largest_body():
            return too_large(request, largest_body())
        return self.get_response(request)


class RefuseNulMiddleware:
    """A NUL character (``%00``) in the query string is answered 400 at once: no field holds one, and PostgreSQL
    refuses it in any text it is sent (a search or a filter would otherwise end in a 500). Forms and the API
    already refuse it in posted fields."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "%00" in request.META.get("QUERY_STRING", "") or "\x00" in request.path:
            detail = "The address contains a NUL character (%00), which no field accepts."
            if wants_json(request):
                return JsonResponse({"detail": detail}, status=400)
            return HttpResponse(detail, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def not_found(request, exception):
    """handler404: JSON under /api/ (an address no route matches, e.g. ``/api/v1/assets/0.5/impact/``), Django's
    page elsewhere."""
    if wants_json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def bad_request(request, exception):
    """handler400: a request too large to read gets a page that says so (the browser keeps the text on Back)."""
    if isinstance(exception, RequestDataTooBig):
        from django.conf import settings

        return too_large(request, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if wants_json(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)
