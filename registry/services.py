"""Workflows that span several registry and catalog rows."""

from django.db import transaction
from django.utils.text import slugify

from catalog.choices import AssetKind, LineageOrigin
from catalog.models import Asset, Dataset, LineageEdge
from catalog.search import reindex
from monitoring.choices import NotificationKind
from monitoring.notifications import audience_of, notify
from registry.models import Metric, ModelCard, ModelVersion, RegisteredModel

# Slugs that are pages of their own under /models/.
RESERVED_SLUGS = {"new", "markdown-preview"}


def unique_model_slug(name):
    base = slugify(name)[:180] or "model"
    slug, n = base, 1
    while slug in RESERVED_SLUGS or Asset.objects.filter(kind=AssetKind.MODEL, slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def register_model(name, *, owner, team=None, summary="", goal="", mlflow_name="", slug=None):
    """A new registered model: its catalog asset, the model row and its empty card."""
    with transaction.atomic():
        asset = Asset.objects.create(
            kind=AssetKind.MODEL,
            name=name,
            slug=slug or unique_model_slug(name),
            description=summary,
            owner=owner,
            team=team,
        )
        model = RegisteredModel.objects.create(asset=asset, summary=summary, goal=goal, mlflow_name=mlflow_name)
        ModelCard.objects.create(model=model)
        if owner is not None:
            model.developers.add(owner)
        reindex([asset.pk])
    return model


def update_model_facts(model, asset_fields):
    """Save ``model`` (its own fields already set) with the asset fields that belong to it (``name``, ``team``).

    The asset's description mirrors the model's summary, so catalog lists and search describe a model as its card
    does, and the search document is rebuilt in the same step. The page and the API both save through here.
    """
    for name, value in asset_fields.items():
        setattr(model.asset, name, value)
    model.asset.description = model.summary
    with transaction.atomic():
        model.asset.save()
        model.save()
        reindex([model.asset.pk])


def _dataset_rows(datasets):
    """Dataset rows for a mix of ``Dataset`` rows and their assets."""
    ids = [getattr(item, "pk", item) for item in datasets]
    return list(Dataset.objects.filter(pk__in=ids).select_related("asset"))


def register_version(
    model,
    *,
    created_by=None,
    training_datasets=(),
    metrics=None,
    split="test",
    evaluation_datasets=(),
    **fields,
):
    """Add the next version of ``model``: its asset, its metrics, and lineage from the datasets it learned from.

    ``fields`` are ``ModelVersion`` fields (algorithm, hyperparameters, features, mlflow_run_id, model_uri,
    passed_thresholds, threshold_results …). The new version starts under development. Training and evaluation
    datasets are recorded on the version, and each becomes a lineage edge dataset → version.
    """
    with transaction.atomic():
        # Lock the model row so two trainings finishing together cannot take the same version number.
        model = RegisteredModel.objects.select_for_update().select_related("asset").get(pk=model.pk)
        ModelCard.objects.get_or_create(model=model)
        number = (model.versions.order_by("-version").values_list("version", flat=True).first() or 0) + 1
        asset = Asset.objects.create(
            kind=AssetKind.MODEL_VERSION,
            name=f"{model.asset.name} v{number}",
            slug=slugify(f"{model.asset.slug}-v{number}")[:200],
            owner=model.asset.owner,
            team=model.asset.team,
        )
        version = ModelVersion.objects.create(asset=asset, model=model, version=number, created_by=created_by, **fields)
        training = _dataset_rows(training_datasets)
        evaluation = _dataset_rows(evaluation_datasets)
        version.training_datasets.set(training)
        version.evaluation_datasets.set(evaluation)
        Metric.objects.bulk_create(
            Metric(version=version, name=name, value=value, split=split) for name, value in (metrics or {}).items()
        )
        LineageEdge.objects.bulk_create(
            [
                LineageEdge(upstream=dataset.asset, downstream=asset, origin=LineageOrigin.REGISTRY)
                for dataset in training + evaluation
            ],
            ignore_conflicts=True,
        )
        reindex([asset.pk])
    return version


def request_promotion(model, version, by, note=""):
    """Ask for ``version`` to go into use and tell the people who may approve it."""
    promotion = model.request_promotion(version, by, note=note)
    approvers = list(model.approvers.all()) or list(audience_of(model.asset))
    notify(
        [user for user in approvers if user.pk != by.pk],
        kind=NotificationKind.PROMOTION,
        title=f"{by.get_username()} asks you to approve {version} going into use",
        body=note,
        url=version.get_absolute_url(),
        asset=model.asset,
    )
    return promotion


def decide_promotion(promotion, action, by, note=""):
    """Approve, reject or withdraw a waiting request; an approval is announced to everyone around the model."""
    if action == "approve":
        promotion.approve(by, note=note)
        notify(
            audience_of(promotion.model.asset),
            kind=NotificationKind.PROMOTION,
            title=f"{promotion.version} is now in use",
            body=f"Approved by {by.get_username()}. {note}".strip(),
            url=promotion.version.get_absolute_url(),
            asset=promotion.model.asset,
        )
    elif action == "reject":
        promotion.reject(by, note=note)
    elif action == "withdraw":
        promotion.withdraw(by)
    else:
        raise ValueError(f"Unknown decision {action!r}.")
    return promotion
