"""What the MLOps app does when the registry changes under it."""

from django.conf import settings

from core.choices import JobKind
from core.models import JobRun
from mlops.hooks import queue_deliveries
from registry.models import ModelVersion


def version_promoted(sender, version_id, promotion_id, **kwargs):
    """A version went into use: MLflow's alias follows it (a job: MLflow is slow to import and may be down) and the
    team's webhooks are told, signed. The challenger that was promoted stops being a challenger."""
    from mlops.models import ModelOps

    version = ModelVersion.objects.select_related("model__asset__team", "asset").get(pk=version_id)
    model = version.model
    ModelOps.objects.filter(model=model, challenger=version).update(challenger=None)
    JobRun.enqueue(JobKind.MLFLOW_ALIAS, asset=version.asset, params={"version": version_id})
    payload = {
        "model": model.asset.slug,
        "model_name": model.asset.name,
        "version": version.version,
        "model_uri": version.model_uri,
        "mlflow_name": model.mlflow_name or model.asset.slug,
        "alias": settings.MLOPS_CHAMPION_ALIAS,
        "promotion": promotion_id,
        "url": f"{settings.PORTAL_BASE_URL}{version.get_absolute_url()}",
    }
    queue_deliveries(model.asset.team, "model.promoted", payload)
