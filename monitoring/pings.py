"""Heartbeat URLs in the manner of healthchecks.io: ``curl -fsS https://portal/ping/<uuid>`` and nothing else.

No login and no CSRF token: the secret is the UUID in the path. An unknown UUID is a 404 and changes nothing.
Append ``/start`` when a run begins and ``/fail`` when it fails; ``?rid=<run id>`` ties the calls of one run
together (a pipeline's runs then get durations), and ``?rows=<n>`` reports how many rows it wrote. Each check takes
at most ``PING_RATE_LIMIT`` pings (429 with ``Retry-After`` past it).
"""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.http import whole_number
from core.rates import describe
from core.throttles import hit
from monitoring.choices import FreshnessMethod, PingKind
from monitoring.freshness import record_ping
from monitoring.models import FreshnessPolicy


@csrf_exempt
@login_not_required
@require_http_methods(["GET", "POST", "HEAD"])
def ping(request, key, kind=PingKind.SUCCESS):
    wait = hit(f"ping:{key}", settings.PING_RATE_LIMIT)
    if wait is not None:
        # Counted per address before the database is read: a loop or a flood costs a cache increment each.
        detail = f"Too many pings for this check (at most {describe(settings.PING_RATE_LIMIT)}); try again in {wait} s."
        return JsonResponse({"detail": detail}, status=429, headers={"Retry-After": str(wait)})
    policy = (
        FreshnessPolicy.objects.select_related("asset__team", "asset__pipeline", "asset__owner")
        .filter(ping_key=key, method=FreshnessMethod.HEARTBEAT)
        .first()
    )
    if policy is None:
        raise Http404("No heartbeat has this address.")
    run_id = request.GET.get("rid", "").strip()[:100]
    rows_text = request.GET.get("rows", "").strip()
    # Row counts are bigint in the database; the bound keeps a typo from becoming an overflow.
    rows = whole_number(rows_text, maximum=2**63 - 1)
    if rows_text and rows is None:
        return HttpResponseBadRequest("rows must be a whole number, e.g. ?rows=1200\n", content_type="text/plain")
    record_ping(policy, kind, run_id=run_id, rows=rows)
    return HttpResponse("OK\n", content_type="text/plain")
