"""Import MLflow's model registry (models, versions, tags, aliases, run parameters and metrics) into ours.

Idempotent: rows are matched by MLflow name and version number and written only when something differs, so a
second run reports zero changes. Stages are not imported: in the portal a version goes into use only through
the promotion gate. mlflow is imported inside ``sync`` because importing it costs seconds.
"""

from django.conf import settings

from registry.models import ModelVersion, RegisteredModel
from registry.services import register_model, register_version

PROMPT_TAG = "mlflow.prompt.is_prompt"
RUN_METRICS_SPLIT = "MLflow run"


class MlflowUnavailable(Exception):
    """The tracking server could not be read; the message says which and why."""


def _all_pages(search, **kwargs):
    token = None
    while True:
        page = search(page_token=token, **kwargs)
        yield from page
        token = page.token
        if not token:
            return


def _run_data(client, run_id):
    from mlflow.exceptions import MlflowException

    if not run_id:
        return {}, {}
    try:
        run = client.get_run(run_id)
    except MlflowException:
        # A deleted run leaves the version in the registry; it keeps what was synced before.
        return None, None
    return dict(run.data.params), dict(run.data.metrics)


def sync(report=None, tracking_uri=None):
    """Bring the portal in line with MLflow; returns counts of what was created, updated and skipped."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    report = report or (lambda step, progress=None: None)
    uri = tracking_uri or settings.MLFLOW_TRACKING_URI
    counts = dict.fromkeys(
        ["models_created", "models_updated", "versions_created", "versions_updated", "prompts_skipped"], 0
    )
    try:
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        registered = list(_all_pages(client.search_registered_models, max_results=200))
    except MlflowException as exc:
        raise MlflowUnavailable(f"The MLflow registry at {uri} could not be read: {exc.message}") from None
    for index, remote in enumerate(registered, start=1):
        report(f"syncing {remote.name}", 100 * (index - 1) // max(len(registered), 1))
        tags = dict(remote.tags or {})
        if tags.get(PROMPT_TAG) == "true":
            counts["prompts_skipped"] += 1
            continue
        model = RegisteredModel.objects.filter(mlflow_name=remote.name).first()
        if model is None:
            model = register_model(
                remote.name, owner=None, summary=(remote.description or "")[:300], mlflow_name=remote.name
            )
            model.mlflow_tags = tags
            model.save(update_fields=["mlflow_tags"])
            counts["models_created"] += 1
        elif model.mlflow_tags != tags:
            model.mlflow_tags = tags
            model.save(update_fields=["mlflow_tags"])
            counts["models_updated"] += 1
        # search_model_versions() leaves aliases empty; the registered model carries them.
        aliases = {}
        for alias, number in (remote.aliases or {}).items():
            aliases.setdefault(int(number), []).append(alias)
        escaped = remote.name.replace("'", "\\'")
        remote_versions = _all_pages(client.search_model_versions, filter_string=f"name='{escaped}'", max_results=200)
        # Oldest first, so that our version numbers follow MLflow's.
        for remote_version in sorted(remote_versions, key=lambda item: int(item.version)):
            _sync_version(client, model, remote_version, sorted(aliases.get(int(remote_version.version), [])), counts)
    report("done", 100)
    return counts


def _sync_version(client, model, remote, aliases, counts):
    number = int(remote.version)
    params, metrics = _run_data(client, remote.run_id)
    values = {
        "mlflow_run_id": remote.run_id or "",
        "model_uri": remote.source or "",
        "mlflow_tags": dict(remote.tags or {}),
        "mlflow_aliases": aliases,
    }
    if params is not None:
        values.update(run_params=params, run_metrics=metrics)
    version = ModelVersion.objects.filter(model=model, mlflow_version=number).first()
    if version is None:
        register_version(
            model,
            metrics=metrics or {},
            split=RUN_METRICS_SPLIT,
            mlflow_version=number,
            hyperparameters=params or {},
            **values,
        )
        counts["versions_created"] += 1
        return
    changed = [name for name, value in values.items() if getattr(version, name) != value]
    if changed:
        for name in changed:
            setattr(version, name, values[name])
        version.save(update_fields=changed)
        counts["versions_updated"] += 1
