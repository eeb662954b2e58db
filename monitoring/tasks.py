import logging
import socket

from celery import shared_task
from django.db import connection

from monitoring.choices import JobState
from monitoring.jobs import JobFailed, handler_for
from monitoring.models import JobRun

logger = logging.getLogger(__name__)


@shared_task
def worker_health():
    """Proves a worker is alive and can reach the database; the monitoring page and the tests use it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        database_ok = cursor.fetchone() == (1,)
    return {"hostname": socket.gethostname(), "database": "ok" if database_ok else "unreachable"}


@shared_task(bind=True)
def run_job(self, run_id):
    """Run one JobRun. Exits quietly when the row is gone or already taken: retries and duplicates are harmless."""
    run = JobRun.objects.filter(pk=run_id).first()
    if run is None or not run.claim(task_id=self.request.id or ""):
        return None
    try:
        result = handler_for(run.kind)(run)
    except JobFailed as exc:
        run.finish(JobState.FAILED, error=str(exc))
        return None
    except Exception as exc:
        logger.exception("Job %s failed", run_id)
        run.finish(JobState.FAILED, error=f"Unexpected error ({type(exc).__name__}): {exc}")
        return None
    run.finish(JobState.SUCCEEDED, result=result or {})
    return run.pk
