"""What the trust badge needs from quality, for many assets at once, in one query (see ``trust.facts``)."""

from django.db.models import Q
from django.urls import reverse

from quality.choices import FAILING
from quality.models import QualityCheck


def failing_checks_of(asset_ids, nodes):
    """``({asset_id: number of its checks}, {asset_id: [failing check as a dict]})``: the checks of ``asset_ids``
    themselves are counted, and the failing ones of every asset in ``nodes`` (the assets and what is upstream)
    are described. Checks gone from their tool are left out."""
    rows = (
        QualityCheck.objects.filter(
            Q(asset_id__any_of=list(nodes), last_status__in=FAILING) | Q(asset_id__any_of=list(asset_ids)),
            gone=False,
        )
        .values_list("pk", "asset_id", "name", "column", "severity", "last_status", "last_run_at", "asset__name",
                     "asset__slug")
        .order_by("asset_id", "name")
    )  # fmt: skip
    counts, failing = {}, {}
    own = set(asset_ids)
    for pk, asset_id, name, column, severity, status, run_at, asset_name, slug in rows:
        if asset_id in own:
            counts[asset_id] = counts.get(asset_id, 0) + 1
        if status in FAILING:
            failing.setdefault(asset_id, []).append(
                {
                    "name": name,
                    "column": column,
                    "asset_name": asset_name,
                    "severity": severity,
                    "status": status,
                    "failed_at": run_at,
                    "url": reverse("quality:dataset", kwargs={"slug": slug}) + f"#check-{pk}",
                }
            )
    return counts, failing
