"""The lineage page's graph, drawn where the page already has the badges (from the trust tags) to colour it."""

from django import template

from catalog.graph import render_svg

register = template.Library()


@register.simple_tag
def lineage_graph(graph, badges=None):
    """``{% lineage_graph graph badges %}``: the SVG of ``graph`` (the view's centre, upstream, downstream, assets
    and edges), each node with its badge from ``badges`` (``{asset_id: badge}``)."""
    return render_svg(badges=badges, **graph)
