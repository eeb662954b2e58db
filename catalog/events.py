"""The catalog's domain events. Each is sent by the one function that makes the change (``catalog.assets``, the
OpenLineage ingester, the scanner), bulk writers included, once per change and after the rows are written (inside
the writer's transaction, so a receiver's own writes commit or roll back with it).

Receivers live in the apps above (trust keeps its stored badges true with them; monitoring checks finished runs).
Arguments are plain ids, never rows, so a bulk write sends one event for all it wrote.
"""

from django.dispatch import Signal

# asset_ids, travels: what these assets say about themselves changed (an edit, a rescan, an admin form).
# ``travels`` is True when it is something the assets downstream read too (the name, the lifecycle).
asset_changed = Signal()

# asset_ids: these assets are about to be deleted; their lineage is still there for the receivers to walk.
assets_removed = Signal()

# downstream_ids: edges into these assets were added or removed, so what they inherit from upstream may differ.
lineage_changed = Signal()

# run: a pipeline run was recorded as completed (OpenLineage COMPLETE, or a heartbeat's finish ping).
run_completed = Signal()
