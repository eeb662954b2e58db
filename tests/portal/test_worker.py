import pytest

from core.tasks import worker_health


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_task_runs_on_a_real_worker_through_redis_and_its_result_is_stored(celery_worker, celery_on_redis):
    result = worker_health.delay()
    assert result.get(timeout=30) == {"hostname": result.get()["hostname"], "database": "ok"}
    # The result lives in the Redis result backend, not in this process: a fresh handle reads it back.
    assert worker_health.AsyncResult(result.id).state == "SUCCESS"
    assert celery_on_redis.startswith("redis://")


def test_the_task_called_as_a_function_reports_the_database(db):
    assert worker_health()["database"] == "ok"
