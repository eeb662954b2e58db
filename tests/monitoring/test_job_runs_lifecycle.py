"""Cancel, retries of named transient errors with backoff, and the reaper for runs whose worker died."""

from datetime import timedelta

import pytest
import requests
import time_machine
from django.utils import timezone

from core.choices import JobState, NotificationKind
from core.jobs import checkpoint, handler
from core.models import Alert, JobRun
from core.tasks import backoff, reap_lost_jobs, run_job
from tests import factories


@pytest.fixture
def flaky_handler():
    calls = []

    @handler("flaky")
    def work(run):
        calls.append(run.attempts)
        if len(calls) <= run.params.get("failures", 0):
            raise requests.ConnectionError("connection reset by peer")
        if run.params.get("bug"):
            raise ValueError("a bug, not a blip")
        return {"attempt": run.attempts}

    return calls


@pytest.fixture
def cancelling_handler():
    @handler("cancel_me")
    def work(run):
        checkpoint(run, "loading", 10)
        JobRun.objects.get(pk=run.pk).cancel()  # someone presses "Cancel" while the job works
        checkpoint(run, "training", 50)
        raise AssertionError("the handler should have stopped at its checkpoint")


@pytest.mark.django_db
def test_a_transient_error_is_retried_and_the_run_then_succeeds(flaky_handler):
    run = JobRun.objects.create(kind="flaky", params={"failures": 2})
    run_job.apply(args=[run.pk])
    run.refresh_from_db()
    assert run.state == JobState.SUCCEEDED
    assert flaky_handler == [1, 2, 3] and run.result == {"attempt": 3}
    assert run.log.count("temporary problem") == 2


@pytest.mark.django_db
def test_a_transient_error_that_persists_fails_the_run_after_the_last_retry(flaky_handler, settings):
    run = JobRun.objects.create(kind="flaky", params={"failures": 99})
    run_job.apply(args=[run.pk])
    run.refresh_from_db()
    assert run.state == JobState.FAILED
    assert run.error.startswith(f"Gave up after {run_job.max_retries + 1} attempts")


@pytest.mark.django_db
def test_other_errors_are_not_retried(flaky_handler):
    run = JobRun.objects.create(kind="flaky", params={"bug": True})
    run_job.apply(args=[run.pk])
    run.refresh_from_db()
    assert run.state == JobState.FAILED and "ValueError" in run.error
    assert flaky_handler == [1]


def test_backoff_doubles_with_jitter_and_is_capped():
    assert 10 <= backoff(0) <= 15
    assert 40 <= backoff(2) <= 45
    assert backoff(20) <= 605


@pytest.mark.django_db
def test_a_running_job_stops_at_its_next_checkpoint_when_cancelled(cancelling_handler):
    run = JobRun.objects.create(kind="cancel_me")
    run_job(run.pk)
    run.refresh_from_db()
    assert run.state == JobState.CANCELLED and run.step == "cancelled"
    assert run.error == ""


@pytest.mark.django_db
def test_a_queued_run_cancelled_before_a_worker_takes_it_never_starts(flaky_handler):
    run = JobRun.objects.create(kind="flaky")
    assert run.cancel()
    run_job(run.pk)
    assert flaky_handler == []
    assert not run.cancel()  # already final


@pytest.mark.django_db
def test_who_may_cancel(owner, teammate, outsider, staff):
    model = factories.registered_model("Churn", owner=owner, team=owner.teams.first())
    run = JobRun.objects.create(kind="flaky", asset=model.asset, requested_by=teammate)
    assert run.can_cancel(owner) and run.can_cancel(teammate) and run.can_cancel(staff)
    assert not run.can_cancel(outsider)


@pytest.mark.django_db
def test_the_reaper_fails_runs_whose_worker_died_and_tells_the_requester(owner, team, settings):
    settings.CELERY_TASK_TIME_LIMIT = 600
    model = factories.registered_model("Churn", owner=owner, team=team)
    requester = factories.user("rita")
    lost = JobRun.objects.create(kind="flaky", asset=model.asset, requested_by=requester)
    alive = JobRun.objects.create(kind="flaky")
    # Both claimed by a worker; then the first worker is killed (no more heartbeats), the second keeps reporting.
    assert lost.claim(task_id="worker-1") and alive.claim(task_id="worker-2")
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        alive.report("training", 50)
        reaped = reap_lost_jobs()
    assert reaped == [lost.pk]
    lost.refresh_from_db()
    alive.refresh_from_db()
    assert lost.state == JobState.FAILED and lost.error.startswith("Worker lost")
    assert alive.state == JobState.RUNNING
    assert Alert.objects.get().job_run == lost
    assert requester.notifications.filter(kind=NotificationKind.JOB).count() == 1
    assert owner.notifications.filter(kind=NotificationKind.JOB).count() == 1
    # A late report from the dead worker cannot bring the run back.
    assert lost.report("training", 90) is False
    assert not lost.finish(JobState.SUCCEEDED)
    assert reap_lost_jobs() == []
