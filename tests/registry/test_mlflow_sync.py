"""The MLflow sync against a real SQLite tracking store, filled with the mlflow client as a data scientist would."""

import pytest
from django.core.management import call_command

from core.choices import JobKind, JobState
from core.models import JobRun
from core.tasks import run_job
from registry.choices import Stage
from registry.mlflow_sync import sync
from registry.models import ModelVersion, RegisteredModel
from registry.tasks import schedule_mlflow_sync  # as the worker's autodiscovery does: registers the handler
from tests.helpers import wait_until


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory):
    from mlflow.tracking import MlflowClient

    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment("churn", artifact_location=str(folder / "artifacts"))
    runs = []
    for depth, auc in [(4, 0.78), (6, 0.81)]:
        run = client.create_run(experiment)
        client.log_param(run.info.run_id, "max_depth", depth)
        client.log_metric(run.info.run_id, "roc_auc", auc)
        client.set_terminated(run.info.run_id)
        runs.append(run.info.run_id)
    client.create_registered_model("churn-model", tags={"team": "marketing"}, description="Who will leave.")
    for run_id in runs:
        client.create_model_version("churn-model", source=f"runs:/{run_id}/model", run_id=run_id, tags={"k": "v"})
    client.set_registered_model_alias("churn-model", "champion", "2")
    client.register_prompt("greeting-prompt", template="Hello {{name}}")
    return uri


def _state():
    return (
        list(RegisteredModel.objects.values_list("mlflow_name", "mlflow_tags").order_by("mlflow_name")),
        list(
            ModelVersion.objects.values_list(
                "version", "mlflow_version", "mlflow_aliases", "run_params", "run_metrics", "model_uri", "stage"
            ).order_by("version")
        ),
    )


@pytest.mark.django_db
def test_sync_imports_models_versions_tags_aliases_and_run_data_and_skips_prompts(tracking_uri):
    counts = sync(tracking_uri=tracking_uri)
    assert (counts["models_created"], counts["versions_created"]) == (1, 2)
    model = RegisteredModel.objects.get()
    assert (model.mlflow_name, model.mlflow_tags, model.summary) == (
        "churn-model",
        {"team": "marketing"},
        "Who will leave.",
    )
    first, second = ModelVersion.objects.filter(model=model).order_by("version")
    assert (second.mlflow_version, second.mlflow_aliases, first.mlflow_aliases) == (2, ["champion"], [])
    assert second.run_params == {"max_depth": "6"} and second.run_metrics == {"roc_auc": 0.81}
    assert second.model_uri.startswith("runs:/") and second.mlflow_tags == {"k": "v"}
    assert {(m.name, m.value, m.split) for m in second.metrics.all()} == {("roc_auc", 0.81, "MLflow run")}
    assert second.stage == Stage.DEVELOPMENT  # stages are the promotion gate's business, not MLflow's
    assert not RegisteredModel.objects.filter(mlflow_name="greeting-prompt").exists()


@pytest.mark.django_db
def test_a_second_sync_changes_nothing(tracking_uri):
    sync(tracking_uri=tracking_uri)
    before = _state()
    counts = sync(tracking_uri=tracking_uri)
    assert _state() == before
    assert counts["models_created"] == counts["models_updated"] == 0
    assert counts["versions_created"] == counts["versions_updated"] == 0


@pytest.mark.django_db
def test_the_management_command_reports_what_it_did(tracking_uri, capsys):
    call_command("sync_mlflow", tracking_uri=tracking_uri)
    assert "versions created: 2" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_the_beat_entry_queues_one_sync_and_a_real_worker_runs_it(tracking_uri, settings, celery_worker):
    settings.MLFLOW_TRACKING_URI = tracking_uri
    pk = schedule_mlflow_sync()
    run = wait_until(
        lambda: JobRun.objects.filter(pk=pk, state__in=JobRun.FINISHED).first(),
        timeout=60,
        interval=0.5,
        message="the worker did not finish the sync",
    )
    assert run.state == JobState.SUCCEEDED, run.error
    assert (run.kind, run.result["versions_created"]) == (JobKind.MLFLOW_SYNC, 2)
    assert ModelVersion.objects.filter(mlflow_version=2).exists()


@pytest.mark.django_db
def test_an_unreachable_tracking_server_fails_the_job_with_a_sentence(settings, monkeypatch):
    settings.MLFLOW_TRACKING_URI = "http://127.0.0.1:9/"
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    run = JobRun.objects.create(kind=JobKind.MLFLOW_SYNC)
    run_job.run(run.pk)
    run.refresh_from_db()
    assert run.state == JobState.FAILED
    assert run.error.startswith("The MLflow registry at http://127.0.0.1:9/ could not be read")


@pytest.mark.django_db
def test_the_beat_entry_does_not_queue_a_second_sync_while_one_waits():
    JobRun.objects.create(kind=JobKind.MLFLOW_SYNC)
    assert schedule_mlflow_sync() is None
    assert JobRun.objects.filter(kind=JobKind.MLFLOW_SYNC).count() == 1
