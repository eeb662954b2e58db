"""Heartbeat URLs: work with curl and no login, refuse wrong tokens without changing anything."""

import uuid

import pytest
from django.test import Client

from catalog.choices import RunState
from catalog.models import PipelineRun
from monitoring.choices import FreshnessMethod, FreshnessStatus
from monitoring.models import FreshnessCheck
from tests import factories
from tests.monitoring.conftest import policy_for


@pytest.fixture
def anonymous():
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def etl(owner, team):
    return factories.pipeline("Orders ETL", owner=owner, team=team)


@pytest.mark.django_db
def test_a_ping_without_login_marks_the_asset_fresh(anonymous, dataset):
    policy = policy_for(dataset)
    response = anonymous.get(f"/ping/{policy.ping_key}")
    assert response.status_code == 200 and response.content == b"OK\n"
    policy.refresh_from_db()
    assert policy.last_seen_at is not None
    assert policy.status_at()[0] == FreshnessStatus.FRESH
    assert FreshnessCheck.objects.get(policy=policy).ping_kind == "success"


@pytest.mark.django_db
def test_post_works_too_without_a_csrf_token(anonymous, dataset):
    policy = policy_for(dataset)
    assert anonymous.post(f"/ping/{policy.ping_key}/fail").status_code == 200
    policy.refresh_from_db()
    assert policy.status_at()[0] == FreshnessStatus.STALE


@pytest.mark.django_db
def test_a_wrong_token_is_404_and_changes_nothing(anonymous, dataset):
    policy = policy_for(dataset)
    for path in (f"/ping/{uuid.uuid4()}", f"/ping/{uuid.uuid4()}/start", f"/ping/{uuid.uuid4()}/fail", "/ping/nope"):
        assert anonymous.get(path).status_code == 404
    policy.refresh_from_db()
    assert (policy.last_seen_at, policy.last_started_at, policy.last_failed_at) == (None, None, None)
    assert not FreshnessCheck.objects.exists()


@pytest.mark.django_db
def test_a_probed_policy_does_not_accept_pings(anonymous, dataset):
    policy = policy_for(dataset, method=FreshnessMethod.FILE, file_path="orders.csv")
    assert anonymous.get(f"/ping/{policy.ping_key}").status_code == 404
    policy.refresh_from_db()
    assert policy.last_seen_at is None


@pytest.mark.django_db
def test_start_and_finish_with_a_run_id_record_a_pipeline_run(anonymous, etl):
    policy = policy_for(etl)
    assert anonymous.get(f"/ping/{policy.ping_key}/start?rid=2026-03-02").status_code == 200
    run = PipelineRun.objects.get(pipeline=etl, run_id="2026-03-02")
    assert run.state == RunState.RUNNING and run.started_at
    assert anonymous.get(f"/ping/{policy.ping_key}?rid=2026-03-02&rows=1234").status_code == 200
    run.refresh_from_db()
    assert (run.state, run.output_rows, run.origin) == (RunState.COMPLETE, 1234, "heartbeat")
    assert run.duration_seconds is not None
    assert PipelineRun.objects.count() == 1


@pytest.mark.django_db
def test_a_failed_run_is_recorded_as_failed(anonymous, etl):
    policy = policy_for(etl)
    anonymous.get(f"/ping/{policy.ping_key}/start?rid=7")
    anonymous.get(f"/ping/{policy.ping_key}/fail?rid=7")
    assert PipelineRun.objects.get(run_id="7").state == RunState.FAIL


@pytest.mark.django_db
def test_a_bad_row_count_is_refused_with_a_message(anonymous, etl):
    policy = policy_for(etl)
    response = anonymous.get(f"/ping/{policy.ping_key}?rid=8&rows=lots")
    assert response.status_code == 400
    assert b"whole number" in response.content
    policy.refresh_from_db()
    assert policy.last_seen_at is None and not PipelineRun.objects.exists()
