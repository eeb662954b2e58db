"""The one access-checked getter for assets, used by the pages and the API of every app.

``asset_for_user`` answers the asset, with the joins its page needs, and whether the user may change it, in one
query: the team membership is an ``EXISTS`` in the same statement, so no page asks "may they edit?" a second time.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, Value
from django.shortcuts import get_object_or_404

from accounts.models import Team
from catalog.choices import AssetKind
from catalog.models import Asset

# What each kind's page needs joined in, so the page costs the same number of queries for any asset.
DETAIL_RELATED = {
    AssetKind.SOURCE: ["source"],
    AssetKind.DATASET: ["dataset", "dataset__source__asset", "dataset__steward"],
    AssetKind.REPORT: ["report"],
    AssetKind.PIPELINE: ["pipeline"],
    AssetKind.MODEL: ["registered_model"],
    AssetKind.MODEL_VERSION: ["model_version", "model_version__model__asset"],
}

REFUSAL = "Only the owner, the owning team and staff can change this asset."


def can_edit_expression(user, path=""):
    """``can_edit`` as an annotation: staff, the owner, or a member of the owning team. ``path`` leads from the
    rows annotated to their asset (``"asset__"`` for rows that point at one)."""
    if not user.is_authenticated:
        return Value(False, output_field=BooleanField())
    if user.is_staff:
        return Value(True, output_field=BooleanField())
    membership = Team.members.through.objects.filter(team_id=OuterRef(f"{path}team_id"), user_id=user.pk)
    return ExpressionWrapper(Q(**{f"{path}owner_id": user.pk}) | Exists(membership), output_field=BooleanField())


def asset_for_user(request, kind=None, slug=None, *, uuid=None, edit=False, related=()):
    """``(asset, can_edit)`` for the asset of ``kind`` and ``slug`` (or of ``uuid``), in one query; 404 if there is
    none, 403 with ``edit`` unless the user may change it. Owner, team and the kind's own row are joined (see
    ``DETAIL_RELATED``), and ``related`` adds what a page needs beyond them."""
    lookup = {"uuid": uuid} if uuid is not None else {"kind": kind, "slug": slug}
    queryset = Asset.objects.select_related("owner", "team", *DETAIL_RELATED.get(kind, []), *related).annotate(
        user_can_edit=can_edit_expression(request.user)
    )
    asset = get_object_or_404(queryset, **lookup)
    if edit and not asset.user_can_edit:
        raise PermissionDenied(REFUSAL)
    return asset, asset.user_can_edit
