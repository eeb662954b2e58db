"""MLflow follows the portal's promotions: the version in use carries the champion alias in MLflow's registry."""

from django.conf import settings

from core.jobs import JobFailed, TransientError
from registry.models import ModelVersion


def set_champion_alias(run):
    """Register the version's logged model in MLflow's registry if it is not yet, and point the alias at it."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    version = ModelVersion.objects.select_related("model__asset").filter(pk=run.params.get("version")).first()
    if version is None:
        raise JobFailed("The version this run was started for no longer exists.")
    if not version.model_uri and version.mlflow_version is None:
        raise JobFailed(f"{version} has no MLflow model: nothing for serving tools to follow.")
    name = version.model.mlflow_name or version.model.asset.slug
    alias = settings.MLOPS_CHAMPION_ALIAS
    uri = settings.MLFLOW_TRACKING_URI
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    try:
        number = version.mlflow_version
        if number is None:
            try:
                client.get_registered_model(name)
            except MlflowException:
                client.create_registered_model(name)
            created = client.create_model_version(name, version.model_uri, run_id=version.mlflow_run_id or None)
            number = int(created.version)
        client.set_registered_model_alias(name, alias, str(number))
    except MlflowException as exc:
        raise TransientError(f"MLflow could not set the alias: {exc.message}") from None
    aliases = sorted({*version.mlflow_aliases, alias})
    # The alias moved: earlier versions of this model no longer carry it.
    for other in ModelVersion.objects.filter(model_id=version.model_id).exclude(pk=version.pk):
        if alias in other.mlflow_aliases:
            other.mlflow_aliases = [item for item in other.mlflow_aliases if item != alias]
            other.save(update_fields=["mlflow_aliases"])
    updates = {"mlflow_aliases": aliases, "mlflow_version": number}
    if not version.model.mlflow_name:
        version.model.mlflow_name = name
        version.model.save(update_fields=["mlflow_name"])
    ModelVersion.objects.filter(pk=version.pk).update(**updates)
    return {"mlflow_name": name, "mlflow_version": number, "alias": alias}
