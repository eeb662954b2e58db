"""Keeping stored badges true: the domain events of the apps below (catalog, monitoring, registry, accounts) mark
the badges they affect stale, and the worker recomputes them (``trust.badges.refresh_stale``).

The events come from the one writer of each thing, bulk writers included (see ``catalog.events``,
``monitoring.events``, ``registry.events``, ``accounts.events``); trust's own rows (issues, deprecations,
certifications, reviews) mark their badges where they are written, in ``trust.models``. Connected by
``TrustConfig.ready``, in every process.
"""

from accounts import events as accounts_events
from catalog import events as catalog_events
from catalog.models import Asset
from mlops import events as mlops_events
from monitoring import events as monitoring_events
from monitoring.choices import FreshnessStatus
from quality import events as quality_events
from registry import events as registry_events
from trust.choices import DeprecationState
from trust.models import Deprecation, StoredBadge


def _replaced_by(asset_ids):
    """Assets whose running deprecation names one of ``asset_ids`` as the replacement: their badges name it."""
    return Deprecation.objects.filter(replacement__in=asset_ids, state=DeprecationState.ANNOUNCED).values_list(
        "asset_id", flat=True
    )


def asset_changed(sender, asset_ids, travels=False, **kwargs):
    StoredBadge.invalidate(asset_ids, downstream=travels)
    if travels:
        StoredBadge.invalidate(_replaced_by(asset_ids))


def assets_removed(sender, asset_ids, **kwargs):
    # Existing rows only: other assets may be going in the same deletion.
    StoredBadge.invalidate(asset_ids, downstream=True, create_missing=False)
    StoredBadge.invalidate(_replaced_by(asset_ids), create_missing=False)


def lineage_changed(sender, downstream_ids, **kwargs):
    # What flows from upstream (freshness, issues, deprecations) now flows, or no longer flows, into these.
    StoredBadge.invalidate(downstream_ids, downstream=True)


def people_changed(sender, user_ids, removed=False, **kwargs):
    # Badges name the owner and say whether they are still active.
    owned = Asset.objects.filter(owner__in=user_ids).values_list("pk", flat=True)
    StoredBadge.invalidate(owned, create_missing=not removed)


def freshness_changed(sender, moved, reworded, **kwargs):
    # Downstream inherits a status, and quotes the words of an input that holds it back (one that is not fresh).
    travels = [*moved, *(policy for policy in reworded if policy.announced_status != FreshnessStatus.FRESH)]
    StoredBadge.invalidate([policy.asset_id for policy in travels], downstream=True)
    StoredBadge.invalidate([policy.asset_id for policy in reworded if policy not in travels])


def policy_changed(sender, asset_ids, **kwargs):
    StoredBadge.invalidate(asset_ids, downstream=True)


def card_changed(sender, model_ids, **kwargs):
    StoredBadge.invalidate(model_ids)


def quality_changed(sender, asset_ids, **kwargs):
    # A failing check holds back everything downstream too (it is named in their badges).
    StoredBadge.invalidate(asset_ids, downstream=True)


def model_monitoring_changed(sender, model_id, **kwargs):
    # The model's badge reads its monitoring status (the monitoring rule), and so do the badges downstream of it.
    StoredBadge.invalidate([model_id], downstream=True)


RECEIVERS = [
    (mlops_events.monitoring_changed, model_monitoring_changed),
    (catalog_events.asset_changed, asset_changed),
    (catalog_events.assets_removed, assets_removed),
    (catalog_events.lineage_changed, lineage_changed),
    (accounts_events.people_changed, people_changed),
    (monitoring_events.freshness_changed, freshness_changed),
    (monitoring_events.policy_changed, policy_changed),
    (registry_events.card_changed, card_changed),
    (quality_events.check_failed, quality_changed),
    (quality_events.check_recovered, quality_changed),
    (quality_events.checks_changed, quality_changed),
]


def connect():
    for signal, receiver in RECEIVERS:
        signal.connect(receiver, dispatch_uid=f"trust-badges-{receiver.__name__}")
