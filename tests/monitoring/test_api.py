"""The monitoring API: training runs, cancelling, freshness policies and their results, alerts."""

from datetime import timedelta

import pytest

from core.choices import JobKind, JobState
from core.models import Alert, JobRun
from monitoring.models import FreshnessCheck, FreshnessPolicy
from tests import factories
from tests.monitoring.conftest import policy_for


@pytest.fixture
def api_for():
    return factories.api_client


TRAINING = {"model": "churn-predictor", "dataset": "churn-set", "target": "churned", "features": ["tenure", "segment"],
            "algorithm": "gradient_boosting_classifier", "hyperparameters": {"learning_rate": 0.1},
            "thresholds": {"roc_auc": 0.7}}  # fmt: skip


@pytest.mark.django_db
def test_start_a_training_run_and_read_it_back(api_for, owner, churn_model, churn_set):
    api = api_for(owner)
    response = api.post("/api/v1/training-runs/", TRAINING, format="json")
    assert response.status_code == 202
    body = response.json()
    assert (body["kind"], body["state"], body["slug"]) == ("training", "queued", "churn-predictor")
    assert body["params"]["algorithm"] == "gradient_boosting_classifier"
    assert api.get(f"/api/v1/job-runs/{body['uuid']}/").json()["requested_by"] == "olivia"
    assert api.get("/api/v1/training-runs/").json()["count"] == 1


@pytest.mark.django_db
def test_bad_training_requests_get_400_with_field_errors_and_start_nothing(api_for, owner, churn_model, churn_set):
    response = api_for(owner).post(
        "/api/v1/training-runs/", {**TRAINING, "features": ["tenure", "colour"]}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["errors"]["features"] == ["Not a recorded column of Churn set: colour."]
    assert body["detail"]
    assert api_for(owner).post("/api/v1/training-runs/", {"model": "nope"}, format="json").status_code == 400
    assert not JobRun.objects.exists()


@pytest.mark.django_db
def test_an_outsider_cannot_start_or_cancel_training(api_for, owner, outsider, churn_model, churn_set):
    assert api_for(outsider).post("/api/v1/training-runs/", TRAINING, format="json").status_code == 403
    assert not JobRun.objects.exists()
    run = JobRun.objects.create(kind=JobKind.TRAINING, asset=churn_model.asset, requested_by=owner)
    assert api_for(outsider).post(f"/api/v1/job-runs/{run.uuid}/cancel/").status_code == 403
    run.refresh_from_db()
    assert run.state == JobState.QUEUED


@pytest.mark.django_db
def test_cancel_a_run(api_for, owner, churn_model):
    run = JobRun.objects.create(kind=JobKind.TRAINING, asset=churn_model.asset, requested_by=owner)
    response = api_for(owner).post(f"/api/v1/job-runs/{run.uuid}/cancel/")
    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    again = api_for(owner).post(f"/api/v1/job-runs/{run.uuid}/cancel/")
    assert again.status_code == 400 and "already ended" in again.json()["detail"]


@pytest.mark.django_db
def test_set_change_and_delete_a_freshness_policy(api_for, owner, dataset):
    api = api_for(owner)
    data = {"asset": str(dataset.asset.uuid), "method": "heartbeat", "period": "1 00:00:00", "grace": "01:00:00"}
    created = api.post("/api/v1/freshness-policies/", data, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "unknown" and body["slug"] == "orders"
    assert "/ping/" in body["ping_url"]
    url = f"/api/v1/freshness-policies/{dataset.asset.uuid}/"
    assert api.patch(url, {"grace": "03:00:00"}, format="json").json()["grace"] == "03:00:00"
    assert FreshnessPolicy.objects.get().grace == timedelta(hours=3)
    assert api.delete(url).status_code == 204
    assert not FreshnessPolicy.objects.exists()


@pytest.mark.django_db
def test_the_api_refuses_what_the_form_refuses(api_for, owner, dataset):
    response = api_for(owner).post("/api/v1/freshness-policies/", {"asset": str(dataset.asset.uuid), "method": "http",
                                                                    "period": "1 00:00:00"}, format="json")  # fmt: skip
    assert response.status_code == 400
    assert response.json()["errors"]["url"] == ["Give the address to ask."]
    assert not FreshnessPolicy.objects.exists()


@pytest.mark.django_db
def test_an_outsider_reads_policies_without_ping_urls_and_cannot_change_them(api_for, outsider, dataset):
    policy = policy_for(dataset)
    api = api_for(outsider)
    listed = api.get("/api/v1/freshness-policies/").json()["results"]
    assert listed[0]["ping_url"] == "" and str(policy.ping_key) not in str(listed)
    url = f"/api/v1/freshness-policies/{dataset.asset.uuid}/"
    assert api.patch(url, {"paused": True}, format="json").status_code == 403
    assert api.delete(url).status_code == 403
    other = factories.dataset("Another", owner=factories.user("ann"))
    data = {"asset": str(other.asset.uuid), "method": "heartbeat", "period": "1 00:00:00"}
    assert api.post("/api/v1/freshness-policies/", data, format="json").status_code == 403
    policy.refresh_from_db()
    assert policy.paused is False and FreshnessPolicy.objects.count() == 1


@pytest.mark.django_db
def test_read_results_and_alerts(api_for, owner, dataset):
    from monitoring.freshness import record_ping

    policy = policy_for(dataset)
    record_ping(policy, "success")
    record_ping(policy, "fail")
    api = api_for(owner)
    results = api.get(f"/api/v1/freshness-checks/?asset={dataset.asset.uuid}").json()
    assert [item["status"] for item in results["results"]] == ["stale", "fresh"]
    assert FreshnessCheck.objects.count() == 2
    alerts = api.get("/api/v1/alerts/?kind=freshness").json()["results"]
    assert [(a["slug"], a["from_status"], a["to_status"]) for a in alerts] == [("orders", "fresh", "stale")]
    assert Alert.objects.count() == 1
    assert api.get("/api/v1/freshness-checks/?asset=not-a-uuid").status_code == 400
