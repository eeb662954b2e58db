"""The portal's periodic tasks: the worker's heartbeat, read by /health/."""

from celery import shared_task

from portal.models import ServiceHeartbeat


@shared_task(name="portal.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat():
    """Sent by beat every 30 s: a worker that runs it is alive and reaches the database."""
    ServiceHeartbeat.touch(ServiceHeartbeat.WORKER)
