"""Walking lineage in the database: one recursive query, bounded by depth, whatever the size of the graph.

Cycles cannot loop forever: every step adds one to the depth and the walk stops at ``max_depth``; ``UNION``
drops rows already seen at the same depth, so a cycle costs at most one row per node and depth.
"""

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from catalog.changes import record_change
from catalog.choices import ChangeAction, LineageOrigin
from catalog.models import Asset, LineageEdge

DEFAULT_DEPTH = 3
MAX_DEPTH = 10

_WALK = """
WITH RECURSIVE walk(asset_id, depth) AS (
    SELECT e.{far}, 1 FROM {edges} e WHERE e.{near} IN ({starts})
    UNION
    SELECT e.{far}, w.depth + 1 FROM {edges} e JOIN walk w ON e.{near} = w.asset_id WHERE w.depth < %s
)
SELECT asset_id, MIN(depth) FROM walk GROUP BY asset_id
"""


def walk(asset_ids, direction="down", max_depth=DEFAULT_DEPTH):
    """``{asset_id: hops}`` for everything downstream (or upstream) of ``asset_ids`` within ``max_depth`` hops.

    The starting assets are left out, even when a cycle leads back to them.
    """
    asset_ids = [int(pk) for pk in asset_ids]
    if not asset_ids:
        return {}
    max_depth = max(1, min(int(max_depth), MAX_DEPTH))
    near, far = ("upstream_id", "downstream_id") if direction == "down" else ("downstream_id", "upstream_id")
    sql = _WALK.format(far=far, near=near, edges=LineageEdge._meta.db_table, starts=", ".join(["%s"] * len(asset_ids)))
    with connection.cursor() as cursor:
        cursor.execute(sql, [*asset_ids, max_depth])
        found = dict(cursor.fetchall())
    for pk in asset_ids:
        found.pop(pk, None)
    return found


def add_edge(upstream, downstream, actor, origin=LineageOrigin.MANUAL):
    """Record that data flows from ``upstream`` to ``downstream``; raises ``ValidationError`` for a self-loop or a
    duplicate. Both assets' histories say who added it."""
    if upstream.pk == downstream.pk:
        raise ValidationError("An asset cannot feed itself.")
    with transaction.atomic():
        edge, created = LineageEdge.objects.get_or_create(
            upstream=upstream, downstream=downstream, defaults={"origin": origin, "created_by": actor}
        )
        if not created:
            raise ValidationError(f"{upstream} already feeds {downstream}.")
        for asset, other, side in ((upstream, downstream, "downstream"), (downstream, upstream, "upstream")):
            record_change(asset, actor, {side: ""}, {side: f"added {other}"}, action=ChangeAction.LINEAGE)
    return edge


def remove_edge(upstream, downstream, actor):
    """Forget the edge from ``upstream`` to ``downstream``; True if there was one."""
    with transaction.atomic():
        deleted, _ = LineageEdge.objects.filter(upstream=upstream, downstream=downstream).delete()
        if deleted:
            for asset, other, side in ((upstream, downstream, "downstream"), (downstream, upstream, "upstream")):
                record_change(asset, actor, {side: f"{other}"}, {side: "removed"}, action=ChangeAction.LINEAGE)
    return bool(deleted)


def with_hops(hops, assets):
    """The assets of ``hops`` (``{id: hops}`` from ``walk``), each with ``.hops`` set, nearest first."""
    rows = [assets[pk] for pk in hops if pk in assets]
    for row in rows:
        row.hops = hops[row.pk]
    return sorted(rows, key=lambda row: (row.hops, row.kind, row.name.lower()))


def impact(asset, max_depth=DEFAULT_DEPTH):
    """Everything downstream of ``asset`` with owner and team joined: two queries, whatever the graph."""
    hops = walk([asset.pk], "down", max_depth)
    return with_hops(hops, {row.pk: row for row in Asset.objects.with_people().filter(pk__in=list(hops))})
