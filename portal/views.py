import logging

from django.contrib.auth.decorators import login_not_required
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.forms import TimeZoneForm, TokenForm
from accounts.middleware import TIME_ZONE_KEY
from catalog.choices import AssetKind
from catalog.models import Asset
from core.models import Notification
from portal import health as health_checks

logger = logging.getLogger(__name__)


def home(request):
    counts = dict(Asset.objects.visible().values_list("kind").annotate(n=Count("pk")).order_by())
    stats = [(kind, label, counts.get(kind, 0)) for kind, label in AssetKind.choices]
    mine = Asset.objects.visible().with_people().filter(owner=request.user).order_by("-updated_at")[:10]
    recent = Asset.objects.visible().with_people().order_by("-updated_at")[:10]
    return render(request, "home.html", {"stats": stats, "mine": mine, "recent": recent})


def profile(request):
    """A person's page: their teams, what they own and watch, unread notifications and API tokens."""
    user = request.user
    assets = Asset.objects.visible().with_people().order_by("kind", "name")
    context = {
        "owned": assets.filter(owner=user),
        "team_owned": assets.filter(team__members=user).exclude(owner=user).distinct(),
        "watched": assets.filter(watches__user=user),
        "teams": user.teams.all(),
        "notifications": Notification.objects.filter(recipient=user, read_at__isnull=True).select_related("asset")[:10],
        "tokens": user.api_tokens.filter(revoked_at__isnull=True),
        "token_form": TokenForm(),
        "time_zone_form": TimeZoneForm(initial={"time_zone": request.session.get(TIME_ZONE_KEY, "")}),
        "new_token": request.session.pop("new_token", None),
    }
    return render(request, "accounts/profile.html", context)


@login_not_required
@require_GET
def health(request):
    """For load balancers, compose and monitoring: the database, the broker, a worker and beat (``portal.health``).

    200 with ``ok`` or ``degraded`` (background work delayed), 503 with ``error`` (the database is down). Staff also
    get each check and its reason; anonymous callers only the short answer, since reasons name hosts and users.
    """
    results = health_checks.run_checks()
    status = health_checks.overall(results)
    body = {"status": status}
    # Who is asking is known only while the database answers (sessions and users live there).
    if results["database"]["ok"] and request.user.is_authenticated and request.user.is_staff:
        body["checks"] = results
    response = JsonResponse(body, status=503 if status == "error" else 200)
    response["Cache-Control"] = "no-store"
    return response
