"""The shared background tasks: the job runner, the reaper of lost runs, webhook delivery, the worker's health.

Task names are part of the wire format (queued messages and beat's rows in the database carry them), so the tasks
that moved here from ``monitoring`` keep their names.
"""

import logging
import random
import socket
import threading

import requests
from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection

from core import outbound
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
    """Seconds before retry number ``retries + 1``: doubling from ``JOB_RETRY_DELAY`` (10 s), capped at 10 min,
    with jitter so that runs failing together do not all come back at the same instant."""
    base = settings.JOB_RETRY_DELAY
    return min(600, base * 2**retries) + random.uniform(0, base / 2)


def _reconnect():
    """Drop this thread's database connection if it is broken, so the next query opens a new one."""
    try:
        connection.close()
    except Exception:  # a connection that died mid-flight may fail to close; it is gone either way
        logger.debug("closing a broken database connection failed", exc_info=True)
    close_old_connections()


class Heartbeat:
    """Beats the run's heartbeat every ``JOB_HEARTBEAT_INTERVAL`` seconds from a thread while the handler works,
    so a lost worker is noticed within ``JOB_HEARTBEAT_TIMEOUT`` even when the handler is busy (a long fit, a slow
    source) between its checkpoints. The thread uses its own database connection and survives a database blip."""

    def __init__(self, run):
        self.run = run
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"heartbeat-{run.pk}", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join(timeout=5)

    def _beat(self):
        try:
            while not self.stopped.wait(settings.JOB_HEARTBEAT_INTERVAL):
                try:
                    if not self.run.beat():
                        return  # cancelled, reaped or taken over: no longer ours to keep alive
                except (OperationalError, InterfaceError):
                    _reconnect()
        finally:
            connection.close()


@shared_task(
    name="monitoring.tasks.run_job", bind=True, max_retries=settings.JOB_MAX_RETRIES, ignore_result=True
)  # fmt: skip
def run_job(self, run_id):
    """Run one JobRun. Exits quietly when the row is gone or already taken: retries and duplicates are harmless.
    Nobody reads its result (the row is the result), so none is stored."""
    try:
        run = JobRun.objects.filter(pk=run_id).select_related("asset", "requested_by").first()
        claimed = run is not None and run.claim(task_id=self.request.id or "")
    except (OperationalError, InterfaceError) as exc:
        # The database is down before the run even started: try again later, with growing waits.
        _reconnect()
        if self.request.retries >= self.max_retries:
            raise
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from None
    if not claimed:
        return None
    if self.request.is_eager:  # run in the caller's own process (tests): no worker to lose
        return _work(self, run)
    with Heartbeat(run):
        return _work(self, run)


def _work(self, run):
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
        logger.exception("Job %s failed", run.pk)
        job_failed(run, f"Unexpected error ({type(exc).__name__}): {exc}")
        return None
    run.finish(JobState.SUCCEEDED, result=result or {})
    return run.pk


def _retry_or_fail(task, run, exc):
    """A temporary problem: the run goes back to the queue for a retry with growing waits, or fails after the
    last of ``JOB_MAX_RETRIES``. A database error may have left this thread's connection dead: it is replaced
    first. When the database is still down the row cannot be moved back to "queued"; the retry is sent anyway
    and takes its own row over (``JobRun.claim``: same task id), and the reaper fails it if no retry comes."""
    reason = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, (OperationalError, InterfaceError)):
        _reconnect()
    if task.request.retries < task.max_retries:
        delay = backoff(task.request.retries)
        try:
            moved = run.requeue(f"temporary problem ({reason}); trying again in {delay:.0f} s", due_in=delay)
        except (OperationalError, InterfaceError):
            _reconnect()
            moved = True  # still down: the retry takes the row over when it comes
        if moved:
            raise task.retry(exc=exc, countdown=delay) from None
        return
    try:
        job_failed(run, f"Gave up after {run.attempts} attempts; the last problem was temporary ({reason}).")
    except (OperationalError, InterfaceError):
        _reconnect()
        logger.exception("Job %s gave up and could not be marked failed; the reaper will", run.pk)


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
    """Beat: runs whose worker died (no heartbeat for ``JOB_HEARTBEAT_TIMEOUT``) are failed, so their owners see
    it and can start them again."""
    reaped = JobRun.reap()
    for run in reaped:
        announce_failure(run)
    return [run.pk for run in reaped]


@shared_task(name="core.tasks.relay_queued_jobs")
def relay_queued_jobs(limit=500):
    """Beat, the outbox relay: send again the queued runs whose task was never sent (the broker was down when
    their request committed) or is overdue (sent, but the broker lost it: restarted empty). A duplicate send is
    harmless: only one task claims the row (compare-and-set). Returns how many were sent."""
    sent = 0
    for run in JobRun.to_relay()[:limit]:
        if not run.dispatch():
            break  # the broker is still down: the next beat tries again
        sent += 1
    if sent:
        logger.info("Relay sent %s queued job run(s)", sent)
    return sent


@shared_task(name="monitoring.tasks.post_webhook", bind=True, max_retries=5)
def post_webhook(self, url, payload):
    """Post an alert to a team's Slack-compatible webhook; retried only when the chat service is unreachable. Sent
    through ``core.outbound``: an internal address (unless staff allow it) is refused, never retried."""
    try:
        with outbound.session() as http:
            response = http.post(url, json=payload, timeout=10)
            response.close()
    except outbound.OutboundRefused as exc:
        logger.warning("Webhook not sent: %s", exc)
        return None
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from None
    if response.status_code >= 500:
        raise self.retry(countdown=backoff(self.request.retries))
    if response.status_code >= 400:
        logger.warning("Webhook %s refused the alert: HTTP %s", url, response.status_code)
    return response.status_code


@shared_task
def send_daily_digests():
    """Hourly: the daily digests whose hour has come, in each person's time zone (see ``core.digests``); a second
    run sends nothing twice."""
    from core.digests import send_digests

    return send_digests("daily")


@shared_task
def send_weekly_digests():
    """Hourly: the weekly digests whose day and hour have come."""
    from core.digests import send_digests

    return send_digests("weekly")
