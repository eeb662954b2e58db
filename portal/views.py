import logging

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from catalog.choices import AssetKind
from catalog.models import Asset

logger = logging.getLogger(__name__)


def home(request):
    counts = dict(Asset.objects.visible().values_list("kind").annotate(n=Count("pk")).order_by())
    stats = [(kind, label, counts.get(kind, 0)) for kind, label in AssetKind.choices]
    mine = Asset.objects.visible().with_people().filter(owner=request.user).order_by("-updated_at")[:10]
    recent = Asset.objects.visible().with_people().order_by("-updated_at")[:10]
    return render(request, "home.html", {"stats": stats, "mine": mine, "recent": recent})


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
