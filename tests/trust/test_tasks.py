"""The periodic trust sweeps, through a real Celery worker."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from catalog.choices import Lifecycle
from core.choices import NotificationKind
from core.models import Notification
from tests import factories
from tests.helpers import wait_until
from trust import tasks
from trust.models import DataIssue, Deprecation


@pytest.mark.django_db(transaction=True)
def test_the_sweeps_run_on_the_worker(celery_worker, owner, outsider):
    orders = factories.dataset("Orders", owner=owner).asset
    yesterday = timezone.localdate() - timedelta(days=1)
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        Deprecation.propose(orders, by=owner, reason="Use v2.", sunset_date=yesterday)
        factories.data_issue(orders, outsider, severity="critical")
    factories.dataset("Stores", owner=owner, next_review_date=timezone.localdate())
    assert tasks.retire_due_deprecations.delay().get(timeout=30) == 1
    assert tasks.alert_unacknowledged_issues.delay().get(timeout=30) == 1
    assert tasks.send_review_notices.delay().get(timeout=30) == 1
    orders.refresh_from_db()
    assert orders.lifecycle == Lifecycle.RETIRED
    assert DataIssue.objects.get().acknowledge_alert_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_deprecation_is_told_by_the_worker_after_the_commit(celery_worker, owner):
    orders = factories.dataset("Orders", owner=owner).asset
    bob = factories.user("bob")
    factories.edge(orders, factories.report("Board pack", owner=bob).asset)
    Deprecation.propose(orders, by=owner, reason="Use v2.", sunset_date=timezone.localdate() + timedelta(days=30))
    told = wait_until(lambda: list(Notification.objects.filter(recipient=bob, kind=NotificationKind.DEPRECATION)))
    assert len(told) == 1 and told[0].title.startswith("Board pack ← Orders: deprecated, to be retired on")
    assert Deprecation.objects.get().announced_told_at is not None


def test_the_beat_schedule_runs_each_sweep_and_expires_before_the_next(settings):
    schedule = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for name in (
        "retire_due_deprecations",
        "alert_unacknowledged_issues",
        "send_review_notices",
        "refresh_stale_badges",
        "relay_deprecations",
    ):
        entry = schedule[f"trust.tasks.{name}"]
        assert entry["options"]["expires"] < entry["schedule"]
