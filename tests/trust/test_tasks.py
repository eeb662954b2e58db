"""The periodic trust sweeps, through a real Celery worker."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from catalog.choices import Lifecycle
from tests import factories
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


def test_the_beat_schedule_runs_each_sweep_and_expires_before_the_next(settings):
    schedule = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for name in (
        "retire_due_deprecations",
        "alert_unacknowledged_issues",
        "send_review_notices",
        "refresh_stale_badges",
    ):
        entry = schedule[f"trust.tasks.{name}"]
        assert entry["options"]["expires"] < entry["schedule"]
