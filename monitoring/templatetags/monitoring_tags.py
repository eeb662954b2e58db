"""Monitoring fragments other apps' pages include without their views knowing: freshness and training panels."""

from django import template

from monitoring.freshness import effective_freshness_by_asset
from monitoring.models import FreshnessPolicy

register = template.Library()


@register.inclusion_tag("monitoring/partials/freshness_panel.html", takes_context=True)
def asset_freshness(context, asset):
    """Status (with the input holding the asset back), last update and where to look next. Three queries: the
    policies upstream, their assets, the asset's own policy; the walk upstream and ``can_edit`` are the view's
    (``upstream_hops``, ``can_edit``)."""
    return {
        "asset": asset,
        "freshness": effective_freshness_by_asset({asset.pk: context["upstream_hops"]})[asset.pk],
        "policy": FreshnessPolicy.objects.filter(asset=asset).first(),
        "can_edit": context["can_edit"],
    }
