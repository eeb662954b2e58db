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

from django.db.models import Exists, OuterRef, Prefetch

from core.choices import JobKind, JobState
from core.models import JobRun
from mlops.models import DeliveryHook, ModelOps, Prediction
from registry.choices import ChecklistItem
from registry.models import ChecklistTick, ModelVersion, recorded_annotations

LEVELS = {
    1: "Manual",
    2: "Tracked and reproducible",
    3: "Automated training and registry",
    4: "Monitored, with CI/CD and champion/challenger",
    5: "Retraining triggered by monitoring",
}


def _evidence(model, asset, team):
    """The rows whose existence ``facts`` asks about, by name: for one model (values), or for a list (``OuterRef``s
    of the models, read as annotations by ``with_facts``)."""
    training = [JobKind.TRAINING, JobKind.RETRAINING]
    return {
        "trained_here": JobRun.objects.filter(kind__in=training, asset=asset, state=JobState.SUCCEEDED),
        "predictions_logged": Prediction.objects.filter(version__model=model),
        "delivery_hook": DeliveryHook.objects.filter(team=team, active=True),
    }


def with_facts(models):
    """``models`` (a queryset) carrying everything ``facts`` reads, for a list: the models with their asset, ops
    row and the EXISTS of ``_evidence``; their versions with what ``has_training_data`` and ``has_metrics`` read;
    the checklist ticks that count. Three queries whatever the number of models."""
    evidence = _evidence(OuterRef("pk"), OuterRef("asset_id"), OuterRef("asset__team_id"))
    versions = ModelVersion.objects.only("asset_id", "model_id", "version", "mlflow_run_id", "mlflow_aliases")
    # Only the ticks ``facts`` looks at (at most one per version): the list shows nothing else of them.
    ticks = ChecklistTick.objects.filter(item=ChecklistItem.VERSION_CONTROL).exclude(link="")
    return (
        models.select_related("asset", "ops")
        .annotate(**{name: Exists(rows) for name, rows in evidence.items()})
        .prefetch_related(
            Prefetch("versions", queryset=versions.annotate(**recorded_annotations())),
            Prefetch("versions__checklist_ticks", queryset=ticks.only("version_id", "item", "link")),
        )
    )


def _ops(model, ops):
    if ops is not None:
        return None if ops._state.adding else ops
    try:
        return model.ops  # joined by ``with_facts``; one query otherwise
    except ModelOps.DoesNotExist:
        return None


def facts(model, ops=None):
    """What each level asks for, as ``{requirement: bool}`` in level order. ``ops``: the model's ``ModelOps`` when
    the caller has it (an unsaved one counts as none). A model of ``with_facts`` answers without a query."""
    versions = list(model.versions.all())
    ops = _ops(model, ops)
    team = model.asset.team_id

    evidence = {}

    def exists(name):
        # A model of ``with_facts`` carries the answer: the queries are built only for a single model's page.
        annotated = getattr(model, name, None)
        if annotated is not None:
            return annotated
        if not evidence:
            evidence.update(_evidence(model, model.asset_id, team))
        return evidence[name].exists()

    return {
        2: {
            "code in version control (checklist link)": any(
                tick.item == ChecklistItem.VERSION_CONTROL and tick.link
                for version in versions for tick in version.checklist_ticks.all()
            ),
            "training data catalogued": any(version.has_training_data() for version in versions),
        },
        3: {
            "automated training (portal or MLflow)": exists("trained_here") or any(v.mlflow_run_id for v in versions),
            "versions in the registry with metrics": any(version.has_metrics() for version in versions),
        },
        4: {
            "predictions monitored": bool(versions) and exists("predictions_logged")
            and ops is not None and ops.last_run_at is not None,
            "CI/CD hook (team webhook or MLflow alias)": (team is not None and exists("delivery_hook"))
            or any(v.mlflow_aliases for v in versions),
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
