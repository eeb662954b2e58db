"""Through a real Celery worker on Redis, against PostgreSQL: a training job and a freshness sweep."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.choices import JobState
from core.models import Alert, JobRun
from monitoring.choices import FreshnessMethod, FreshnessStatus
from monitoring.models import FreshnessPolicy
from monitoring.tasks import sweep_freshness
from registry.models import ModelVersion
from registry.training import start_training, validate_request
from tests import factories
from tests.helpers import wait_until
from tests.monitoring.conftest import policy_for
from tests.monitoring.test_training import request_data

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_training_job_runs_on_the_worker_and_registers_a_version(celery_worker, churn, model, owner, mlflow_store):
    run = start_training(validate_request(model, request_data()), requested_by=owner)
    finished = wait_until(
        lambda: JobRun.objects.filter(pk=run.pk, state__in=JobRun.FINISHED).first(),
        timeout=120,
        message="the worker did not finish the training",
    )
    assert finished.state == JobState.SUCCEEDED, finished.error
    assert finished.celery_task_id  # claimed by the worker's task, not run in this thread
    version = ModelVersion.objects.get(model=model)
    assert version.metrics.filter(name="roc_auc").exists()
    from mlflow.tracking import MlflowClient

    logged = MlflowClient(tracking_uri=mlflow_store).get_run(version.mlflow_run_id)
    assert logged.data.metrics["f1"] == pytest.approx(version.metrics.get(name="f1").value)


def test_the_sweep_fans_out_to_the_worker_and_a_hanging_source_does_not_stall_it(
    celery_worker, owner, team, settings, tmp_path, hanging_server
):
    settings.DATA_ROOT = tmp_path
    (tmp_path / "orders.csv").write_text("id\n1\n")
    now = timezone.now()
    hanging = policy_for(factories.dataset("Slow API", owner=owner, team=team), method=FreshnessMethod.HTTP,
                         url=hanging_server, timeout_seconds=1, next_check_at=now)  # fmt: skip
    file_policy = policy_for(factories.dataset("Orders file", owner=owner, team=team), method=FreshnessMethod.FILE,
                             file_path="orders.csv", next_check_at=now)  # fmt: skip
    overdue = policy_for(factories.dataset("Nightly", owner=owner, team=team), announced_status="fresh",
                         last_seen_at=now - timedelta(days=3), next_check_at=now)  # fmt: skip
    assert sweep_freshness.delay().get(timeout=60) == {"dispatched": 2, "evaluated": 1}
    wait_until(
        lambda: FreshnessPolicy.objects.filter(
            pk__in=[hanging.pk, file_policy.pk], last_checked_at__isnull=False
        ).count()
        == 2,
        timeout=120,
        message="the worker did not check both policies",
    )
    hanging.refresh_from_db()
    file_policy.refresh_from_db()
    assert hanging.status_at()[0] == FreshnessStatus.UNKNOWN and "timed out" in hanging.probe_error
    assert file_policy.status_at()[0] == FreshnessStatus.FRESH
    assert file_policy.next_check_at > now  # planned again
    assert Alert.objects.get().asset_id == overdue.asset_id
