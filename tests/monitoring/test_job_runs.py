import pytest
from django.db import transaction

from core.choices import JobKind, JobState
from core.jobs import JobFailed, handler
from core.models import JobRun
from core.tasks import run_job


@pytest.fixture
def recorded_handler():
    calls = []

    @handler("test_kind")
    def work(run):
        calls.append(run.pk)
        if run.params.get("fail"):
            raise JobFailed("The source refused the connection.")
        if run.params.get("crash"):
            raise KeyError("boom")
        run.report("working", 50)
        return {"rows": 3}

    return calls


@pytest.mark.django_db
def test_a_run_goes_from_queued_to_succeeded_with_its_result(recorded_handler):
    run = JobRun.objects.create(kind="test_kind")
    run_job(run.pk)
    run.refresh_from_db()
    assert (run.state, run.progress, run.result) == (JobState.SUCCEEDED, 100, {"rows": 3})
    assert run.started_at and run.finished_at


@pytest.mark.django_db
def test_a_second_delivery_of_the_same_task_does_nothing(recorded_handler):
    run = JobRun.objects.create(kind="test_kind")
    run_job(run.pk)
    run_job(run.pk)
    assert recorded_handler == [run.pk]


@pytest.mark.django_db
def test_a_job_failure_keeps_the_readable_reason_and_a_bug_keeps_its_type(recorded_handler):
    failed = JobRun.objects.create(kind="test_kind", params={"fail": True})
    crashed = JobRun.objects.create(kind="test_kind", params={"crash": True})
    run_job(failed.pk)
    run_job(crashed.pk)
    failed.refresh_from_db()
    crashed.refresh_from_db()
    assert (failed.state, failed.error) == (JobState.FAILED, "The source refused the connection.")
    assert crashed.state == JobState.FAILED and "KeyError" in crashed.error


@pytest.mark.django_db
def test_a_cancelled_run_is_never_started(recorded_handler):
    run = JobRun.objects.create(kind="test_kind", state=JobState.CANCELLED)
    run_job(run.pk)
    assert recorded_handler == []


@pytest.mark.django_db
def test_a_deleted_run_is_ignored_quietly():
    assert run_job(999_999) is None


@pytest.mark.django_db
def test_enqueue_dispatches_only_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        run = JobRun.enqueue(JobKind.SCHEMA_SCAN)
    assert run.state == JobState.QUEUED
    assert len(callbacks) == 1
