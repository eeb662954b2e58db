"""Walking lineage in the database: one recursive query, bounded by depth, whatever the size of the graph.

The query is a breadth-first search that carries what it has already seen: each step expands only the assets
first reached at the previous step (the frontier) and records them with their hop count. Every asset is
expanded once, at its shortest distance, so a hub whose descendants are reachable by many paths of different
lengths costs one index lookup per descendant, not one per path length (a plain ``UNION`` over
``(asset, depth)`` rows expands the same asset again at every depth it is reached at: on the benchmark's million
edges that is 1.7-2 times slower from a hub, see bench/RESULTS.md). Cycles end for the same reason, and the walk
stops at ``max_depth``.

What is seen is a plain ``bigint[]``, and each step removes it from what it reached with ``EXCEPT`` (one hash
set per step). An earlier version kept it as a jsonb object probed with ``?`` for every edge: casting each id to
text and looking it up in a 39,000-key object cost more than the index lookups themselves (10 hops down from the
benchmark's largest hub it was 2.6 times slower, with the same answers for 350 starts in both directions).
"""

from dataclasses import dataclass

from django.db import connection, transaction

from catalog.models import Asset, LineageEdge

DEFAULT_DEPTH = 3
MAX_DEPTH = 10

# One row per hop: the assets first reached at that hop (the frontier), everything seen up to it, and the hop.
# The frontier is sorted so that its index lookups walk the (near, far) index in order, pages already in cache;
# that index holds both ends, so the lookups never read the table (index-only scans). ``start`` is where a walk
# began: one walk from all the starts together (``_FROM_ALL``), or one from each (``_FROM_EACH``) in one query.
_WALK = """
WITH RECURSIVE bfs(start, frontier, seen, depth) AS (
    {starts}
  UNION ALL
    SELECT b.start, step.found, b.seen || step.found, b.depth + 1
    FROM bfs b, LATERAL (
        SELECT array_agg(reached.id ORDER BY reached.id) AS found
        FROM (
            SELECT e.{far} AS id FROM unnest(b.frontier) expanded(id) JOIN {edges} e ON e.{near} = expanded.id
            EXCEPT
            SELECT unnest(b.seen)
        ) reached
    ) step
    WHERE b.depth < %s AND step.found IS NOT NULL
)
SELECT start, frontier, depth FROM bfs WHERE depth > 0
"""
_FROM_ALL = "SELECT 0::bigint, starts, starts, 0 FROM (SELECT %s::bigint[] AS starts) given"
_FROM_EACH = "SELECT start, ARRAY[start], ARRAY[start], 0 FROM unnest(%s::bigint[]) given(start)"

# The embedded SQLite default (``make run`` with no server) has no arrays or jsonb: a plain recursive walk over
# ``(asset, depth)`` rows. It expands an asset once per depth it is reached at, fine at a demo's size.
_WALK_PORTABLE = """
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
    edges = LineageEdge._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_WALK.format(starts=_FROM_ALL, far=far, near=near, edges=edges), [asset_ids, max_depth])
            # One array per hop, not one row per asset: 39,000 rows from a hub cost more to send than ten arrays.
            return {pk: hops for _, frontier, hops in cursor.fetchall() for pk in frontier}
        starts = ", ".join(["%s"] * len(asset_ids))
        cursor.execute(_WALK_PORTABLE.format(far=far, near=near, edges=edges, starts=starts), [*asset_ids, max_depth])
        found = dict(cursor.fetchall())
    for pk in asset_ids:
        found.pop(pk, None)
    return found


def walk_hops(asset_ids, direction="down", max_depth=DEFAULT_DEPTH):
    """``walk`` one hop at a time, nearest first, as the database reaches them: ``(hops, [asset ids])`` per hop.

    The same query, read through a server-side cursor one row (one hop) at a time: PostgreSQL computes the next step
    of a recursive query only when it is fetched, so a caller can send the first hop's assets before the tenth hop is
    walked. The cursor is read inside a transaction because one held over a commit (what Django opens in autocommit)
    is computed in full when it opens. Elsewhere (SQLite), ``walk``'s answer grouped by hop.
    """
    asset_ids = [int(pk) for pk in asset_ids]
    if not asset_ids:
        return
    if connection.vendor != "postgresql":
        by_hop = {}
        for pk, hop in walk(asset_ids, direction, max_depth).items():
            by_hop.setdefault(hop, []).append(pk)
        yield from sorted(by_hop.items())
        return
    max_depth = max(1, min(int(max_depth), MAX_DEPTH))
    near, far = ("upstream_id", "downstream_id") if direction == "down" else ("downstream_id", "upstream_id")
    sql = _WALK.format(starts=_FROM_ALL, far=far, near=near, edges=LineageEdge._meta.db_table)
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(sql, [asset_ids, max_depth])
        # ``fetchone``, not iteration: iterating fetches rows in batches of 2,000, that is every hop at once.
        while (row := cursor.fetchone()) is not None:
            _, frontier, hops = row
            yield hops, frontier


def upstream_of(asset):
    """``{asset_id: hops}`` for everything upstream of ``asset``, as far as any panel looks (``MAX_DEPTH``).

    An asset page walks once and hands this to its panels (the trust header, the freshness panel), which read it.
    """
    return walk([asset.pk], direction="up", max_depth=MAX_DEPTH)


def walk_each(asset_ids, direction="down", max_depth=DEFAULT_DEPTH):
    """``{asset_id: {asset_id: hops}}``: ``walk`` from each of ``asset_ids`` on its own, in one query.

    A trust badge needs each asset's own ancestors. One walk from all of them and the edges between everything
    it found would do, but the edges among the ten thousand assets upstream of a page of deep reports number
    over a hundred thousand; the walks from each, a few thousand rows in all, cost less than reading them.
    """
    asset_ids = list(dict.fromkeys(int(pk) for pk in asset_ids))
    if connection.vendor != "postgresql":
        return {pk: walk([pk], direction, max_depth) for pk in asset_ids}
    found = {pk: {} for pk in asset_ids}
    if not asset_ids:
        return found
    max_depth = max(1, min(int(max_depth), MAX_DEPTH))
    near, far = ("upstream_id", "downstream_id") if direction == "down" else ("downstream_id", "upstream_id")
    with connection.cursor() as cursor:
        walk_sql = _WALK.format(starts=_FROM_EACH, far=far, near=near, edges=LineageEdge._meta.db_table)
        cursor.execute(walk_sql, [asset_ids, max_depth])
        for start, frontier, hops in cursor.fetchall():
            found[start].update(dict.fromkeys(frontier, hops))
    return found


def impact_key(hops, name, pk):
    """The order of every impact list: nearest first, then by name."""
    return hops, name.lower(), pk


class ImpactOrder:
    """The ids of ``hops`` (``{id: hops}`` from ``walk``) as a sequence in ``impact_key`` order.

    A slice reads the names of only the hops it spans, one query each: the first page of a hub's 39,000 assets
    downstream sorts its 143 direct dependents, not all 39,000. A ``Paginator`` takes it as it is.
    """

    def __init__(self, hops):
        self.hops = hops
        by_hop = {}
        for pk, hop in hops.items():
            by_hop.setdefault(hop, []).append(pk)
        self.levels = [by_hop[hop] for hop in sorted(by_hop)]

    def __len__(self):
        return len(self.hops)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            raise TypeError("ImpactOrder is read in slices, e.g. order[0:50].")
        start, stop, _ = index.indices(len(self))
        ids, offset = [], 0
        for level in self.levels:
            low, high = max(start - offset, 0), min(stop - offset, len(level))
            if low < high:
                names = Asset.objects.filter(pk__any_of=level).values_list("pk", "name")
                ordered = sorted(names, key=lambda row: impact_key(self.hops[row[0]], row[1], row[0]))
                ids += [pk for pk, _ in ordered[low:high]]
            offset += len(level)
        return ids


def with_hops(hops, assets):
    """The assets of ``hops`` (``{id: hops}`` from ``walk``), each with ``.hops`` set, in ``impact_key`` order."""
    rows = [assets[pk] for pk in hops if pk in assets]
    for row in rows:
        row.hops = hops[row.pk]
    return sorted(rows, key=lambda row: impact_key(row.hops, row.name, row.pk))


def column_walk(column_ids, direction="down", max_depth=MAX_DEPTH):
    """``{column_id: hops}`` for the columns fed by (``down``) or feeding (``up``) ``column_ids`` through column
    lineage, within ``max_depth`` hops, the starts left out. One query per hop: column graphs are narrow."""
    return {pk: hop for hop, reached in column_walk_hops(column_ids, direction, max_depth) for pk in reached}


def column_walk_hops(column_ids, direction="down", max_depth=MAX_DEPTH):
    """``column_walk`` one hop at a time, nearest first: ``(hops, {column ids})`` per hop, each hop's query run
    when the caller asks for it."""
    from catalog.models import ColumnLineage

    near, far = ("upstream_id", "downstream_id") if direction == "down" else ("downstream_id", "upstream_id")
    seen = {int(pk) for pk in column_ids}
    frontier = set(seen)
    for hop in range(1, max(1, min(int(max_depth), MAX_DEPTH)) + 1):
        reached = set(ColumnLineage.objects.filter(**{f"{near}__in": frontier}).values_list(far, flat=True)) - seen
        if not reached:
            return
        yield hop, reached
        seen |= reached
        frontier = reached


def column_consumers(dataset_id, column_names):
    """``{asset_id: [column names]}`` of the datasets that read the named columns of a dataset, directly or further
    down the column lineage; None when nothing downstream of this dataset is known column by column (so a caller
    falls back to the whole lineage downstream)."""
    from catalog.models import Column, ColumnLineage

    if not ColumnLineage.objects.filter(upstream__dataset_id=dataset_id).exists():
        return None
    starts = Column.objects.filter(dataset_id=dataset_id, name__in=list(column_names)).values_list("pk", flat=True)
    reached = column_walk(list(starts), "down")
    consumers = {}
    for asset_id, name in Column.objects.filter(pk__in=list(reached)).values_list("dataset_id", "name"):
        consumers.setdefault(asset_id, []).append(name)
    return {asset_id: sorted(names) for asset_id, names in consumers.items()}


@dataclass(frozen=True)
class ColumnLink:
    """One column lineage link as a page shows it: both ends, the far one with its dataset and asset loaded."""

    upstream: object
    downstream: object
    origin: str


def column_links(columns):
    """``{column_id: {"sources": [ColumnLink], "consumers": [ColumnLink]}}`` for ``columns`` (one dataset's), in two
    queries: the links (each side reads its own index) and the columns at their far ends with their datasets.
    Joining the columns in the first query made PostgreSQL read the whole column table (70 ms beside 5,000 models)."""
    from django.db.models import Q

    from catalog.models import Column, ColumnLineage

    own = {column.pk: column for column in columns}
    links = {}
    if not own:
        return links
    rows = list(
        ColumnLineage.objects.filter(Q(downstream_id__any_of=list(own)) | Q(upstream_id__any_of=list(own)))
        .order_by("pk")
        .values_list("upstream_id", "downstream_id", "origin")
    )
    far = {pk for up, down, _ in rows for pk in (up, down)} - own.keys()
    found = {**own, **Column.objects.select_related("dataset__asset").in_bulk(list(far))}
    for up, down, origin in rows:
        link = ColumnLink(found[up], found[down], origin)
        if down in own:
            links.setdefault(down, {"sources": [], "consumers": []})["sources"].append(link)
        if up in own:
            links.setdefault(up, {"sources": [], "consumers": []})["consumers"].append(link)
    return links
