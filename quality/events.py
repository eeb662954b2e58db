"""Quality's domain events, sent by ``quality.results.record_results`` (the one writer of check results) inside its
transaction, so trust marks badges without quality importing it, and the downstream fan-out hears about failures.

Arguments are plain ids.
"""

from django.dispatch import Signal

# asset_ids, check_ids: these checks' latest result turned from passing (or none) to failing.
check_failed = Signal()

# asset_ids, check_ids: these checks' latest result turned from failing to passing.
check_recovered = Signal()

# asset_ids: checks of these assets were created, marked gone from their tool, or came back; the badge counts them.
checks_changed = Signal()
