"""Access-checked getters shared by the pages and the API: one query set with the joins a card needs."""

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404

from catalog.choices import AssetKind
from registry.models import ModelVersion, RegisteredModel


def _versions_with_facts():
    return ModelVersion.objects.select_related("asset", "created_by").prefetch_related(
        "metrics", "training_datasets__asset", "evaluation_datasets__asset"
    )


def get_model(request, slug, edit=False):
    """The model behind ``slug`` with what its card needs, and whether the user may change it (403 if required)."""
    model = get_object_or_404(
        RegisteredModel.objects.select_related("asset__owner", "asset__team", "card").prefetch_related(
            "developers", "approvers", "assumptions", "model_users", "asset__tags",
            Prefetch("versions", queryset=_versions_with_facts()),
        ),
        asset__slug=slug,
        asset__kind=AssetKind.MODEL,
    )  # fmt: skip
    can_edit = model.asset.can_edit(request.user)
    if edit and not can_edit:
        raise PermissionDenied("Only the model's owner, its team and staff can change it.")
    return model, can_edit


def get_version(request, slug, number, edit=False):
    model, can_edit = get_model(request, slug, edit=edit)
    version = next((v for v in model.versions.all() if v.version == number), None)
    if version is None:
        raise Http404(f"{model} has no version {number}.")
    version.model = model
    return model, version, can_edit
