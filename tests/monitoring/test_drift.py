"""The drift rule: more than 3 MADs from the median of the last 20 finished runs, on duration or output rows."""

from datetime import UTC, datetime, timedelta

import pytest

from catalog.choices import RunOrigin, RunState
from catalog.models import PipelineRun
from core.choices import NotificationKind
from core.models import Alert
from monitoring.choices import DriftMeasure
from monitoring.drift import assess, check_run
from monitoring.models import DriftFinding
from tests import factories

START = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def etl(owner, team):
    return factories.pipeline("Orders ETL", owner=owner, team=team)


def _run(pipeline, number, seconds, rows, state=RunState.COMPLETE):
    started = START + timedelta(days=number)
    return PipelineRun.objects.create(
        pipeline=pipeline, run_id=f"run-{number}", origin=RunOrigin.HEARTBEAT, state=state,
        started_at=started, ended_at=started + timedelta(seconds=seconds), output_rows=rows,
    )  # fmt: skip


def _history(pipeline, count=20):
    # Durations 590..610 s and rows 1990..2010: median 600 / 2000, MAD about 5.
    return [_run(pipeline, n, 590 + (n * 7) % 21, 1990 + (n * 3) % 21) for n in range(count)]


def test_the_rule_uses_median_and_median_absolute_deviation():
    history = [10, 11, 9, 10, 12, 10, 8, 10]
    assert assess(10, history)[0] is False
    drifted, middle, mad = assess(30, history)
    assert (drifted, middle, mad) == (True, 10, 0.5)
    # One old outlier does not hide the next one, as it would with mean and standard deviation.
    assert assess(30, [*history, 500])[0] is True


def test_a_perfectly_regular_history_tolerates_small_changes():
    assert assess(61, [60] * 20)[0] is False
    assert assess(120, [60] * 20)[0] is True


@pytest.mark.django_db
def test_a_run_far_slower_than_usual_raises_one_drift_alert(etl, owner):
    _history(etl)
    slow = _run(etl, 30, 1800, 2001)
    findings = check_run(slow)
    assert [(f.measure, f.value, f.history_size) for f in findings] == [(DriftMeasure.DURATION, 1800.0, 20)]
    assert 590 <= findings[0].median <= 610
    alert = Alert.objects.get()
    assert alert.kind == NotificationKind.DRIFT and alert.asset == etl.asset
    assert "run-30" in alert.title and "1,800 s" in alert.body
    assert owner.notifications.filter(kind=NotificationKind.DRIFT).count() == 1
    # Reported again (OpenLineage after a heartbeat): no second finding, no second alert.
    assert check_run(slow) == []
    assert Alert.objects.count() == 1


@pytest.mark.django_db
def test_a_run_writing_far_fewer_rows_is_drift_too(etl):
    _history(etl)
    findings = check_run(_run(etl, 30, 600, 150))
    assert [f.measure for f in findings] == [DriftMeasure.OUTPUT_ROWS]


@pytest.mark.django_db
def test_a_normal_run_is_not_drift(etl):
    _history(etl)
    assert check_run(_run(etl, 30, 612, 2009)) == []
    assert not Alert.objects.exists()


@pytest.mark.django_db
def test_only_the_last_twenty_finished_runs_count(etl):
    # Long ago the pipeline took an hour; the last twenty runs took ten minutes.
    for n in range(20):
        _run(etl, n, 3600, 2000)
    for n in range(20, 40):
        _run(etl, n, 600, 2000)
    _run(etl, 40, 9000, 2000, state=RunState.FAIL)  # failed runs are not history
    assert [f.measure for f in check_run(_run(etl, 41, 3600, 2000))] == [DriftMeasure.DURATION]


@pytest.mark.django_db
def test_too_little_history_says_nothing(etl):
    _history(etl, count=4)
    assert check_run(_run(etl, 30, 9999, 1)) == []
    assert not DriftFinding.objects.exists()


@pytest.mark.django_db
def test_heartbeats_with_run_ids_feed_the_rule(etl, client):
    from tests.monitoring.conftest import policy_for

    _history(etl)
    policy = policy_for(etl)
    client.get(f"/ping/{policy.ping_key}/start?rid=big")
    client.get(f"/ping/{policy.ping_key}?rid=big&rows=90000")
    # Finished within the same second, and 45 times the usual volume: both are far outside the history.
    assert set(DriftFinding.objects.values_list("measure", flat=True)) == {"duration", "output_rows"}
    assert Alert.objects.get().title == "Orders ETL: duration and output rows drift in run big"


@pytest.mark.django_db
def test_a_finished_ping_without_a_start_has_no_duration_and_raises_no_duration_drift(etl, client):
    """Issue 13 item 9: ``?rid=`` on a ``finished`` ping with no ``/start`` recorded a 0-second run, which raised a
    duration-drift alert and an email. Its duration is unknown; its rows still count."""
    from django.core import mail

    from tests.monitoring.conftest import policy_for

    _history(etl)
    policy = policy_for(etl)
    assert client.get(f"/ping/{policy.ping_key}?rid=no-start&rows=2001").status_code == 200
    run = PipelineRun.objects.get(pipeline=etl, run_id="no-start")
    assert (run.state, run.started_at, run.duration_seconds) == (RunState.COMPLETE, None, None)
    assert not DriftFinding.objects.exists()
    assert not Alert.objects.exists() and mail.outbox == []
    # The volume rule still looks at such a run.
    assert client.get(f"/ping/{policy.ping_key}?rid=no-start-2&rows=90000").status_code == 200
    assert list(DriftFinding.objects.values_list("measure", flat=True)) == [DriftMeasure.OUTPUT_ROWS]
    assert Alert.objects.get().title == "Orders ETL: output rows drift in run no-start-2"
