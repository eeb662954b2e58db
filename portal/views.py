import logging

from django.contrib.auth.decorators import login_not_required
from django.db.models import Case, Count, Exists, OuterRef, Value, When
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.forms import TimeZoneForm, TokenForm
from accounts.middleware import TIME_ZONE_KEY
from catalog.choices import AssetKind, Lifecycle
from catalog.models import Asset, Watch
from core.models import Notification
from portal import health as health_checks
from trust.badges import badges_for
from trust.dependencies import unacknowledged_for
from trust.models import Dependency
from trust.rules import SEVERITY

logger = logging.getLogger(__name__)


def home(request):
    counts = dict(Asset.objects.visible().values_list("kind").annotate(n=Count("pk")).order_by())
    stats = [(kind, label, counts.get(kind, 0)) for kind, label in AssetKind.choices]
    mine = list(Asset.objects.visible().with_people().filter(owner=request.user).order_by("-updated_at")[:10])
    recent = Asset.objects.visible().with_people().order_by("-updated_at")[:10]
    used, used_total = what_they_use(request.user)
    context = {"stats": stats, "mine": mine, "recent": recent, "used": used}
    context["used_more"] = used_total - len(used)
    return render(request, "home.html", context)


# The home page shows this many of what a reader uses, problems first; the profile lists every watched asset.
USED_SHOWN = 50


def what_they_use(user, limit=None):
    """A reader's home: what ``user`` watches or depends on (themselves, their teams, their assets), anything with
    a problem first (Do not use, Use with caution, then not assessed, then Trusted), at most ``limit`` of them with
    their badges, and how many there are in all.

    Three queries: the ids (a UNION of two indexed lookups: filtering the asset table by "watched or depended on"
    would test every asset); the first ``limit`` of those assets with owner and team, ordered by their stored
    badge's level in the database (200 watched assets are not all read to show 50); their badges."""
    limit = limit or USED_SHOWN
    retired = Lifecycle.RETIRED
    watched = Watch.objects.filter(user=user).exclude(asset__lifecycle=retired).values_list("asset_id", flat=True)
    depended = Dependency.objects.of_user(user).exclude(dataset__lifecycle=retired).values_list("dataset_id", flat=True)
    ids = set(watched.union(depended))
    if not ids:
        return [], 0
    worst_first = Case(
        *(When(stored_badge__level=level, then=Value(rank)) for rank, level in enumerate(SEVERITY)),
        default=Value(len(SEVERITY)),
    )
    rows = list(
        Asset.objects.with_people()
        .filter(pk__in=ids)
        .annotate(
            watched=Exists(Watch.objects.filter(user=user, asset=OuterRef("pk"))),
            depended=Exists(Dependency.objects.of_user(user).filter(dataset=OuterRef("pk"))),
        )
        .order_by(worst_first, "name", "pk")[:limit]
    )
    badges = badges_for(rows)
    for row in rows:
        row.badge = badges.get(row.pk)
        row.summary = row.badge.summary if row.badge else ""
    # A badge just computed (none was stored yet) may rank differently from what the database knew.
    rows.sort(key=lambda row: SEVERITY.index(row.badge.level) if row.badge else len(SEVERITY))
    return rows, len(ids)


def profile(request):
    """A person's page: their teams, what they own and watch, unread notifications and API tokens."""
    user = request.user
    assets = Asset.objects.visible().with_people().order_by("kind", "name")
    context = {
        "owned": assets.filter(owner=user),
        "team_owned": assets.filter(team__members=user).exclude(owner=user).distinct(),
        "watched": assets.filter(watches__user=user),
        "unacknowledged": list(unacknowledged_for(user)),
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
