"""Walking lineage in the database: one recursive query, bounded by depth, whatever the size of the graph.

Cycles cannot loop forever: every step adds one to the depth and the walk stops at ``max_depth``; ``UNION``
drops rows already seen at the same depth, so a cycle costs at most one row per node and depth.
"""

from django.db import connection

from catalog.models import LineageEdge

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
