from django import template

from catalog.choices import Lifecycle
from catalog.models import Asset
from trust import watching
from trust.badges import badge_to_show, badges_for
from trust.choices import DeprecationState
from trust.models import Certification, DataIssue, Deprecation, DeprecationImpact, Review

register = template.Library()


@register.inclusion_tag("trust/partials/trust_panel.html", takes_context=True)
def asset_trust_header(context, asset):
    """Badge, "Why this badge", banners and actions under an asset's title, in a fixed number of queries.

    Reads what the page's view computed, ``can_edit`` and ``upstream_hops`` (``catalog.lineage.upstream_of``),
    rather than walking and checking again, and writes nothing (see ``badge_to_show``).
    """
    user = context["request"].user
    upstream_ids = context["upstream_hops"]
    deprecation = (
        Deprecation.objects.filter(asset=asset, state__in=[DeprecationState.ANNOUNCED, DeprecationState.RETIRED])
        .select_related("replacement")
        .order_by("-created_at")
        .first()
    )
    inputs = list(
        Asset.objects.filter(pk__any_of=upstream_ids, lifecycle__in=[Lifecycle.DEPRECATED, Lifecycle.RETIRED]).order_by(
            "name"
        )
    )
    running = {
        d.asset_id: d
        for d in Deprecation.objects.filter(asset__in=inputs, state=DeprecationState.ANNOUNCED).select_related(
            "replacement"
        )
    }
    for item in inputs:
        item.running_deprecation = running.get(item.pk)
    issues = DataIssue.objects.filter(
        asset_id__any_of=[asset.pk, *upstream_ids], status__in=DataIssue.OPEN_STATES
    ).select_related("asset")
    issues = sorted(issues, key=lambda issue: (issue.asset_id != asset.pk, issue.severity, issue.created_at))
    pending = DeprecationImpact.objects.filter(
        asset=asset, acknowledged_at__isnull=True, deprecation__state=DeprecationState.ANNOUNCED
    ).select_related("deprecation__asset")
    return {
        "request": context["request"],
        "asset": asset,
        "badge": badge_to_show(asset, upstream_ids),
        "can_edit": context["can_edit"],
        "is_owner": asset.owner_id == user.pk,
        "watching": watching.is_watching(asset, user),
        "deprecation": deprecation,
        "deprecated_inputs": inputs,
        "own_issues": [issue for issue in issues if issue.asset_id == asset.pk],
        "upstream_issues": [issue for issue in issues if issue.asset_id != asset.pk],
        "pending_acknowledgements": list(pending),
        "last_review": Review.objects.filter(asset=asset).select_related("reviewed_by").first(),
        "certification": Certification.objects.filter(asset=asset).select_related("certified_by").first(),
    }


@register.simple_tag
def trust_badges(assets, recheck_later=False):
    """``{% trust_badges page.object_list as badges %}``: every row's stored badge, one query when all are current.
    ``recheck_later=True`` (search) serves a stale or expired stored badge with its age and leaves the recomputing
    to the worker (see ``trust.badges.badges_for``)."""
    return badges_for(assets, recheck_later=recheck_later)


@register.filter
def badge_of(badges, asset):
    """``{{ badges|badge_of:asset }}``: the asset's badge from a ``trust_badges`` result."""
    return badges.get(getattr(asset, "pk", asset))


@register.inclusion_tag("trust/partials/dependency_panel.html", takes_context=True)
def dependency_panel(context, asset):
    """A dataset's declared consumers, shown to everyone; its owners acknowledge or decline each (one query)."""
    from trust.dependencies import consumers_of

    user = context["request"].user
    consumers = consumers_of(asset)
    return {
        "request": context["request"],
        "asset": asset,
        "consumers": consumers,
        "can_edit": context["can_edit"],
        "mine": [row for row in consumers if user.pk in (row.declared_by_id, row.consumer_user_id)],
    }


ISSUE_TAB_SIZE = 50


@register.inclusion_tag("trust/partials/asset_issue_list.html")
def asset_issue_list(asset):
    """The "Issues and requests" tab: every problem reported on the asset, open ones first (one query)."""
    newest = DataIssue.objects.filter(asset=asset).select_related("reported_by").order_by("-created_at")
    issues = list(newest[: ISSUE_TAB_SIZE + 1])
    shown = sorted(issues[:ISSUE_TAB_SIZE], key=lambda issue: issue.status not in DataIssue.OPEN_STATES)
    return {"asset": asset, "issues": shown, "more": len(issues) > ISSUE_TAB_SIZE}
