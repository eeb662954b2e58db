"""Batch scoring refuses input that does not fit the version, with a readable reason; the retention purge."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Dataset
from core.choices import JobState
from core.tasks import run_job
from mlops.ingest import log_predictions, purge_old
from mlops.models import Prediction
from mlops.scoring import start_scoring
from registry.models import ModelVersion
from tests import factories
from tests.registry.helpers import model_with_card

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(owner):
    _, version = model_with_card(owner)
    profile = {"features": {"tenure_months": {"type": "numeric"}, "segment": {"type": "categorical"}}}
    ModelVersion.objects.filter(pk=version.pk).update(features=["tenure_months", "segment"], reference_profile=profile)
    version.refresh_from_db()
    return version


def scored(version, owner, settings, tmp_path, text):
    settings.DATA_ROOT = tmp_path
    (tmp_path / "input.csv").write_text(text)
    dataset = factories.dataset("Input", qualified_name="input.csv", owner=owner)
    Dataset.objects.filter(pk=dataset.pk).update(format="csv")
    dataset.refresh_from_db()
    run = start_scoring(version, dataset, requested_by=owner)
    run_job(run.pk)
    run.refresh_from_db()
    return run


def test_a_missing_column_is_named(version, owner, settings, tmp_path):
    run = scored(version, owner, settings, tmp_path, "tenure_months,region\n3,north\n")
    assert run.state == JobState.FAILED
    assert run.error == f"The input has no column segment, which v{version.version} needs."


def test_text_in_a_numeric_feature_is_named_with_an_example(version, owner, settings, tmp_path):
    run = scored(version, owner, settings, tmp_path, "tenure_months,segment\n3,consumer\nabout ten,business\n")
    assert run.state == JobState.FAILED
    assert run.error == "Column tenure_months was numeric in training but holds text such as 'about ten'."


def test_predictions_older_than_the_retention_are_purged(version, settings):
    settings.PREDICTION_RETENTION_DAYS = 30
    now = timezone.now()
    rows = [{"id": "old", "time": (now - timedelta(days=31)).isoformat(), "features": {}, "prediction": 1},
            {"id": "new", "time": (now - timedelta(days=29)).isoformat(), "features": {}, "prediction": 1}]  # fmt: skip
    assert log_predictions(version, rows)[0] == 2
    assert purge_old() == 1
    assert list(Prediction.objects.values_list("prediction_id", flat=True)) == ["new"]


def test_a_prediction_table_is_read_incrementally_before_each_monitoring_run(version, owner, settings, tmp_path):
    import sqlite3

    from mlops.models import ModelOps
    from mlops.monitoring import monitor_model
    from registry.choices import Stage

    settings.DATA_ROOT = tmp_path
    connection = sqlite3.connect(tmp_path / "scores.sqlite3")
    connection.execute("CREATE TABLE churn_scores (id TEXT, time TEXT, tenure_months INT, segment TEXT, "
                       "prediction INT, score REAL)")  # fmt: skip
    now = timezone.now()

    def write(ids, hours_ago):
        with connection:
            connection.executemany(
                "INSERT INTO churn_scores VALUES (?, ?, ?, ?, ?, ?)",
                [(i, (now - timedelta(hours=hours_ago)).isoformat(), 12, "consumer", 1, 0.7) for i in ids],
            )

    write(["a", "b"], 3)
    source = factories.source("Scores", "sqlite", {"path": "scores.sqlite3"}, owner=owner)
    table = factories.dataset("churn_scores", source_=source, qualified_name="churn_scores", owner=owner)
    Dataset.objects.filter(pk=table.pk).update(format="table")
    ModelVersion.objects.filter(pk=version.pk).update(stage=Stage.PRODUCTION, reference_profile={})
    ModelOps.objects.create(model=version.model, prediction_table=table)
    assert monitor_model(version.model)["rows"] == 2
    write(["c"], 1)
    assert monitor_model(version.model)["rows"] == 3  # only c was read: a and b are not logged twice
    assert sorted(Prediction.objects.values_list("prediction_id", flat=True)) == ["a", "b", "c"]
    assert Prediction.objects.get(prediction_id="c").features == {"tenure_months": 12, "segment": "consumer"}


def test_the_monitoring_api_and_page_read_without_writing(version, owner, client_for):
    from mlops.models import ModelOps

    slug = version.model.asset.slug
    body = factories.api_client(owner).get(f"/api/v1/models/{slug}/monitoring/").json()
    assert body["status"] == "not_monitored" and body["latest_run"] is None
    assert body["maturity"]["level"] == 1
    assert "code in version control (checklist link)" in body["maturity"]["next"]["missing"]
    assert client_for(owner).get(f"/mlops/{slug}/").status_code == 200
    assert client_for(owner).get("/mlops/?level=1").status_code == 200
    assert not ModelOps.objects.exists()
