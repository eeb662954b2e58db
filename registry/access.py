"""The registry's getters for the pages and the API, built on ``catalog.access.asset_for_user``: the model's asset,
its card and whether the user may change it in one query, then what a card shows, prefetched."""

from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404

from catalog.access import asset_for_user
from catalog.choices import AssetKind
from registry.models import Assumption, ModelVersion, RegisteredModel


def _versions_with_facts():
    return ModelVersion.objects.select_related("asset", "created_by").prefetch_related(
        "metrics", "training_datasets__asset", "evaluation_datasets__asset"
    )


def get_model(request, slug, edit=False):
    """The model behind ``slug`` with what its card needs, and whether the user may change it (403 if required)."""
    card = "registered_model__card__updated_by"
    fairness = "registered_model__fairness_limit"
    asset, can_edit = asset_for_user(request, AssetKind.MODEL, slug, edit=edit, related=[card, fairness])
    try:
        model = asset.registered_model
    except RegisteredModel.DoesNotExist:
        raise Http404(f"{asset} is not in the model registry.") from None
    prefetch_related_objects(
        [model],
        "developers", "approvers", "model_users", "asset__tags", "quality_thresholds",
        Prefetch("assumptions", queryset=Assumption.objects.select_related("verified_by")),
        Prefetch("versions", queryset=_versions_with_facts()),
    )  # fmt: skip
    return model, can_edit


def get_version(request, slug, number, edit=False):
    model, can_edit = get_model(request, slug, edit=edit)
    version = next((v for v in model.versions.all() if v.version == number), None)
    if version is None:
        raise Http404(f"{model} has no version {number}.")
    version.model = model
    return model, version, can_edit
