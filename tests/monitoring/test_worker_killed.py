"""A worker process killed in the middle of a job: its run is not left "running" forever."""

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from core.choices import JobKind, JobState
from core.models import JobRun
from core.tasks import reap_lost_jobs, run_job
from monitoring.choices import FreshnessMethod
from tests.helpers import wait_until
from tests.monitoring.conftest import policy_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_process(celery_on_redis):
    """A separate worker process on its own queue, that the test can kill like an OOM killer would."""
    database = connection.settings_dict
    server = f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
    environment = {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": f"postgres://{database['USER']}@{server}/{database['NAME']}",
        "CELERY_BROKER_URL": celery_on_redis,
        "CELERY_RESULT_BACKEND": celery_on_redis,
        # The hanging server is on loopback, which the outbound guard refuses unless staff allow it.
        "OUTBOUND_ALLOWED_HOSTS": "127.0.0.1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo", "-Q", "killable", "-l", "WARNING"],
        cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    yield process
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)


def test_a_killed_workers_run_is_marked_failed_by_the_reaper(worker_process, dataset, owner, hanging_server, settings):
    # A "check now" on a source that hangs keeps the worker busy inside the job for two minutes.
    policy_for(dataset, method=FreshnessMethod.HTTP, url=hanging_server, timeout_seconds=120)
    run = JobRun.objects.create(kind=JobKind.FRESHNESS_CHECK, asset=dataset.asset, requested_by=owner)
    run_job.apply_async(args=[run.pk], queue="killable")
    wait_until(
        lambda: JobRun.objects.filter(pk=run.pk, step="probing").exists(),
        timeout=90,
        message="the worker process never started the job",
    )
    run.refresh_from_db()
    assert (run.state, run.step) == (JobState.RUNNING, "probing")
    worker_process.send_signal(signal.SIGKILL)
    worker_process.wait(timeout=30)
    run.refresh_from_db()
    assert run.state == JobState.RUNNING  # nobody is left to say otherwise
    assert reap_lost_jobs() == []  # not yet: its last heartbeat is recent
    # Noticed from the job's own heartbeat, not after the task time limit (30 minutes).
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT + 5)):
        assert reap_lost_jobs() == [run.pk]
    run.refresh_from_db()
    assert run.state == JobState.FAILED and run.error.startswith("Worker lost")
    assert owner.notifications.filter(kind="job").exists()
