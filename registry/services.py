"""Workflows that span several registry and catalog rows."""

from django.db import transaction
from django.utils.text import slugify

from catalog.choices import AssetKind, LineageOrigin
from catalog.models import Asset, LineageEdge
from registry.models import Metric, ModelVersion, RegisteredModel


def register_version(
    model,
    *,
    created_by=None,
    training_datasets=(),
    metrics=None,
    split="test",
    **fields,
):
    """Add the next version of ``model``: its asset, its metrics, and lineage from the datasets it learned from.

    ``fields`` are ``ModelVersion`` fields (algorithm, hyperparameters, features, mlflow_run_id, model_uri,
    passed_thresholds, threshold_results …). The new version starts under development.
    """
    with transaction.atomic():
        # Lock the model row so two trainings finishing together cannot take the same version number.
        model = RegisteredModel.objects.select_for_update().select_related("asset").get(pk=model.pk)
        number = (model.versions.order_by("-version").values_list("version", flat=True).first() or 0) + 1
        asset = Asset.objects.create(
            kind=AssetKind.MODEL_VERSION,
            name=f"{model.asset.name} v{number}",
            slug=slugify(f"{model.asset.slug}-v{number}")[:200],
            owner=model.asset.owner,
            team=model.asset.team,
        )
        version = ModelVersion.objects.create(asset=asset, model=model, version=number, created_by=created_by, **fields)
        Metric.objects.bulk_create(
            Metric(version=version, name=name, value=value, split=split) for name, value in (metrics or {}).items()
        )
        LineageEdge.objects.bulk_create(
            [
                LineageEdge(
                    upstream=getattr(dataset, "asset", dataset), downstream=asset, origin=LineageOrigin.REGISTRY
                )
                for dataset in training_datasets
            ],
            ignore_conflicts=True,
        )
    return version
