"""Trust's own domain events, sent by the workflows that change issues, deprecations and stored badges, so that
features built on them (problems told downstream, ``trust.downstream``) listen instead of being called from inside
each workflow. Sent inside the writer's transaction, after its rows are written."""

from django.dispatch import Signal

# issue: a data issue was filed, or its status moved (``old_status`` is None for a new one).
issue_changed = Signal()

# deprecation, what: a deprecation was "announced", "withdrawn" or "retired".
deprecation_changed = Signal()

# changes: ``[(asset_id, old_level, new_level, old_verdicts, new_verdicts)]`` of stored badges the refresher
# recomputed to a different level (verdicts as stored: dicts with rule, title, level, reason).
badge_levels_changed = Signal()
