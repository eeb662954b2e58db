"""The registry's kinds of background job, run by the shared job runner (``core.tasks.run_job``)."""

from django.urls import reverse

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


def _training_form(run):
    return reverse("registry:train", kwargs={"slug": run.asset.slug}) + f"?retry={run.uuid}"


@handler(JobKind.TRAINING, steps=training.STEPS, form_url=_training_form)
def train(run):
    """Fit, evaluate and register a new version (``registry.training.train``)."""
    return training.train(run)
