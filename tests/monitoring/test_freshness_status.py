"""Status is computed from timestamps: the boundaries between fresh, late and stale, moved with the clock."""

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from monitoring.choices import FreshnessStatus, ScheduleKind
from tests.monitoring.conftest import policy_for

SEEN = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


@pytest.fixture
def daily(dataset):
    return policy_for(dataset, last_seen_at=SEEN)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (SEEN + timedelta(hours=23, minutes=59), FreshnessStatus.FRESH),
        (SEEN + timedelta(days=1), FreshnessStatus.LATE),  # due: late from the first second
        (SEEN + timedelta(days=1, minutes=59), FreshnessStatus.LATE),
        (SEEN + timedelta(days=1, hours=1), FreshnessStatus.STALE),  # grace used up
        (SEEN + timedelta(days=30), FreshnessStatus.STALE),
    ],
)
def test_a_daily_policy_is_fresh_then_late_then_stale(daily, moment, expected):
    with time_machine.travel(moment, tick=False):
        assert daily.status_at()[0] == expected


@pytest.mark.django_db
def test_the_reason_says_when_the_update_was_due(daily):
    with time_machine.travel(SEEN + timedelta(days=1, minutes=30), tick=False):
        status, reason = daily.status_at()
    assert status == FreshnessStatus.LATE
    # In the site's one format (core/moments.py), in the time zone of whoever reads it.
    assert "3 Mar 2026, 06:00 UTC" in reason and "grace until 3 Mar 2026, 07:00 UTC" in reason


@pytest.mark.django_db
def test_a_cron_policy_is_due_at_the_next_scheduled_time_in_its_time_zone(dataset):
    # Weekdays at 07:00 in Paris (06:00 UTC in winter). Seen Friday 06:30 UTC: next due Monday 06:00 UTC.
    friday = datetime(2026, 3, 6, 6, 30, tzinfo=UTC)
    policy = policy_for(
        dataset, schedule_kind=ScheduleKind.CRON, cron="0 7 * * 1-5", time_zone="Europe/Paris", last_seen_at=friday
    )
    monday_due = datetime(2026, 3, 9, 6, 0, tzinfo=UTC)
    assert policy.due_after(friday) == monday_due
    with time_machine.travel(monday_due - timedelta(seconds=1), tick=False):
        assert policy.status_at()[0] == FreshnessStatus.FRESH  # the weekend is not late
    with time_machine.travel(monday_due + timedelta(minutes=5), tick=False):
        assert policy.status_at()[0] == FreshnessStatus.LATE
    with time_machine.travel(monday_due + timedelta(hours=1), tick=False):
        assert policy.status_at()[0] == FreshnessStatus.STALE


@pytest.mark.django_db
def test_an_edited_schedule_moves_the_due_time_at_once(dataset):
    """The next cron time is remembered per process (the badge refresher asks it thousands of times); an owner who
    changes the schedule or its time zone sees the new due time, not the remembered one."""
    friday = datetime(2026, 3, 6, 6, 30, tzinfo=UTC)
    policy = policy_for(
        dataset, schedule_kind=ScheduleKind.CRON, cron="0 7 * * 1-5", time_zone="Europe/Paris", last_seen_at=friday
    )
    assert policy.due_after(friday) == datetime(2026, 3, 9, 6, 0, tzinfo=UTC)
    policy.cron = "0 7 * * *"  # every day: Saturday 07:00 in Paris
    assert policy.due_after(friday) == datetime(2026, 3, 7, 6, 0, tzinfo=UTC)
    policy.time_zone = "America/New_York"  # Friday 07:00 in New York is 12:00 UTC, still ahead
    assert policy.due_after(friday) == datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    # Asked with a moment in another zone: the same instant, answered in that zone.
    answer = policy.due_after(friday.astimezone(paris))
    assert answer == datetime(2026, 3, 6, 12, 0, tzinfo=UTC) and answer.tzinfo == paris


@pytest.mark.django_db
def test_unknown_when_never_seen_paused_or_the_probe_failed(dataset):
    policy = policy_for(dataset)
    assert policy.status_at() == (FreshnessStatus.UNKNOWN, "No update has been seen yet.")
    policy.last_seen_at = SEEN
    policy.paused = True
    assert policy.status_at()[0] == FreshnessStatus.UNKNOWN
    policy.paused = False
    policy.method = "file"
    policy.probe_error = policy.probe_reason = "There is no file at 'x.csv' under DATA_ROOT."
    status, reason = policy.status_at(SEEN)
    assert status == FreshnessStatus.UNKNOWN and "x.csv" in reason


@pytest.mark.django_db
def test_an_explicit_failure_is_stale_until_the_next_success(daily):
    daily.last_failed_at = SEEN + timedelta(hours=1)
    assert daily.status_at(SEEN + timedelta(hours=2))[0] == FreshnessStatus.STALE
    daily.last_seen_at = SEEN + timedelta(hours=3)
    assert daily.status_at(SEEN + timedelta(hours=4))[0] == FreshnessStatus.FRESH


@pytest.mark.django_db
def test_a_start_without_a_finish_goes_stale_after_the_grace_time(daily):
    daily.last_started_at = SEEN + timedelta(hours=2)
    assert daily.status_at(SEEN + timedelta(hours=2, minutes=59))[0] == FreshnessStatus.FRESH
    status, reason = daily.status_at(SEEN + timedelta(hours=3))
    assert status == FreshnessStatus.STALE and "has not finished" in reason


@pytest.mark.django_db
def test_only_the_next_deadline_is_planned(daily):
    # Fresh: the next change is the due time; late: the end of grace; stale: nothing until a ping comes.
    assert daily.next_change_at(SEEN + timedelta(hours=1)) == SEEN + timedelta(days=1)
    assert daily.next_change_at(SEEN + timedelta(days=1, minutes=1)) == SEEN + timedelta(days=1, hours=1)
    assert daily.next_change_at(SEEN + timedelta(days=2)) is None


@pytest.mark.django_db
def test_probed_policies_are_checked_again_at_least_every_probe_interval(dataset, settings):
    settings.FRESHNESS_PROBE_INTERVAL = 600
    policy = policy_for(dataset, method="file", file_path="orders.csv", last_seen_at=SEEN)
    assert policy.plan_next_check(SEEN) == SEEN + timedelta(minutes=10)
