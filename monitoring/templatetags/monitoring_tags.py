"""Monitoring fragments other apps' pages include without their views knowing: freshness and training panels."""

from django import template

from monitoring.freshness import effective_freshness
from monitoring.models import FreshnessPolicy

register = template.Library()


@register.inclusion_tag("monitoring/partials/freshness_panel.html", takes_context=True)
def asset_freshness(context, asset):
    """Status (with the input holding the asset back), last update and where to look next. Three queries."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "asset": asset,
        "freshness": effective_freshness(asset),
        "policy": FreshnessPolicy.objects.filter(asset=asset).first(),
        "can_edit": bool(user and asset.can_edit(user)),
    }
