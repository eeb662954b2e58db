"""Through a real Celery worker on Redis: batch scoring with the challenger in shadow (the predictions dataset, its
lineage, the comparison) and a drift alert starting a retraining that registers a version in validation."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.choices import DatasetFormat
from catalog.models import Dataset, LineageEdge
from core.choices import JobKind
from core.models import JobRun, Notification
from mlops.challenger import compare, set_challenger
from mlops.ingest import log_outcomes, log_predictions
from mlops.models import ModelOps, Prediction
from mlops.monitoring import monitor_model
from mlops.scoring import start_scoring
from registry.models import ModelVersion
from tests import factories
from tests.helpers import wait_until
from tests.mlops.conftest import churn_frame, scored_lines
from tests.monitoring.test_training import run_training

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def finished(run, timeout=180):
    return wait_until(lambda: JobRun.objects.filter(pk=run.pk, state__in=JobRun.FINISHED).first(),
                      timeout=timeout, message=f"the worker did not finish {run}")  # fmt: skip


def test_batch_scoring_writes_a_predictions_dataset_with_lineage_and_the_challenger_scores_in_shadow(
    celery_worker, in_use, owner, teammate, settings
):
    model, champion = in_use
    run = run_training(model, owner, algorithm="random_forest_classifier", hyperparameters={"n_estimators": 30})
    challenger = ModelVersion.objects.get(model=model, version=3)
    set_challenger(model, challenger)
    frame = churn_frame(200, seed=41)
    (settings.DATA_ROOT / "ml" / "to_score.csv").write_text(frame.drop(columns=["churned"]).to_csv(index=False))
    inputs = factories.dataset(
        "Customers to score", qualified_name="ml/to_score.csv", owner=owner, team=model.asset.team
    )
    Dataset.objects.filter(pk=inputs.pk).update(format=DatasetFormat.CSV)
    inputs.refresh_from_db()

    run = finished(start_scoring(champion, inputs, requested_by=owner, id_column="id"))
    assert run.state == "succeeded", run.error
    assert run.celery_task_id and run.result["logged"] == 200 and run.result["shadow"] == {"version": 3, "logged": 200}
    output = Dataset.objects.get(asset__slug=run.result["output"])
    assert output.format == DatasetFormat.PARQUET and (settings.DATA_ROOT / output.qualified_name).is_file()
    assert set(output.columns.values_list("name", flat=True)) >= {"id", "prediction", "score"}
    assert LineageEdge.objects.filter(upstream=inputs.asset, downstream=champion.asset).exists()
    assert LineageEdge.objects.filter(upstream=champion.asset, downstream=output.asset).exists()
    assert set(Prediction.objects.filter(version=challenger).values_list("prediction_id", flat=True)) == set(
        Prediction.objects.filter(version=champion).values_list("prediction_id", flat=True)
    )
    # Outcomes arrive: both versions are compared on the same live rows, with an interval.
    log_outcomes(champion, [{"id": row["id"], "value": int(row["churned"])} for row in frame.to_dict("records")])
    result = compare(model, champion, challenger)
    assert result["rows"] == 200 and "roc_auc" in result["champion"] and "roc_auc" in result["challenger"]
    difference = result["difference"]
    assert difference["low"] <= difference["value"] <= difference["high"]
    page = signed_in(owner).get(f"/mlops/{model.asset.slug}/").content.decode()
    assert "Champion and challenger" in page and "95% interval" in page


def signed_in(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_a_drift_alert_starts_a_retraining_that_registers_a_version_in_validation(celery_worker, in_use, owner):
    model, version = in_use
    ModelOps.objects.update_or_create(model=model, defaults={"retrain_on_drift": True, "retrain_every_days": 7})
    rows = [json.loads(line) for line in scored_lines(version, churn_frame(300, seed=51, tenure_shift=60),
                                                       timezone.now() - timedelta(hours=1)).splitlines()]  # fmt: skip
    log_predictions(version, rows)
    assert monitor_model(model)["status"] == "drifting"
    retraining = JobRun.objects.get(kind=JobKind.RETRAINING)
    assert finished(retraining).state == "succeeded", retraining.error
    new = ModelVersion.objects.get(model=model, version=3)
    assert new.stage == "staging" and new.metrics.filter(name="roc_auc").exists()
    assert new.stage_changes.first().reason.startswith("Retrained on drift")
    assert Notification.objects.filter(recipient=owner, title__contains="retrained on drift").exists()
    # At most once per period: a second alert in the same week starts nothing.
    ModelOps.objects.filter(model=model).update(status="healthy")
    monitor_model(model)
    assert JobRun.objects.filter(kind=JobKind.RETRAINING).count() == 1
    version.refresh_from_db()
    assert version.stage == "production"  # never promoted by itself
