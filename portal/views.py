import logging

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.forms import TokenForm
from catalog.choices import AssetKind
from catalog.models import Asset
from core.models import Notification

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
        "new_token": request.session.pop("new_token", None),
    }
    return render(request, "accounts/profile.html", context)


@login_not_required
@require_GET
def health(request):
    """For load balancers and compose healthchecks: 200 when the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return JsonResponse({"status": "ok"})
    except Exception:  # any database error means "not healthy", which is the answer we owe
        # The reason can name hosts and users: it goes to the log, not to anonymous callers.
        logger.exception("Health check failed")
        return JsonResponse({"status": "error"}, status=503)
