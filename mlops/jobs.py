"""The MLOps app's kinds of background job, run by the shared job runner (``core.tasks.run_job``)."""

from core.choices import JobKind
from core.jobs import JobFailed, handler
from mlops import scoring
from mlops.monitoring import MONITORING_STEPS
from registry.training import STEPS as TRAINING_STEPS


@handler(JobKind.MODEL_MONITORING, steps=MONITORING_STEPS)
def monitor(run):
    from mlops.monitoring import monitor_model
    from registry.models import RegisteredModel

    model = RegisteredModel.objects.select_related("asset").filter(asset_id=run.params.get("model")).first()
    if model is None:
        raise JobFailed("The model this run was started for no longer exists.")
    return monitor_model(model, report=run.report)


@handler(JobKind.BATCH_SCORING, steps=scoring.STEPS)
def batch_score(run):
    return scoring.score(run)


@handler(JobKind.RETRAINING, steps=TRAINING_STEPS)
def retrain(run):
    from mlops.retraining import retrain as do

    return do(run)


@handler(JobKind.MLFLOW_ALIAS)
def mlflow_alias(run):
    from mlops.mlflow_alias import set_champion_alias

    return set_champion_alias(run)
