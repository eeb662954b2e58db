"""Jobs when the broker, a worker or the database fails (issue 13, items 1 to 4), without a real outage: the
outbox relay, best-effort sends after a commit, heartbeats and takeover, the Retry button. The same failures on a
real worker, Redis and PostgreSQL cluster are in ``test_job_faults.py``."""

import json
import time
from datetime import timedelta

import kombu.exceptions
import pytest
import time_machine
from django.db import OperationalError
from django.utils import timezone

from catalog.models import LineageEvent
from core.background import send
from core.choices import JobKind, JobState
from core.jobs import checkpoint, handler
from core.models import JobRun
from core.tasks import Heartbeat, _retry_or_fail, reap_lost_jobs, relay_queued_jobs, run_job
from monitoring.choices import FreshnessMethod
from portal.celery import app as celery_app
from tests import factories
from tests.monitoring.conftest import policy_for

REFUSED = "Error 111 connecting to 127.0.0.1:6391. Connection refused."


@pytest.fixture
def sent(monkeypatch):
    """Every task the code sends, as (task name, args, options), instead of reaching a broker."""
    sends = []

    def record(name, args=None, kwargs=None, **options):
        sends.append((name, list(args or ()), options))

    monkeypatch.setattr(celery_app, "send_task", record)
    return sends


@pytest.fixture
def broker_down(monkeypatch):
    """A broker that refuses every connection, as Redis does while it is stopped."""

    def refuse(*args, **kwargs):
        raise kombu.exceptions.OperationalError(REFUSED)

    monkeypatch.setattr(celery_app, "send_task", refuse)


def _sent_runs(sends):
    return [args[0] for name, args, _ in sends if name == "monitoring.tasks.run_job"]


# --- item 2: a committed write answers success ---------------------------------------------------------------------
@pytest.mark.django_db
def test_writes_saved_while_the_broker_is_down_answer_success(
    broker_down, client_for, owner, dataset, django_capture_on_commit_callbacks
):
    """Before: the on-commit send raised into the request (a 500) after the rows were committed."""
    policy_for(dataset, method=FreshnessMethod.HTTP, url="http://127.0.0.1:9/")
    heartbeat = policy_for(factories.dataset("Events", owner=owner, team=owner.teams.first()))
    client = client_for(owner)
    client.raise_request_exception = False
    from accounts.models import ApiToken

    _, key = ApiToken.issue(owner, "script")
    event = {
        "eventType": "COMPLETE", "eventTime": "2026-11-28T06:00:00Z", "producer": "tests",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "3f2b0b4e-1a4c-4f8e-9c55-1d2f8e9a0b11"}, "job": {"namespace": "etl", "name": "orders"},
        "inputs": [], "outputs": [],
    }  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        check_now = client.post(f"/monitoring/freshness/{dataset.asset.uuid}/check/")
        lineage = client.post(
            "/api/v1/lineage", json.dumps(event), content_type="application/json",
            headers={"Authorization": f"Bearer {key}"},
        )  # fmt: skip
        ping = client.get(f"/ping/{heartbeat.ping_key}")
    assert (check_now.status_code, lineage.status_code, ping.status_code) == (302, 202, 200)
    run = JobRun.objects.get(kind=JobKind.FRESHNESS_CHECK)
    assert (run.state, run.dispatched_at) == (JobState.QUEUED, None)
    assert LineageEvent.objects.count() == 1
    # The person who pressed the button is told the run is saved and waits for a worker.
    page = client.get(check_now.url)
    assert b"waiting for a worker" in page.content and b"job service cannot be reached" in page.content
    assert b'data-testid="job-waiting"' in page.content


def test_a_best_effort_send_does_not_store_a_result_nobody_reads(sent):
    from trust.tasks import refresh_stale_badges

    assert send(refresh_stale_badges)
    assert sent[0][0] == "trust.tasks.refresh_stale_badges" and sent[0][2]["ignore_result"] is True
    assert run_job.ignore_result is True
    assert celery_app.conf.broker_connection_timeout <= 2
    assert celery_app.conf.task_publish_retry_policy["max_retries"] <= 1


# --- item 1: the outbox relay ----------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_relay_sends_queued_runs_never_sent_and_overdue_but_not_fresh_ones(sent, settings):
    """Before: nothing ever sent a run whose on-commit send failed; it stayed queued forever."""
    settings.JOB_DISPATCH_OVERDUE = 300
    now = timezone.now()
    never_sent = JobRun.objects.create(kind="flaky")
    just_sent = JobRun.objects.create(kind="flaky", dispatched_at=now)
    lost_by_broker = JobRun.objects.create(kind="flaky", dispatched_at=now - timedelta(minutes=6))
    retry_not_due = JobRun.objects.create(kind="flaky", dispatched_at=now + timedelta(minutes=5))
    JobRun.objects.create(kind="flaky", state=JobState.RUNNING)
    JobRun.objects.create(kind="flaky", state=JobState.CANCELLED)
    # Within its first seconds a row is left to its own on-commit send.
    assert relay_queued_jobs() == 1 and _sent_runs(sent) == [lost_by_broker.pk]
    with time_machine.travel(now + timedelta(seconds=30)):
        sent.clear()
        assert relay_queued_jobs() == 1 and _sent_runs(sent) == [never_sent.pk]
        sent.clear()
        assert relay_queued_jobs() == 0  # all just sent
    never_sent.refresh_from_db()
    assert never_sent.dispatched_at is not None
    assert not JobRun.objects.filter(pk__in=[just_sent.pk, retry_not_due.pk], dispatched_at__lt=now).exists()


@pytest.mark.django_db
def test_the_relay_stops_at_the_first_refused_send_and_keeps_the_rows(broker_down):
    old = timezone.now() - timedelta(minutes=1)
    runs = [JobRun.objects.create(kind="flaky") for _ in range(3)]
    JobRun.objects.filter(pk__in=[run.pk for run in runs]).update(created_at=old)
    assert relay_queued_jobs() == 0
    assert JobRun.objects.filter(state=JobState.QUEUED, dispatched_at=None).count() == 3


def test_the_relay_and_the_reaper_are_on_beat_with_an_expiry(settings):
    entries = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for task in ("core.tasks.relay_queued_jobs", "monitoring.tasks.reap_lost_jobs"):
        assert entries[task]["schedule"] <= 30 and entries[task]["options"]["expires"] < entries[task]["schedule"]
    # A lost worker is noticed within a minute: its heartbeat timeout plus one reaper interval.
    reaper = entries["monitoring.tasks.reap_lost_jobs"]["schedule"]
    assert settings.JOB_HEARTBEAT_TIMEOUT + reaper <= 60


# --- item 3: heartbeats, the reaper, takeover, Retry -----------------------------------------------------------------
@pytest.mark.django_db
def test_a_run_without_heartbeat_for_the_timeout_is_reaped_not_after_the_time_limit(settings):
    """Before: the reaper waited for the task time limit (30 min by default) then ran every 5 minutes."""
    settings.CELERY_TASK_TIME_LIMIT = 1800
    settings.JOB_HEARTBEAT_TIMEOUT = 45
    run = JobRun.objects.create(kind="flaky")
    assert run.claim(task_id="t1")
    with time_machine.travel(timezone.now() + timedelta(seconds=30)):
        assert reap_lost_jobs() == []
    with time_machine.travel(timezone.now() + timedelta(seconds=50)):
        assert reap_lost_jobs() == [run.pk]
    run.refresh_from_db()
    assert run.state == JobState.FAILED and "45 seconds" in run.error


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_is_beaten_while_the_handler_works_between_checkpoints(settings):
    settings.JOB_HEARTBEAT_INTERVAL = 0.05
    run = JobRun.objects.create(kind="slow")
    assert run.claim(task_id="t-heart")
    with Heartbeat(run):
        time.sleep(0.4)  # a long fit with no checkpoint: the heartbeat thread keeps the row alive
    run.refresh_from_db()
    assert run.heartbeat_at > run.started_at + timedelta(seconds=0.1)
    # Once the run is no longer this task's (cancelled, reaped, taken over), the thread stops touching it.
    JobRun.objects.filter(pk=run.pk).update(celery_task_id="another-task")
    before = JobRun.objects.get(pk=run.pk).heartbeat_at
    with Heartbeat(run):
        time.sleep(0.2)
    assert JobRun.objects.get(pk=run.pk).heartbeat_at == before


@pytest.mark.django_db
def test_a_redelivered_task_takes_over_its_own_running_row(sent):
    """Before: a task redelivered after its pool process was killed found the row "running" and did nothing."""
    done = []

    @handler("once_more")
    def work(run):
        done.append(run.attempts)
        return {"attempt": run.attempts}

    run = JobRun.objects.create(kind="once_more")
    assert run.claim(task_id="task-1")  # the first delivery; then its pool process is killed
    run_job.apply(args=[run.pk], task_id="task-1")  # the same message, redelivered at once
    run.refresh_from_db()
    assert (run.state, run.attempts, done) == (JobState.SUCCEEDED, 2, [2])


@pytest.mark.django_db
def test_another_task_takes_a_running_row_over_only_once_its_heartbeat_is_stale(settings):
    settings.JOB_HEARTBEAT_TIMEOUT = 45
    run = JobRun.objects.create(kind="flaky")
    assert run.claim(task_id="task-1")
    duplicate = JobRun.objects.get(pk=run.pk)
    assert not duplicate.claim(task_id="task-2")  # alive: a duplicate send is a no-op
    with time_machine.travel(timezone.now() + timedelta(seconds=50)):
        stale = JobRun.objects.get(pk=run.pk)
        again = JobRun.objects.get(pk=run.pk)
        assert stale.claim(task_id="task-3")
        assert not again.claim(task_id="task-4")  # compare-and-set on the heartbeat: one takes it
    run.refresh_from_db()
    assert (run.celery_task_id, run.attempts) == ("task-3", 2)


@pytest.mark.django_db
def test_retry_starts_a_new_run_with_the_same_parameters(sent, client_for, owner, outsider, dataset):
    """Before: a failed run had no way to start again (no route)."""
    run = JobRun.objects.create(
        kind=JobKind.SCHEMA_SCAN, asset=dataset.asset, requested_by=owner, params={"full": True},
        state=JobState.FAILED, error="Worker lost",
    )  # fmt: skip
    page = client_for(owner).get(run.get_absolute_url())
    assert b'data-testid="job-retry"' in page.content
    assert b'data-testid="job-retry"' not in client_for(outsider).get(run.get_absolute_url()).content
    assert client_for(outsider).post(f"/jobs/{run.uuid}/retry/").status_code == 403
    response = client_for(owner).post(f"/jobs/{run.uuid}/retry/")
    again = JobRun.objects.exclude(pk=run.pk).get()
    assert response.status_code == 302 and response.url == again.get_absolute_url()
    assert (again.kind, again.asset, again.params, again.requested_by, again.retry_of) == (
        JobKind.SCHEMA_SCAN, dataset.asset, {"full": True}, owner, run,
    )  # fmt: skip
    # A run that did not fail is not started again.
    assert client_for(owner).post(f"/jobs/{again.uuid}/retry/").status_code == 302
    assert JobRun.objects.count() == 2


@pytest.mark.django_db
def test_retry_of_a_failed_training_opens_the_form_filled_as_before(client_for, owner, team):
    model = factories.registered_model("Churn", owner=owner, team=team)
    source = factories.dataset("Customers", owner=owner, team=team)
    params = {
        "model": model.asset.slug, "dataset": source.asset.slug, "target": "churned",
        "features": ["tenure_months", "segment"], "algorithm": "random_forest",
        "hyperparameters": {"n_estimators": 50}, "test_size": 0.3, "seed": 7, "thresholds": {"roc_auc": 0.7},
        "sensitive_column": "segment",
    }  # fmt: skip
    run = JobRun.objects.create(
        kind=JobKind.TRAINING, asset=model.asset, requested_by=owner, params=params, state=JobState.FAILED
    )
    page = client_for(owner).get(run.get_absolute_url()).content.decode()
    link = f"/models/{model.asset.slug}/train/?retry={run.uuid}"
    assert link in page
    form = client_for(owner).get(link).context["form"]
    assert form.initial["target"] == "churned" and form.initial["features"] == "tenure_months, segment"
    assert (form.initial["seed"], form.initial["test_size"], form.initial["thresholds"]) == (7, 0.3, {"roc_auc": 0.7})
    assert "n_estimators" in str(form["hyperparameters"])


# --- item 4: a database blip ------------------------------------------------------------------------------------------
class _Retry(Exception):
    pass


class _Task:
    """The bits of a bound task that ``_retry_or_fail`` uses."""

    max_retries = 3

    def __init__(self, retries=0):
        self.request = type("Request", (), {"retries": retries})()
        self.countdowns = []

    def retry(self, exc, countdown):
        self.countdowns.append(countdown)
        return _Retry()


@pytest.mark.django_db(transaction=True)
def test_a_retry_is_sent_even_when_the_requeue_fails_on_the_dead_connection(monkeypatch):
    """Before: ``requeue()`` raised on the dead connection, no retry was sent and the row stayed "running"."""
    run = JobRun.objects.create(kind="flaky")
    assert run.claim(task_id="t1")

    def dead(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(JobRun, "requeue", dead)
    task = _Task(retries=1)
    with pytest.raises(_Retry):
        _retry_or_fail(task, run, OperationalError("terminating connection due to administrator command"))
    assert 20 <= task.countdowns[0] <= 25  # growing waits: 10 s, then 20 s, then 40 s
    # The retry, with the same task id, takes its row over.
    monkeypatch.undo()
    assert JobRun.objects.get(pk=run.pk).claim(task_id="t1")


@pytest.mark.django_db(transaction=True)
def test_progress_writes_on_a_dead_connection_retry_the_run_up_to_the_limit(settings):
    settings.JOB_RETRY_DELAY = 1
    failures = []

    @handler("blip")
    def work(run):
        if len(failures) < 2:
            failures.append(run.attempts)
            raise OperationalError("could not connect to server: Connection refused")
        checkpoint(run, "fitting", 50)
        return {"attempt": run.attempts}

    run = JobRun.objects.create(kind="blip")
    run_job.apply(args=[run.pk])
    run.refresh_from_db()
    assert (run.state, run.attempts) == (JobState.SUCCEEDED, 3)
    assert run.log.count("temporary problem (OperationalError") == 2
