"""Builders for MLOps tests: a model at a chosen maturity level, from what the portal would really know of it."""

from django.utils import timezone

from core.choices import JobKind, JobState
from core.models import JobRun
from mlops.models import DeliveryHook, ModelOps, Prediction
from registry.choices import ChecklistItem
from registry.models import ChecklistTick
from registry.services import register_model, register_version


def model_at_level(name, level, *, owner, team, training, cicd="alias"):
    """A model of ``owner`` and ``team`` at maturity ``level`` (1 to 5), each level adding what the next asks:
    2 a version learned from ``training`` with its code linked on the checklist, 3 its metrics and a training run
    (the portal's job for even levels, an MLflow run otherwise), 4 monitored predictions, a challenger and CI/CD
    (an MLflow alias, or with ``cicd="hook"`` an active webhook of ``team``: every model of the team has it), 5
    retraining on drift."""
    model = register_model(name, owner=owner, team=team, summary="Who leaves.")
    if level == 1:
        register_version(model, created_by=owner)
        return model
    fields = {}
    if level >= 3:
        fields = {"metrics": {"f1": 0.7}, "mlflow_run_id": "" if level % 2 == 0 else f"run-{model.pk}"}
        if level % 2 == 0:
            JobRun.objects.create(kind=JobKind.TRAINING, asset=model.asset, requested_by=owner,
                                  state=JobState.SUCCEEDED)  # fmt: skip
    if level >= 4 and cicd == "alias":
        fields["mlflow_aliases"] = ["champion"]
    version = register_version(model, created_by=owner, training_datasets=[training], **fields)
    ChecklistTick.objects.create(version=version, item=ChecklistItem.VERSION_CONTROL, ticked_by=owner,
                                 link="https://git.example.com/churn")  # fmt: skip
    if level >= 4:
        Prediction.objects.create(model=model, version=version, prediction_id="p1", predicted_at=timezone.now(),
                                  prediction=1)  # fmt: skip
        challenger = register_version(model, created_by=owner)
        ModelOps.objects.create(model=model, last_run_at=timezone.now(), challenger=challenger,
                                retrain_on_drift=level == 5)  # fmt: skip
        if cicd == "hook":
            DeliveryHook.objects.get_or_create(team=team, url="https://hooks.example.com/deploy",
                                               defaults={"created_by": owner})  # fmt: skip
    return model
