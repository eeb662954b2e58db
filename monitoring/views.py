from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from catalog.access import asset_for_user
from catalog.choices import AssetKind, RunState
from catalog.models import Asset, PipelineRun
from core.choices import JobKind
from core.http import query_without_page
from core.models import Alert, JobRun
from monitoring import freshness
from monitoring.choices import BOARD_ORDER, DriftMeasure, FreshnessMethod, FreshnessStatus
from monitoring.filtersets import FreshnessPolicyFilterSet
from monitoring.forms import FreshnessPolicyForm
from monitoring.models import DriftFinding, FreshnessPolicy
from monitoring.reasons import mask_url


class _BoardPaginator(Paginator):
    """Pages of the freshness board, read with ``board_slice`` from the counts by status (so no COUNT either)."""

    def __init__(self, policies, counts):
        super().__init__(policies, per_page=50)
        self.counts = counts
        self.count = sum(counts.values())

    def page(self, number):
        number = self.validate_number(number)
        start = (number - 1) * self.per_page
        return self._get_page(self.object_list.board_slice(self.counts, start, start + self.per_page), number, self)


def board(request):
    """The freshness board: every policed asset, stale and late first, a page at a time.

    Counted, filtered and ordered by the status of each policy's last check, which the sweep takes when a deadline
    passes; each row shown is computed again now, and the page says when checks are waiting for the worker."""
    policies = FreshnessPolicyFilterSet(
        request.GET,
        queryset=FreshnessPolicy.objects.with_board_status().select_related("asset__owner", "asset__team"),
        request=request,
    )
    counted = dict(policies.qs.order_by().values_list("board_status").annotate(count=Count("pk")))
    page = _BoardPaginator(policies.qs.in_board_order(), counted).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = []
    for policy in page:
        status, reason = policy.status_at(now)
        rows.append({"policy": policy, "asset": policy.asset, "status": status, "reason": reason})
    context = {
        "filter": policies,
        "page": page,
        "rows": rows,
        "query": query_without_page(request.GET),
        "counts": [(status, FreshnessStatus(status).label, counted.get(status, 0)) for status in BOARD_ORDER],
        "waiting": FreshnessPolicy.objects.waiting_for_a_check(now).count(),
        "recent_alerts": Alert.objects.select_related("asset")[:5],
        "active_jobs": JobRun.objects.exclude(state__in=JobRun.FINISHED).count(),
        "nav": "monitoring",
    }
    return render(request, "monitoring/board.html", context)


def freshness_detail(request, uuid):
    """One asset's freshness: status with its inputs, the history timeline, and (for editors) its policy."""
    asset, can_edit = asset_for_user(request, uuid=uuid)
    policy = FreshnessPolicy.objects.filter(asset=asset).first()
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only the owner, the owning team and staff change this policy.")
        previous = policy.sql_filter if policy else ""
        form = FreshnessPolicyForm(
            request.POST, instance=policy or FreshnessPolicy(asset=asset, created_by=request.user)
        )
        if form.is_valid():
            for field, message in form.instance.sql_filter_refusal(request.user, previous).items():
                form.add_error(field, message)
        if form.is_valid():
            freshness.save_policy(form.save(commit=False))
            messages.success(request, "Freshness policy saved; the first check runs within a minute.")
            return redirect(request.path)
    else:
        form = FreshnessPolicyForm(instance=policy) if can_edit else None
    if policy is not None:
        policy.refresh_from_db()  # an invalid form leaves its typed values on the instance; show the stored ones
    checks = list(policy.checks.all()[:500]) if policy else []
    context = {
        "asset": asset,
        "policy": policy,
        "effective": freshness.effective_freshness(asset),
        "own": policy.status_at() if policy else None,
        "form": form,
        "can_edit": can_edit,
        "checks": checks[:20],
        # Secrets in its query string are masked for everyone; the page shows it to editors only.
        "probe_url": mask_url(policy.url) if policy and can_edit else "",
        "timeline": _timeline(checks),
        "alerts": Alert.objects.filter(asset=asset)[:10],
        "ping_url": request.build_absolute_uri(reverse("ping:success", kwargs={"key": policy.ping_key}))
        if policy and can_edit and policy.method == FreshnessMethod.HEARTBEAT
        else "",
        "nav": "monitoring",
    }
    return render(request, "monitoring/freshness_detail.html", context)


STATUS_COLOURS = {
    FreshnessStatus.FRESH: "#27ae60",
    FreshnessStatus.LATE: "#e69b00",
    FreshnessStatus.STALE: "#c0392b",
    FreshnessStatus.UNKNOWN: "#7f8c8d",
}


def _timeline(checks):
    """A plotly figure: one marker per check on a status axis, and the data's observed update times."""
    if not checks:
        return None
    traces = []
    for status in BOARD_ORDER:
        points = [check for check in checks if check.status == status]
        if points:
            traces.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "name": FreshnessStatus(status).label,
                    "x": [check.checked_at.isoformat() for check in points],
                    "y": [FreshnessStatus(status).label for check in points],
                    "text": [check.reason for check in points],  # plain words: the detail is for editors
                    "marker": {"color": STATUS_COLOURS[status], "size": 10},
                }
            )
    layout = {
        "height": 260,
        "margin": {"l": 70, "r": 10, "t": 10, "b": 40},
        "yaxis": {"categoryorder": "array", "categoryarray": [FreshnessStatus(s).label for s in reversed(BOARD_ORDER)]},
        "xaxis": {"type": "date"},
        "showlegend": False,
    }
    return {"data": traces, "layout": layout}


@require_POST
def freshness_check_now(request, uuid):
    asset, _ = asset_for_user(request, uuid=uuid, edit=True)
    policy = get_object_or_404(FreshnessPolicy, asset=asset)
    if policy.method == FreshnessMethod.HEARTBEAT:
        messages.error(request, "Heartbeat policies are not probed: the pipeline pings them.")
        return redirect(policy.get_absolute_url())
    run = JobRun.enqueue(JobKind.FRESHNESS_CHECK, asset=asset, requested_by=request.user)
    messages.success(request, run.queued_message("Check queued; its result appears here and on the job list."))
    return redirect(run.get_absolute_url())


def pipeline_runs(request, slug):
    """A pipeline's recent runs: durations and output volumes as charts, with drifting runs marked."""
    asset = get_object_or_404(
        Asset.objects.select_related("owner", "team", "pipeline"), kind=AssetKind.PIPELINE, slug=slug
    )
    runs = list(
        PipelineRun.objects.filter(pipeline_id=asset.pk)
        .prefetch_related(Prefetch("drift_findings", queryset=DriftFinding.objects.all()))
        # A run heard of only at its end has no start: it takes its place by its end.
        .order_by(Coalesce("started_at", "ended_at").desc(nulls_last=True), "-pk")[:100]
    )
    runs.reverse()
    context = {
        "asset": asset,
        "runs": list(reversed(runs))[:30],
        "charts": _run_charts(runs),
        "findings": DriftFinding.objects.filter(pipeline_run__pipeline_id=asset.pk).select_related("pipeline_run")[:20],
        "nav": "monitoring",
    }
    return render(request, "monitoring/pipeline_runs.html", context)


def _when(run):
    """Where a run sits on the time axis: its start, or its end when its start is unknown."""
    return run.started_at or run.ended_at


def _run_charts(runs):
    finished = [run for run in runs if run.state == RunState.COMPLETE and _when(run)]
    charts = []
    for measure, title, unit, value_of in [
        (DriftMeasure.DURATION, "Duration", "seconds", lambda run: run.duration_seconds),
        (DriftMeasure.OUTPUT_ROWS, "Output rows", "rows", lambda run: run.output_rows),
    ]:
        points = [run for run in finished if value_of(run) is not None]
        if not points:
            continue
        drifted = [run for run in points if any(f.measure == measure for f in run.drift_findings.all())]
        data = [
            {"type": "scatter", "mode": "lines+markers", "name": title,
             "x": [_when(run).isoformat() for run in points], "y": [value_of(run) for run in points],
             "text": [run.run_id for run in points], "line": {"color": "#1e6f9f"}},
        ]  # fmt: skip
        if drifted:
            data.append(
                {"type": "scatter", "mode": "markers", "name": "Drift",
                 "x": [_when(run).isoformat() for run in drifted], "y": [value_of(run) for run in drifted],
                 "text": [run.run_id for run in drifted],
                 "marker": {"color": "#c0392b", "size": 14, "symbol": "x"}}
            )  # fmt: skip
        layout = {
            "height": 280,
            "margin": {"l": 60, "r": 10, "t": 30, "b": 40},
            "title": {"text": title},
            "yaxis": {"title": {"text": unit}},
            "xaxis": {"type": "date"},
            "showlegend": bool(drifted),
        }
        charts.append(
            {
                "id": f"chart-{measure}",
                "script_id": f"chart-{measure}-figure",
                "figure": {"data": data, "layout": layout},
            }
        )
    return charts
