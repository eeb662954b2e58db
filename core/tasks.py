"""The shared background tasks: the job runner, the reaper of lost runs, webhook delivery, the worker's health.

Task names are part of the wire format (queued messages and beat's rows in the database carry them), so the tasks
that moved here from ``monitoring`` keep their names.
"""

import logging
import random
import socket

import requests
from celery import shared_task
from django.conf import settings
from django.db import connection

from core.choices import JobKind, JobState, NotificationKind
from core.jobs import TRANSIENT_ERRORS, JobCancelled, JobFailed, handler_for
from core.models import JobRun
from core.notifications import notify, raise_alert

logger = logging.getLogger(__name__)


@shared_task(name="monitoring.tasks.worker_health")
def worker_health():
    """Proves a worker is alive and can reach the database; the monitoring page and the tests use it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        database_ok = cursor.fetchone() == (1,)
    return {"hostname": socket.gethostname(), "database": "ok" if database_ok else "unreachable"}


def backoff(retries):
    """Seconds before retry number ``retries + 1``: doubling from 10 s, capped at 10 min, with jitter so that
    runs failing together do not all come back at the same instant."""
    return min(600, 10 * 2**retries) + random.uniform(0, 5)


@shared_task(name="monitoring.tasks.run_job", bind=True, max_retries=settings.JOB_MAX_RETRIES)
def run_job(self, run_id):
    """Run one JobRun. Exits quietly when the row is gone or already taken: retries and duplicates are harmless."""
    run = JobRun.objects.filter(pk=run_id).select_related("asset", "requested_by").first()
    if run is None or not run.claim(task_id=self.request.id or ""):
        return None
    try:
        result = handler_for(run.kind)(run)
    except JobCancelled:
        return None
    except JobFailed as exc:
        job_failed(run, str(exc))
        return None
    except TRANSIENT_ERRORS as exc:
        _retry_or_fail(self, run, exc)
        return None
    except Exception as exc:
        logger.exception("Job %s failed", run_id)
        job_failed(run, f"Unexpected error ({type(exc).__name__}): {exc}")
        return None
    run.finish(JobState.SUCCEEDED, result=result or {})
    return run.pk


def _retry_or_fail(task, run, exc):
    """A temporary problem: the run goes back to the queue for a retry with backoff, or fails after the last."""
    reason = f"{type(exc).__name__}: {exc}"
    if task.request.retries < task.max_retries:
        delay = backoff(task.request.retries)
        if run.requeue(f"temporary problem ({reason}); trying again in {delay:.0f} s"):
            raise task.retry(exc=exc, countdown=delay) from None
        return
    job_failed(run, f"Gave up after {run.attempts} attempts; the last problem was temporary ({reason}).")


def job_failed(run, error):
    """Fail the run (unless it already ended) and tell the person who started it and the asset's audience."""
    if not run.finish(JobState.FAILED, error=error):
        return None
    return announce_failure(run)


def announce_failure(run):
    title = f"{run.get_kind_display()} failed" + (f" for {run.asset.name}" if run.asset else "")
    # A failed "check now" already moves the asset's freshness to unknown, which its audience hears about;
    # the job itself only concerns the person who pressed the button.
    if run.asset is None or run.kind == JobKind.FRESHNESS_CHECK:
        notify([run.requested_by] if run.requested_by else [], kind=NotificationKind.JOB, title=title,
               body=run.error, url=run.get_absolute_url())  # fmt: skip
        return None
    return raise_alert(
        run.asset, kind=NotificationKind.JOB, title=title, body=run.error, url=run.get_absolute_url(),
        also=[run.requested_by], job_run=run,
    )  # fmt: skip


@shared_task(name="monitoring.tasks.reap_lost_jobs")
def reap_lost_jobs():
    """Beat: runs whose worker died are failed, so their owners see it and can start them again."""
    reaped = JobRun.reap()
    for run in reaped:
        announce_failure(run)
    return [run.pk for run in reaped]


@shared_task(name="monitoring.tasks.post_webhook", bind=True, max_retries=5)
def post_webhook(self, url, payload):
    """Post an alert to a team's Slack-compatible webhook; retried only when the chat service is unreachable."""
    try:
        response = requests.post(url, json=payload, timeout=10)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from None
    if response.status_code >= 500:
        raise self.retry(countdown=backoff(self.request.retries))
    if response.status_code >= 400:
        logger.warning("Webhook %s refused the alert: HTTP %s", url, response.status_code)
    return response.status_code
