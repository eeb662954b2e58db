"""Background work of the registry, run by the shared job runner (``monitoring.tasks.run_job``)."""

from monitoring.choices import JobKind
from monitoring.jobs import JobFailed, handler
from registry.mlflow_sync import MlflowUnavailable, sync


@handler(JobKind.MLFLOW_SYNC)
def mlflow_sync(run):
    try:
        return sync(report=run.report)
    except MlflowUnavailable as exc:
        raise JobFailed(str(exc)) from None
