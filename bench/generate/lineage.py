"""Lineage: a layered DAG with a few hubs, as real warehouses have.

Every dataset-to-dataset edge goes from a lower to a higher dataset number, so the graph is acyclic by
construction. Most edges stay inside a domain (short hops, like staging → intermediate → mart); a few cross into
the next domains; a handful of "core" hub datasets feed the first layers of many domains, so each hub has
thousands of descendants. Pipelines sit between their inputs and outputs, reports and model versions are sinks.
"""

import numpy as np

from bench.generate.shape import DOMAIN_SIZE, FULL, HUB_DOMAINS, domain_of_dataset
from catalog.choices import Lifecycle, LineageOrigin
from catalog.models import Asset, Column, ColumnLineage, LineageEdge

# Few edges leave their domain: with more, ten hops from any table reach most of the catalog, which is not
# what real warehouses look like (and not what the issue asks: a few hubs with thousands of descendants).
CROSS_DOMAIN_SHARE = 0.002
HUB_ENTRIES_PER_DOMAIN = 3
READS_PER_PIPELINE, WRITES_PER_PIPELINE = 3, 2
INPUTS_PER_REPORT = 4
TRAINING_SETS_PER_VERSION = 2
# Dataset → dataset edges whose same-named columns are linked column by column (as an OpenLineage columnLineage
# facet or a dbt import would say): one in this many.
COLUMN_LINEAGE_EVERY = 5


def _dataset_edges(gen, rng, target):
    """``target`` distinct dataset → dataset edges (as dataset numbers), each from a lower to a higher number."""
    count = gen.counts["datasets"]
    hubs = min(len(HUB_DOMAINS), count)
    positions = np.arange(count) % DOMAIN_SIZE
    domains = domain_of_dataset(np.arange(count))
    # Draw more than needed: short hops repeat, duplicates are dropped, then the surplus is cut at random.
    rate = 1.4 * target / max(1, count)
    in_degree = np.minimum(rng.poisson(rate, count), positions)
    down = np.repeat(np.arange(count), in_degree)
    hop = np.minimum(rng.geometric(0.08, down.size), positions[down])
    up = down - hop
    crossing = (rng.random(down.size) < CROSS_DOMAIN_SHARE) & (domains[down] > 0)
    low = np.maximum(domains[down] - 3, 0) * DOMAIN_SIZE
    high = domains[down] * DOMAIN_SIZE
    up = np.where(crossing, low + (rng.random(down.size) * (high - low)).astype(np.int64), up)
    # Hubs are fed by nothing but the sources: keep them roots.
    keep = down >= hubs
    keys = np.unique(up[keep].astype(np.int64) * count + down[keep])
    if keys.size > target:
        keys = np.sort(rng.choice(keys, target, replace=False))
    return keys // count, keys % count


def _hub_edges(gen, rng):
    """Each core hub feeds the first layers of many domains (the full-scale counts in ``HUB_DOMAINS``)."""
    count = gen.counts["datasets"]
    domains = max(1, count // DOMAIN_SIZE)
    factor = gen.counts["datasets"] / FULL["datasets"]
    ups, downs = [], []
    for hub, fed in enumerate(HUB_DOMAINS[: min(len(HUB_DOMAINS), count)]):
        fed = max(1, min(domains, round(fed * factor)))
        for domain in sorted(rng.choice(domains, fed, replace=False).tolist()):
            start = domain * DOMAIN_SIZE
            span = max(1, min(DOMAIN_SIZE // 10, count - start))
            for entry in sorted(set(rng.integers(0, span, HUB_ENTRIES_PER_DOMAIN).tolist())):
                target = start + entry
                if target >= len(HUB_DOMAINS) and target < count:
                    ups.append(hub)
                    downs.append(target)
    return np.array(ups, dtype=np.int64), np.array(downs, dtype=np.int64)


def write_lineage(gen):
    rng = gen.rng("lineage")
    count = gen.counts["datasets"]
    datasets = gen.ids["datasets"]
    reports, pipelines, versions = gen.counts["reports"], gen.counts["pipelines"], gen.counts["versions"]
    edges = []  # (upstream asset id, downstream asset id) arrays
    # Sinks: reports and model versions read from the marts (late positions) of a domain.
    domains = max(1, count // DOMAIN_SIZE)

    def mart_of(n, how_many):
        domain = (n % domains) * DOMAIN_SIZE
        span = np.minimum(DOMAIN_SIZE, count - domain)
        return (domain + span // 2)[:, None] + (rng.random((len(n), how_many)) * (span - span // 2)[:, None]).astype(
            np.int64
        )

    report_numbers = np.arange(reports)
    inputs = mart_of(report_numbers, INPUTS_PER_REPORT)
    edges.append((datasets + inputs.ravel(), gen.ids["reports"] + np.repeat(report_numbers, INPUTS_PER_REPORT)))
    version_numbers = np.arange(versions)
    training = mart_of(version_numbers % gen.counts["models"], TRAINING_SETS_PER_VERSION)
    edges.append(
        (datasets + training.ravel(), gen.ids["versions"] + np.repeat(version_numbers, TRAINING_SETS_PER_VERSION))
    )
    # A pipeline reads early tables of its domain and writes later ones: it sits between them in the order.
    pipeline_numbers = np.arange(pipelines)
    base = (pipeline_numbers % domains) * DOMAIN_SIZE
    span = np.minimum(DOMAIN_SIZE, count - base)
    middle = base + span // 2
    reads = base[:, None] + (rng.random((pipelines, READS_PER_PIPELINE)) * (span // 2)[:, None]).astype(np.int64)
    writes = middle[:, None] + (rng.random((pipelines, WRITES_PER_PIPELINE)) * (span - span // 2)[:, None]).astype(
        np.int64
    )
    writes = np.maximum(writes, len(HUB_DOMAINS))  # hubs stay roots
    pipeline_ids = gen.ids["pipelines"] + pipeline_numbers
    edges.append((datasets + reads.ravel(), np.repeat(pipeline_ids, READS_PER_PIPELINE)))
    edges.append((np.repeat(pipeline_ids, WRITES_PER_PIPELINE), datasets + writes.ravel()))
    hub_up, hub_down = _hub_edges(gen, rng)
    edges.append((datasets + hub_up, datasets + hub_down))
    others = sum(len(up) for up, _ in edges)
    up, down = _dataset_edges(gen, rng, max(0, gen.counts["edges"] - others))
    edges.append((datasets + up, datasets + down))
    up = np.concatenate([e[0] for e in edges]).astype(np.int64)
    down = np.concatenate([e[1] for e in edges]).astype(np.int64)
    # Different rules can draw the same pair; the table allows each pair once.
    pairs = np.unique(np.stack([up, down], axis=1), axis=0)
    created = gen.when(rng, len(pairs), 180)
    origins = [LineageOrigin.OPENLINEAGE, LineageOrigin.OPENLINEAGE, LineageOrigin.SCAN, LineageOrigin.MANUAL]
    origin = rng.integers(0, len(origins), len(pairs))
    gen.copy(
        LineageEdge,
        ["upstream_id", "downstream_id", "origin", "created_by_id", "created_at"],
        ((int(u), int(d), origins[origin[n]], None, created[n]) for n, (u, d) in enumerate(pairs.tolist())),
    )
    _column_lineage(gen)
    # Nothing retired still feeds anything: an asset is retired once its deprecation has moved every consumer
    # away. One drawn as retired that still has consumers is being phased out: deprecated. (Drawn at random, a
    # retired input sat within ten hops of almost every report, and almost every badge read "Do not use".)
    assets, edges = Asset._meta.db_table, LineageEdge._meta.db_table
    gen.cursor.execute(
        f"UPDATE {assets} SET lifecycle = %s WHERE lifecycle = %s AND id IN (SELECT upstream_id FROM {edges})",
        [Lifecycle.DEPRECATED, Lifecycle.RETIRED],
    )


def _column_lineage(gen):
    """Column lineage for part of the dataset → dataset edges: the same-named columns of both ends, linked. Which
    edges is a function of their ends' ids, so the data stays a pure function of the seed and the scale."""
    first, last = gen.ids["datasets"], gen.ids["datasets"] + gen.counts["datasets"] - 1
    links, edges, columns = ColumnLineage._meta.db_table, LineageEdge._meta.db_table, Column._meta.db_table
    gen.cursor.execute(
        f"""
        INSERT INTO {links} (upstream_id, downstream_id, origin, transformation, created_at)
        SELECT up.id, down.id, %s, '', %s
        FROM {edges} e
        JOIN {columns} up ON up.dataset_id = e.upstream_id
        JOIN {columns} down ON down.dataset_id = e.downstream_id AND down.name = up.name
        WHERE e.upstream_id BETWEEN %s AND %s AND e.downstream_id BETWEEN %s AND %s
          AND (e.upstream_id + e.downstream_id) %% %s = 0
        ON CONFLICT DO NOTHING
        """,
        [LineageOrigin.OPENLINEAGE, gen.epoch, first, last, first, last, COLUMN_LINEAGE_EVERY],
    )
