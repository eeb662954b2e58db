"""Beat entries of the MLOps app; each takes ids or nothing and re-fetches."""

from celery import shared_task

from mlops import hooks


@shared_task
def schedule_monitoring():
    """Queue one monitoring run for every model in use that has none waiting or running."""
    from mlops.monitoring import schedule_all

    return len(schedule_all())


@shared_task
def deliver_due_webhooks():
    return hooks.deliver_due()


@shared_task
def purge_old_predictions():
    from mlops.ingest import purge_old

    return purge_old()


@shared_task
def start_scheduled_scoring():
    """Start the batch scoring runs whose schedule has come (``mlops.models.ScoringSchedule``)."""
    from mlops.scoring import start_due_schedules

    return len(start_due_schedules())
