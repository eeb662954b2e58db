"""The quality tab of a dataset: each check with its last status, a plotly history of passes and failures, the
failing rows over time, the metrics runs measured (latest values, rows and nulls over time), and dbt's source
freshness observations."""

from collections import defaultdict

from django.shortcuts import render

from catalog.access import asset_for_user
from catalog.choices import AssetKind
from quality import metrics
from quality.choices import FAILING, CheckStatus
from quality.models import CheckResult, FreshnessObservation

HISTORY = 200  # results per dataset drawn on the page
STATUS_LEVELS = {CheckStatus.PASS: 1, CheckStatus.SKIPPED: 0, CheckStatus.WARN: -1, CheckStatus.FAIL: -2,
                 CheckStatus.ERROR: -2}  # fmt: skip


def _figures(checks, history):
    by_check = defaultdict(list)
    for result in history:
        by_check[result.quality_check_id].append(result)
    statuses, failures = [], []
    for check in checks:
        runs = sorted(by_check.get(check.pk, []), key=lambda result: result.executed_at)
        if not runs:
            continue
        label = f"{check.name}" + (f" ({check.column})" if check.column else "")
        times = [result.executed_at.isoformat() for result in runs]
        statuses.append({"type": "scatter", "mode": "lines+markers", "name": label, "x": times,
                         "y": [STATUS_LEVELS.get(result.status, 0) for result in runs],
                         "text": [result.get_status_display() for result in runs]})  # fmt: skip
        failures.append({"type": "bar", "name": label, "x": times, "y": [result.failures or 0 for result in runs]})
    if not statuses:
        return []
    status_axis = {"tickvals": [-2, -1, 0, 1], "ticktext": ["failed", "warned", "skipped", "passed"]}
    return [
        {"id": "quality-status", "script_id": "quality-status-figure",
         "figure": {"data": statuses, "layout": {"title": {"text": "Passes and failures per run"},
                                                 "yaxis": status_axis, "height": 320}}},
        {"id": "quality-failures", "script_id": "quality-failures-figure",
         "figure": {"data": failures, "layout": {"title": {"text": "Failing rows per run"}, "barmode": "group",
                                                 "height": 320}}},
    ]  # fmt: skip


def dataset_quality(request, slug):
    asset, can_edit = asset_for_user(request, AssetKind.DATASET, slug)
    checks = list(asset.quality_checks.all())
    history = list(CheckResult.objects.filter(quality_check__asset=asset).order_by("-executed_at", "-pk")[:HISTORY])
    latest, measured = metrics.latest_of(asset)
    context = {
        "asset": asset,
        "can_edit": can_edit,
        "checks": checks,
        "failing": [check for check in checks if check.last_status in FAILING and not check.gone],
        "charts": _figures(checks, history) + metrics.figures(measured),
        "metrics": latest,
        "measured": list(reversed(measured))[:10],
        "measures": metrics.COLUMN_MEASURES,
        "freshness": FreshnessObservation.objects.filter(asset=asset)[:20],
        "nav": "catalog",
    }
    return render(request, "quality/dataset_quality.html", context)
