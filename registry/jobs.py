"""The registry's kinds of background job, run by the shared job runner (``core.tasks.run_job``)."""

from core.choices import JobKind
from core.jobs import JobFailed, handler
from registry import training
from registry.mlflow_sync import MlflowUnavailable, sync


@handler(JobKind.MLFLOW_SYNC)
def mlflow_sync(run):
    try:
        return sync(report=run.report)
    except MlflowUnavailable as exc:
        raise JobFailed(str(exc)) from None


@handler(JobKind.TRAINING, steps=training.STEPS)
def train(run):
    """Fit, evaluate and register a new version (``registry.training.train``)."""
    return training.train(run)
