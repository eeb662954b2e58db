from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories

# When a daily heartbeat with an hour of grace was last seen, for each status it should show now.
LAST_SEEN_AGO = {
    "fresh": timedelta(hours=1),
    "late": timedelta(days=1, minutes=30),
    "stale": timedelta(days=2),
    "unknown": None,
}


class _Freshness:
    """``freshness[asset_id] = "fresh"`` gives the asset a real heartbeat policy last seen at the right time."""

    def __setitem__(self, asset_id, status):
        ago = LAST_SEEN_AGO[status]
        factories.freshness_policy(
            factories.Asset.objects.get(pk=asset_id), last_seen_at=timezone.now() - ago if ago else None
        )


@pytest.fixture
def freshness(db):
    return _Freshness()
