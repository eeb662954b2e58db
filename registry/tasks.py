from celery import shared_task

from core.choices import JobKind, JobState
from core.models import JobRun


@shared_task
def schedule_mlflow_sync():
    """The beat entry: queue one MLflow sync unless one is already waiting or running."""
    if JobRun.objects.filter(kind=JobKind.MLFLOW_SYNC, state__in=[JobState.QUEUED, JobState.RUNNING]).exists():
        return None
    return JobRun.enqueue(JobKind.MLFLOW_SYNC).pk
