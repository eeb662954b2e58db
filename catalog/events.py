"""The catalog's domain events. Each is sent by the one function that makes the change (``catalog.assets``, the
OpenLineage ingester, the scanner), bulk writers included, once per change and after the rows are written (inside
the writer's transaction, so a receiver's own writes commit or roll back with it).

Receivers live in the apps above (trust keeps its stored badges true with them; monitoring checks finished runs).
Arguments are plain ids, never rows, so a bulk write sends one event for all it wrote.
"""

import threading
from contextlib import contextmanager

from django.dispatch import Signal

# asset_ids, travels: what these assets say about themselves changed (an edit, a rescan, an admin form).
# ``travels`` is True when it is something the assets downstream read too (the name, the lifecycle).
asset_changed = Signal()

# asset_ids: these assets are about to be deleted; their lineage is still there for the receivers to walk.
assets_removed = Signal()

# downstream_ids: edges into these assets were added or removed, so what they inherit from upstream may differ.
lineage_changed = Signal()

# change, consumers: a rescan or a schema facet changed a dataset's columns (a ``SchemaChange``), sent before anyone
# is told (``schema_changed`` below follows once the catalog's notice is out); ``consumers`` as for ``schema_changed``.
# A receiver may tell people first (trust: the consumers who declared a dependency on those columns) and answers
# the ids of users who must not get the general notice (a consumer that depends only on other columns).
schema_changing = Signal()

# change, consumers: a scan or an OpenLineage event found a dataset's schema changed (a ``SchemaChange`` row, just
# written); ``consumers``: ``{asset_id: [columns]}`` reading its removed or retyped columns through column lineage, or
# None when nothing downstream is known column by column.
schema_changed = Signal()

# run: a pipeline run was recorded as completed (OpenLineage COMPLETE, or a heartbeat's finish ping).
run_completed = Signal()


# dataset_id, run_id, at, assertions: an OpenLineage event reported data quality assertions on a dataset (its
# ``dataQualityAssertions`` facet: [{assertion, success, column, name, severity, actual, expected}]). Quality records
# them as check results.
quality_reported = Signal()

# dataset_id, run_id, at, metrics: an OpenLineage event reported what a run measured of a dataset (its
# ``dataQualityMetrics`` facet, checked: {rowCount, bytes, fileCount, columnMetrics: {column: {nullCount,
# distinctCount, sum, count, min, max, quantiles}}}). Quality records them as the dataset's metrics of that run.
quality_measured = Signal()


class _Gathered:
    """Lineage changes held back by ``gathered()``: the downstream ids, in one set."""

    def __init__(self):
        self.downstream_ids = set()


_gathering = threading.local()


@contextmanager
def gathered():
    """Inside the block, ``announce_lineage_changed`` only gathers ids; the block's end sends one
    ``lineage_changed`` for all of them. For a writer that works through many small transactions (the OpenLineage
    ingester takes a batch of events, each in its own): the receivers walk downstream once per batch, not once per
    event. Announcing after the writes committed is safe: a badge computed meanwhile is marked stale again."""
    outer = getattr(_gathering, "current", None)
    if outer is not None:
        yield
        return
    _gathering.current = _Gathered()
    try:
        yield
        ids = _gathering.current.downstream_ids
    finally:
        _gathering.current = None
    if ids:
        lineage_changed.send(sender="catalog", downstream_ids=sorted(ids))


def announce_lineage_changed(downstream_ids):
    """Send ``lineage_changed`` now, or gather it when inside ``gathered()``."""
    current = getattr(_gathering, "current", None)
    if current is not None:
        current.downstream_ids.update(downstream_ids)
        return
    lineage_changed.send(sender="catalog", downstream_ids=list(downstream_ids))
