"""The lineage graph as server-side SVG: columns by hops, left (upstream) to right (downstream).

No JavaScript and no layout library: each asset sits in the column of its distance from the centre, rows sorted by
kind then name, so 200 nodes stay readable (the picture grows taller and scrolls, labels never overlap).
"""

from django.utils.html import escape
from django.utils.safestring import mark_safe

NODE_WIDTH, NODE_HEIGHT = 190, 34
COLUMN_GAP, ROW_GAP, MARGIN = 70, 10, 10
LABEL_CHARS = 26
KIND_COLOURS = {
    "source": "#8e44ad",
    "dataset": "#1e6f9f",
    "pipeline": "#7f8c8d",
    "report": "#27ae60",
    "model": "#d35400",
    "model_version": "#e67e22",
}


def _label(text, limit=LABEL_CHARS):
    return text if len(text) <= limit else text[: limit - 1] + "…"


def layout(centre, upstream, downstream, assets):
    """``{asset_id: (x, y)}``: upstream at negative hops, downstream at positive, the centre at zero."""
    columns = {0: [centre]}
    for hops_by_id, sign in ((upstream, -1), (downstream, 1)):
        for asset_id, hops in hops_by_id.items():
            if asset_id in assets and asset_id != centre.pk:
                columns.setdefault(sign * hops, []).append(assets[asset_id])
    positions = {}
    first = min(columns)
    for column, members in columns.items():
        members.sort(key=lambda asset: (asset.kind, asset.name.lower()))
        x = MARGIN + (column - first) * (NODE_WIDTH + COLUMN_GAP)
        for row, asset in enumerate(members):
            positions.setdefault(asset.pk, (x, MARGIN + row * (NODE_HEIGHT + ROW_GAP)))
    return positions


TRUST_COLOURS = {"trusted": "#27ae60", "caution": "#e69b00", "do_not_use": "#c0392b", "unknown": "#7f8c8d"}


def render_svg(centre, upstream, downstream, assets, edges, badges=None):
    """An ``<svg>`` of the neighbourhood. ``assets`` maps id → Asset (with owner), ``edges`` is (up_id, down_id),
    ``badges`` maps id → trust badge, shown as a coloured dot and in each node's tooltip."""
    badges = badges or {}
    positions = layout(centre, upstream, downstream, assets)
    width = max(x for x, _ in positions.values()) + NODE_WIDTH + MARGIN
    height = max(y for _, y in positions.values()) + NODE_HEIGHT + MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lineage-graph" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="group" aria-label="Lineage of {escape(centre.name)}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#888"/></marker></defs>',
    ]
    for up_id, down_id in edges:
        if up_id not in positions or down_id not in positions:
            continue
        (x1, y1), (x2, y2) = positions[up_id], positions[down_id]
        start_x, start_y = x1 + NODE_WIDTH, y1 + NODE_HEIGHT / 2
        end_x, end_y = x2, y2 + NODE_HEIGHT / 2
        bend = max(abs(end_x - start_x) / 2, 40)
        parts.append(
            f'<path d="M {start_x} {start_y} C {start_x + bend} {start_y}, {end_x - bend} {end_y}, {end_x} {end_y}" '
            'fill="none" stroke="#999" stroke-width="1.2" marker-end="url(#arrow)"/>'
        )
    for asset_id, (x, y) in positions.items():
        asset = assets[asset_id] if asset_id != centre.pk else centre
        colour = KIND_COLOURS.get(asset.kind, "#555")
        stroke = 3 if asset_id == centre.pk else 1.5
        owner = asset.owner.username if asset.owner else "no owner"
        badge = badges.get(asset_id)
        trust = f" — {badge.label}: {badge.summary}" if badge else ""
        dot = (
            f'<circle cx="{x + NODE_WIDTH - 10}" cy="{y + 10}" r="5" fill="{TRUST_COLOURS.get(badge.level, "#555")}" '
            f'data-trust="{escape(badge.level)}"/>'
            if badge
            else ""
        )
        parts.append(
            f'<a href="{escape(asset.get_absolute_url())}" data-testid="node-{escape(asset.slug)}">'
            f"<title>{escape(asset.get_kind_display())}: {escape(asset.name)} — {escape(owner)}{escape(trust)}</title>"
            f'<rect x="{x}" y="{y}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="5" fill="#fff" '
            f'stroke="{colour}" stroke-width="{stroke}"/>'
            f'<rect x="{x}" y="{y}" width="6" height="{NODE_HEIGHT}" rx="2" fill="{colour}"/>'
            f'<text x="{x + 12}" y="{y + 14}" font-size="12" fill="#222">{escape(_label(asset.name))}</text>'
            f'<text x="{x + 12}" y="{y + 28}" font-size="10" fill="#666">'
            f"{escape(asset.get_kind_display())} · {escape(_label(owner, 18))}</text>{dot}</a>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above
