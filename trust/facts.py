"""Gathering the facts the badge rules need, for many assets at once, in a fixed number of queries.

List pages, search results and lineage graphs show a badge per row, so this never queries per asset: one query for
the assets (with their latest certification), one lineage walk upstream from each, one for deprecations, one for
retiring inputs, one for serious open issues, two for freshness and one for maintenance windows, whatever the number
of assets. Lists of ids go as one array each (``__any_of``): a page of deep reports has ten thousand assets upstream.
"""

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db.models import OuterRef, Subquery, prefetch_related_objects
from django.utils import timezone

from catalog.choices import AssetKind, Lifecycle
from catalog.lineage import MAX_DEPTH, walk_each
from catalog.models import Asset
from mlops.models import ModelOps
from monitoring.freshness import effective_freshness_by_asset
from monitoring.maintenance import maintenance_by_asset
from quality.facts import failing_checks_of
from registry.choices import Stage
from registry.models import ModelVersion, completeness_prefetches
from trust.choices import DeprecationState
from trust.models import Certification, DataIssue, Deprecation
from trust.rules import AssetFacts, CheckFact, InputFact, IssueFact, MonitoringFact


def _card_completeness(models):
    """``{asset_id: (percent, missing_labels, threshold, lapses_on)}`` for registered models, ``lapses_on`` being
    the day the card's verified assumptions stop counting. Models left out are "not available", which makes the
    documentation rule answer Unknown for them."""
    # Everything card_completeness() reads, fetched for all models at once: a fixed number of queries.
    prefetch_related_objects(models, "card", *completeness_prefetches())
    threshold = settings.MODEL_CARD_COMPLETENESS_THRESHOLD
    cards = {}
    for model in models:
        verified_until = model.assumptions_verified_until()
        lapses_on = verified_until + timedelta(days=1) if verified_until else None
        cards[model.asset_id] = (*model.card_completeness(), threshold, lapses_on)
    return cards


def upstream_of_each(asset_ids):
    """``{asset_id: {upstream asset id: hops}}`` within ``MAX_DEPTH`` hops, for each asset on its own."""
    return walk_each(asset_ids, direction="up", max_depth=MAX_DEPTH)


def facts_for(assets, today=None, upstream=None):
    """``{asset_id: AssetFacts}`` for the given assets (rows or ids). ``upstream`` (``{asset_id: {id: hops}}`` for
    each of them, within ``MAX_DEPTH``) saves the walk when the caller has already done it."""
    asset_ids = list(dict.fromkeys(getattr(asset, "pk", asset) for asset in assets))
    if not asset_ids:
        return {}
    today = today or timezone.localdate()
    latest = Certification.objects.filter(asset=OuterRef("pk")).order_by("-certified_at", "-pk")
    rows = (
        Asset.objects.filter(pk__in=asset_ids)
        .select_related("owner", "dataset", "report", "registered_model", "model_version")
        .annotate(
            certified_until=Subquery(latest.values("expires_on")[:1]),
            certified_by_id=Subquery(latest.values("certified_by_id")[:1]),
        )
    )
    rows = {row.pk: row for row in rows}
    if upstream is None or not set(asset_ids) <= upstream.keys():
        upstream = upstream_of_each(asset_ids)
    all_upstream = set().union(*upstream.values())
    nodes = {*asset_ids, *all_upstream}

    deprecations = {
        d.asset_id: d
        for d in Deprecation.objects.filter(asset_id__any_of=nodes, state=DeprecationState.ANNOUNCED).select_related(
            "replacement"
        )
    }
    inputs = {
        row["pk"]: row
        for row in Asset.objects.filter(
            pk__any_of=all_upstream, lifecycle__in=[Lifecycle.DEPRECATED, Lifecycle.RETIRED]
        ).values("pk", "name", "lifecycle")
    }
    issues = defaultdict(list)
    serious = DataIssue.objects.filter(
        asset_id__any_of=nodes, status__in=DataIssue.OPEN_STATES, severity__in=DataIssue.SERIOUS
    ).values_list("asset_id", "severity", "title", "asset__name")
    for asset_id, severity, title, asset_name in serious:
        issues[asset_id].append((severity, title, asset_name))

    # Each asset is as fresh as its own policy and its stalest input upstream allow.
    freshness = effective_freshness_by_asset(upstream)
    cards = _card_completeness(
        [
            row.registered_model
            for row in rows.values()
            if row.kind == AssetKind.MODEL and hasattr(row, "registered_model")
        ]
    )

    monitoring = _monitoring_facts([pk for pk, row in rows.items() if row.kind == AssetKind.MODEL])

    maintenance = maintenance_by_asset(asset_ids)
    check_counts, failing = failing_checks_of(asset_ids, nodes)

    facts = {}
    for pk, row in rows.items():
        deprecation = deprecations.get(pk)
        own_issues = [IssueFact(s, t, n) for s, t, n in issues[pk]]
        upstream_issues = [IssueFact(s, t, n, upstream=True) for up in upstream[pk] for s, t, n in issues[up]]
        deprecated_inputs = []
        for up in sorted(upstream[pk].keys() & inputs.keys(), key=lambda up: inputs[up]["name"]):
            input_deprecation = deprecations.get(up)
            deprecated_inputs.append(
                InputFact(
                    name=inputs[up]["name"],
                    lifecycle=inputs[up]["lifecycle"],
                    sunset_date=input_deprecation.sunset_date if input_deprecation else None,
                    replacement=input_deprecation.replacement.name
                    if input_deprecation and input_deprecation.replacement
                    else "",
                )
            )
        status, reason = _freshness_fact(freshness, pk)
        facts[pk] = AssetFacts(
            kind=row.kind,
            today=today,
            lifecycle=row.lifecycle,
            owner_name=(row.owner.get_full_name() or row.owner.get_username()) if row.owner else None,
            owner_active=bool(row.owner and row.owner.is_active),
            missing_documentation=_missing_documentation(row, cards),
            freshness_status=status,
            freshness_reason=reason,
            issues=(*own_issues, *upstream_issues),
            sunset_date=deprecation.sunset_date if deprecation else None,
            replacement=deprecation.replacement.name if deprecation and deprecation.replacement else "",
            deprecated_inputs=tuple(deprecated_inputs),
            next_review_date=row.next_review_date,
            certified_until=row.certified_until,
            certified_by_owner=row.certified_by_id is not None and row.certified_by_id == row.owner_id,
            freshness_changes_at=freshness[pk].changes_at,
            documentation_changes_on=cards[pk][3] if pk in cards else None,
            validation=_validation(row),
            monitoring=monitoring.get(pk),
            **_maintenance_facts(maintenance.get(pk)),
            check_count=check_counts.get(pk, 0),
            failing_checks=tuple(
                CheckFact(**check, upstream=check_asset != pk)
                for check_asset in [pk, *upstream[pk]]
                for check in failing.get(check_asset, [])
            ),
        )
    return facts


def _validation(row):
    """The model facts of the validation rule, from the versions ``_card_completeness`` prefetched (a model) or the
    version's own row; None for anything that is not a model."""
    if row.kind == AssetKind.MODEL and hasattr(row, "registered_model"):
        versions = list(row.registered_model.versions.all())
        in_use = [version for version in versions if version.stage == Stage.PRODUCTION]
        if in_use:
            return "in_use" if any(version.metrics_recorded for version in in_use) else "in_use_unevaluated"
        return "not_validated" if versions else "no_versions"
    if row.kind == AssetKind.MODEL_VERSION and hasattr(row, "model_version"):
        return "in_use" if row.model_version.stage == Stage.PRODUCTION else "not_validated"
    return None


def _monitoring_facts(model_ids):
    """``{model asset id: MonitoringFact}`` for the models in use among ``model_ids``; one query."""
    if not model_ids:
        return {}
    in_use = ModelVersion.objects.filter(model_id__any_of=model_ids, stage=Stage.PRODUCTION).annotate(
        ops_status=Subquery(ModelOps.objects.filter(model_id=OuterRef("model_id")).values("status")[:1]),
        ops_since=Subquery(ModelOps.objects.filter(model_id=OuterRef("model_id")).values("status_since")[:1]),
        ops_reason=Subquery(ModelOps.objects.filter(model_id=OuterRef("model_id")).values("status_reason")[:1]),
    )
    return {
        row.model_id: MonitoringFact(row.ops_status or "not_monitored", row.ops_since, row.ops_reason or "")
        for row in in_use.only("model_id")
    }


def _maintenance_facts(found):
    """The maintenance facts of one asset from ``maintenance_by_asset``'s answer (None: no window ahead)."""
    if found is None:
        return {}
    window, changes_at = found
    return {
        "maintenance_until": window.effective_end if window else None,
        "maintenance_reason": window.reason if window else "",
        "maintenance_changes_at": changes_at,
    }


def _freshness_fact(freshness, pk):
    found = freshness[pk]
    if found.status is None:
        return None, ""
    return found.status, found.reason


def _missing_documentation(row, cards):
    """The documentation still missing, as labels; None when it cannot be known (a model card not available)."""
    missing = [] if row.description.strip() else ["a description"]
    if row.kind == AssetKind.DATASET and not (hasattr(row, "dataset") and row.dataset.intended_use.strip()):
        missing.append("its intended use")
    elif row.kind == AssetKind.REPORT and not (hasattr(row, "report") and row.report.audience.strip()):
        missing.append("its audience (who it is for)")
    elif row.kind == AssetKind.MODEL:
        if row.pk not in cards:
            return None
        percent, missing_labels, threshold, _ = cards[row.pk]
        if percent < threshold:
            labels = f": {', '.join(missing_labels)}" if missing_labels else ""
            missing.append(f"a complete model card ({percent}% filled, {threshold}% needed{labels})")
    return tuple(missing)
