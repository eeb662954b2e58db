"""A model's MLOps maturity level (1 to 5, the seed's definitions), computed from what the portal knows.

1. Manual: a model exists, nothing is automated.
2. Tracked and reproducible: its code is in version control (the checklist's link) and its training data is
   catalogued.
3. Automated training into a registry: a version was trained by the portal's training job (or registered from
   MLflow) with its metrics.
4. Monitored and deployed by CI/CD: predictions are monitored, and a promotion reaches deployment through a
   delivery hook or an MLflow alias; a challenger can be compared (A/B testing).
5. Retraining triggered by monitoring: retraining on drift is switched on.
"""

from core.choices import JobKind, JobState
from core.models import JobRun
from mlops.models import DeliveryHook, ModelOps, Prediction
from registry.choices import ChecklistItem

LEVELS = {
    1: "Manual",
    2: "Tracked and reproducible",
    3: "Automated training and registry",
    4: "Monitored, with CI/CD and champion/challenger",
    5: "Retraining triggered by monitoring",
}


def facts(model, ops=None):
    """What each level asks for, as ``{requirement: bool}`` in level order. ``ops``: the model's ``ModelOps`` when
    the caller has it (an unsaved one counts as none)."""
    versions = list(model.versions.all())
    version_ids = [version.pk for version in versions]
    ops = ModelOps.objects.filter(model=model).first() if ops is None else None if ops._state.adding else ops
    team = model.asset.team_id
    trained_here = JobRun.objects.filter(kind__in=[JobKind.TRAINING, JobKind.RETRAINING], asset=model.asset,
                                         state=JobState.SUCCEEDED).exists()  # fmt: skip
    return {
        2: {
            "code in version control (checklist link)": any(
                tick.item == ChecklistItem.VERSION_CONTROL and tick.link
                for version in versions for tick in version.checklist_ticks.all()
            ),
            "training data catalogued": any(version.has_training_data() for version in versions),
        },
        3: {
            "automated training (portal or MLflow)": trained_here or any(v.mlflow_run_id for v in versions),
            "versions in the registry with metrics": any(version.has_metrics() for version in versions),
        },
        4: {
            "predictions monitored": Prediction.objects.filter(version_id__in=version_ids).exists()
            and ops is not None and ops.last_run_at is not None,
            "CI/CD hook (team webhook or MLflow alias)": (team is not None and DeliveryHook.objects.filter(
                team_id=team, active=True).exists()) or any(v.mlflow_aliases for v in versions),
            "champion and challenger": ops is not None and ops.challenger_id is not None,
        },
        5: {"retraining on drift": ops is not None and ops.retrain_on_drift},
    }  # fmt: skip


def maturity(model, ops=None):
    """``(level, {next level's missing requirements})``: the highest level whose requirements, and all below it,
    are met. ``ops`` as for ``facts``."""
    level = 1
    requirements = facts(model, ops)
    for candidate in (2, 3, 4, 5):
        if all(requirements[candidate].values()):
            level = candidate
        else:
            missing = [name for name, met in requirements[candidate].items() if not met]
            return level, {"level": candidate, "missing": missing}
    return level, None
