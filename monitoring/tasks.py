"""Monitoring's periodic work: the freshness sweep, its probes, and pruning the history."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from monitoring import freshness
from monitoring.models import FreshnessCheck, FreshnessPolicy


@shared_task
def sweep_freshness():
    """Beat: every policy whose deadline passed; probes fan out to the workers (``check_freshness``)."""
    return freshness.sweep(check_freshness.delay)


# Nobody reads a probe's return value: the check rows are the result, so none is written to the result backend.
@shared_task(soft_time_limit=150, time_limit=180, ignore_result=True)
def check_freshness(policy_ids):
    """Probe a batch of policies' sources. Quietly skips policies deleted or paused meanwhile."""
    policies = list(
        FreshnessPolicy.objects.filter(pk__in=policy_ids, paused=False).select_related(
            "asset__dataset__source", "asset__team"
        )
    )
    if policies:
        freshness.run_probes(policies)


@shared_task
def prune_freshness_history():
    """Beat: forget freshness observations older than FRESHNESS_HISTORY_DAYS; probes add one every few minutes."""
    cutoff = timezone.now() - timedelta(days=settings.FRESHNESS_HISTORY_DAYS)
    deleted, _ = FreshnessCheck.objects.filter(checked_at__lt=cutoff).delete()
    return deleted
