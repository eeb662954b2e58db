"""Issue 13 item 5: heartbeats pinged while a sweep runs. The sweep judged the rows it read at claim time, so a ping
that landed in between was ignored: a false "late" alert, the board's counts (Late) disagreeing with its rows (Fresh),
and later, when the data really was late, no alert at all. Each check is judged on its latest observation now."""

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from core.models import Alert
from monitoring import freshness
from monitoring.choices import FreshnessStatus
from monitoring.models import FreshnessPolicy
from tests import factories
from tests.concurrency import run_at_once
from tests.monitoring.conftest import policy_for

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CHECKS = 8


def _board(client):
    """What a reader checks on the board: the counts by status, and the status of each row."""
    response = client.get("/monitoring/")
    assert response.status_code == 200
    counts = {status: count for status, _, count in response.context["counts"] if count}
    rows = Counter(row["status"] for row in response.context["rows"])
    return counts, dict(rows)


@pytest.mark.django_db(transaction=True)
def test_pings_landing_during_a_sweep_raise_no_false_alert_and_the_real_one_later(owner, team, monkeypatch):
    with time_machine.travel(T0, tick=False):
        # Due a minute ago (updated every minute, seen two minutes ago), told fresh so far: the sweep would say late.
        policies = [
            policy_for(
                factories.dataset(f"Feed {n}", owner=owner, team=team),
                period=timedelta(minutes=1),
                grace=timedelta(hours=1),
                last_seen_at=T0 - timedelta(minutes=2),
                announced_status=FreshnessStatus.FRESH,
                next_check_at=T0 - timedelta(minutes=1),
            )
            for n in range(CHECKS)
        ]
        keys, lock = [policy.ping_key for policy in policies], threading.Lock()

        def ping_one():
            with lock:
                key = keys.pop()
            assert Client().get(f"/ping/{key}").status_code == 200

        claim_due, pinged = freshness.claim_due, []

        def claim_then_pings_land(*args, **kwargs):
            claimed = claim_due(*args, **kwargs)
            if claimed and not pinged:
                # Every pipeline reports in after the sweep read the rows and before it judged them, all at once.
                pinged.extend(run_at_once(ping_one, times=CHECKS) or ["ok"])
            return claimed

        monkeypatch.setattr(freshness, "claim_due", claim_then_pings_land)
        assert freshness.sweep(lambda ids: None) == {"dispatched": 0, "evaluated": CHECKS}
        assert pinged == ["ok"]  # no ping failed
        monkeypatch.undo()

        assert list(Alert.objects.values_list("title", flat=True)) == []  # no false "late" alert
        assert set(FreshnessPolicy.objects.values_list("announced_status", flat=True)) == {FreshnessStatus.FRESH}
        reader = Client()
        reader.force_login(owner)
        assert _board(reader) == ({"fresh": CHECKS}, {"fresh": CHECKS})

    # Two minutes later nobody has pinged again: now they really are late, and each is told exactly once.
    with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
        assert freshness.sweep(lambda ids: None)["evaluated"] == CHECKS
        freshness.sweep(lambda ids: None)  # a second sweep finds nothing new to say
        alerts = list(Alert.objects.values_list("asset__name", "from_status", "to_status"))
        assert sorted(alerts) == [(f"Feed {n}", "fresh", "late") for n in range(CHECKS)]
        assert _board(reader) == ({"late": CHECKS}, {"late": CHECKS})
