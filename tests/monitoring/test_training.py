"""Training jobs: checked requests, readable failures on bad data, metrics, fairness gap, MLflow and the registry."""

import pytest
from django.core.exceptions import ValidationError

from catalog.models import LineageEdge
from core.choices import JobKind, JobState
from core.models import JobRun
from core.tasks import run_job
from registry.models import ModelVersion
from registry.training import validate_request


def request_data(**overrides):
    data = {
        "dataset": "churn-set",
        "target": "churned",
        "features": ["tenure_months", "orders_90d", "segment"],
        "algorithm": "logistic_regression",
        "hyperparameters": {"C": 1.0},
        "test_size": 0.25,
        "seed": 3,
        "thresholds": {"roc_auc": 0.6},
        "sensitive_column": "segment",
    }
    return {**data, **overrides}


def run_training(model, owner, **overrides):
    run = JobRun.objects.create(kind=JobKind.TRAINING, asset=model.asset, requested_by=owner,
                                params={"model": model.asset.slug, **request_data(**overrides)})  # fmt: skip
    run_job(run.pk)
    run.refresh_from_db()
    return run


@pytest.mark.django_db
def test_a_training_run_registers_a_version_with_metrics_lineage_and_its_mlflow_run(churn, model, owner, mlflow_store):
    run = run_training(model, owner)
    assert run.state == JobState.SUCCEEDED, run.error
    assert run.step == "done" and run.progress == 100
    version = ModelVersion.objects.get(model=model)
    metrics = {metric.name: metric.value for metric in version.metrics.all()}
    assert set(metrics) == {"accuracy", "precision", "recall", "f1", "roc_auc", "max_group_gap"}
    assert 0.6 <= metrics["roc_auc"] <= 1
    assert version.algorithm == "Logistic regression"
    assert version.hyperparameters == {"C": 1.0}
    assert version.features == ["tenure_months", "orders_90d", "segment"]
    assert version.stage == "development" and version.created_by == owner
    assert version.passed_thresholds is True
    assert version.threshold_results["roc_auc"]["passed"] is True
    assert LineageEdge.objects.filter(upstream=churn.asset, downstream=version.asset).exists()
    assert run.result["group_gaps"]["column"] == "segment"
    assert set(run.result["group_gaps"]["groups"]) == {"consumer", "business"}
    # The MLflow run really exists, with the same metrics, the parameters, the model and the input dataset.
    from mlflow.tracking import MlflowClient

    logged = MlflowClient(tracking_uri=mlflow_store).get_run(version.mlflow_run_id)
    assert logged.data.metrics["roc_auc"] == pytest.approx(metrics["roc_auc"])
    assert logged.data.params["algorithm"] == "logistic_regression"
    assert logged.inputs.dataset_inputs[0].dataset.name == "churn-set"
    assert version.model_uri.startswith("models:/")
    # Each step was reported on the way (the log keeps a line per step).
    for line in ("reading ml/churn.csv", "300 rows", "logging the run to MLflow", "registered version 1"):
        assert line in run.log


@pytest.mark.django_db
def test_a_version_missing_a_threshold_is_registered_and_marked_failed(churn, model, owner, mlflow_store):
    run = run_training(model, owner, algorithm="random_forest_regressor", target="revenue_90d",
                       hyperparameters={"n_estimators": 20}, thresholds={"r2": 0.999, "mae": 1000.0})  # fmt: skip
    assert run.state == JobState.SUCCEEDED, run.error
    version = ModelVersion.objects.get(model=model)
    assert set(version.metrics.values_list("name", flat=True)) >= {"mae", "rmse", "r2"}
    assert version.passed_thresholds is False
    assert version.threshold_results["r2"]["passed"] is False
    assert version.threshold_results["mae"] == {**version.threshold_results["mae"], "direction": "max", "passed": True}


@pytest.mark.django_db
def test_a_column_missing_from_the_file_fails_with_a_readable_reason(churn, model, owner, settings):
    with open(settings.DATA_ROOT / "ml" / "churn.csv", "w") as handle:
        handle.write("tenure_months,segment,churned\n" + "3,consumer,1\n" * 30)
    run = run_training(model, owner)
    assert run.state == JobState.FAILED
    assert run.error.startswith("The file has no column orders_90d, although the catalog records it.")
    assert not ModelVersion.objects.exists()


@pytest.mark.django_db
def test_text_in_a_numeric_column_fails_with_an_example(churn, model, owner, settings):
    path = settings.DATA_ROOT / "ml" / "churn.csv"
    lines = path.read_text().splitlines()
    lines[5] = "twelve," + lines[5].split(",", 1)[1]
    path.write_text("\n".join(lines) + "\n")
    run = run_training(model, owner)
    assert run.state == JobState.FAILED
    assert run.error == "Column tenure_months is recorded as int64 but holds text such as 'twelve'."


@pytest.mark.django_db
def test_an_empty_target_fails_with_a_readable_reason(churn, model, owner, settings):
    path = settings.DATA_ROOT / "ml" / "churn.csv"
    lines = path.read_text().splitlines()
    unlabelled = [",".join([*line.split(",")[:3], "", "1.0"]) for line in lines[1:]]
    path.write_text("\n".join([lines[0], *unlabelled]) + "\n")
    run = run_training(model, owner)
    assert run.state == JobState.FAILED
    assert run.error == "The target column churned is empty in every row: there is nothing to learn."


@pytest.mark.django_db
def test_a_file_that_vanished_fails_with_a_readable_reason(churn, model, owner, settings):
    (settings.DATA_ROOT / "ml" / "churn.csv").unlink()
    run = run_training(model, owner)
    assert run.state == JobState.FAILED
    assert "There is no file at 'ml/churn.csv'" in run.error


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"target": "nope"}, "target", "Not a recorded column of Churn set: nope."),
        ({"features": ["orders_90d", "churned"]}, "features", "The target cannot also be a feature."),
        ({"features": []}, "features", "Name at least one feature column."),
        ({"algorithm": "svm"}, "algorithm", "Choose one of the listed algorithms."),
        ({"hyperparameters": {"gamma": 1}}, "hyperparameters", "Logistic regression takes C, max_iter; not gamma."),
        ({"hyperparameters": {"C": "lots"}}, "hyperparameters", "could not convert string to float: 'lots'"),
        ({"thresholds": {"r2": 0.5}}, "thresholds", "Thresholds can be set on accuracy"),
        ({"test_size": 0.9}, "test_size", "Keep between 5 % and 50 %"),
        ({"dataset": "no-such-set"}, "dataset", "Choose a CSV or Parquet dataset"),
        ({"sensitive_column": "churned"}, "sensitive_column", "cannot be the target"),
    ],
)
def test_bad_requests_are_refused_field_by_field(churn, model, overrides, field, message):
    with pytest.raises(ValidationError) as refused:
        validate_request(model, request_data(**overrides))
    assert message in " ".join(refused.value.message_dict[field])
