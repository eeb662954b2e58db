"""The one access-checked getter for assets, used by the pages and the API of every app.

``asset_for_user`` answers the asset, with the joins its page needs, and whether the user may change it, in one
query: the team membership is an ``EXISTS`` in the same statement, so no page asks "may they edit?" a second time.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, Value
from django.shortcuts import get_object_or_404

from accounts.models import Team
from catalog.choices import AssetKind
from catalog.models import Asset, LineageGrant
from core.onequery import Compiled

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


def rights_of(user):
    """How ``user``'s rights enter a query: ``("nobody" | "staff" | "account", the account's id or None)``. None (a
    sender since deleted) and an anonymous visitor are nobody."""
    if user is None or not user.is_authenticated:
        return "nobody", None
    return ("staff", None) if user.is_staff else ("account", user.pk)


def can_edit_expression(user, path=""):
    """``can_edit`` as an annotation: staff, the owner, or a member of the owning team; false for nobody (None too:
    an OpenLineage event whose sender was deleted). ``path`` leads from the rows annotated to their asset
    (``"asset__"`` for rows that point at one)."""
    return can_edit_by_rights(*rights_of(user), path)


def can_edit_by_rights(rights, user_id, path=""):
    """``can_edit_expression`` for the rights ``rights_of`` answered: a query compiled once per kind of rights with a
    stand-in for the account's id (``core.onequery.Compiled``) builds it from these two values."""
    if rights == "account":
        return can_edit_by_id(user_id, path)
    return Value(rights == "staff", output_field=BooleanField())


def can_edit_by_id(user_id, path=""):
    """``can_edit_expression`` for the signed-in account ``user_id`` who is not staff: the owner or a member of the
    owning team. For a query compiled once with a stand-in for the id (``core.onequery.Compiled``)."""
    membership = Team.members.through.objects.filter(team_id=OuterRef(f"{path}team_id"), user_id=user_id)
    return ExpressionWrapper(Q(**{f"{path}owner_id": user_id}) | Exists(membership), output_field=BooleanField())


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


# --- who may be named owner and team -----------------------------------------------------------------------------
OWNER_REFUSAL = "You can name only yourself, or nobody, as the owner; staff can give an asset to someone else."
TEAM_REFUSAL = "You can put an asset only in a team you belong to; staff can choose any team."


def ownership_errors(user, owner, team, *, asset=None):
    """``{field: message}`` for the owner and team ``user`` wants to give an asset (``asset`` as it is now, or None
    for a new one); empty when allowed. The one rule for the catalog's and the registry's pages and API alike:

    - staff may name anyone and any team;
    - anyone else may name only themselves or nobody as the owner, and only one of their own teams or none;
    - what stays as it was is always allowed (a teammate editing a description keeps the owner and the team).
    """
    if user.is_staff:
        return {}
    errors = {}
    owner_id = getattr(owner, "pk", owner)
    team_id = getattr(team, "pk", team)
    if owner_id not in (None, user.pk) and not (asset is not None and asset.pk and owner_id == asset.owner_id):
        errors["owner"] = OWNER_REFUSAL
    if (
        team_id is not None
        and not (asset is not None and asset.pk and team_id == asset.team_id)
        and not Team.members.through.objects.filter(team_id=team_id, user_id=user.pk).exists()
    ):
        errors["team"] = TEAM_REFUSAL
    return errors


def check_ownership(user, owner, team, *, asset=None):
    """``ownership_errors`` for the API: raise PermissionDenied (403) with its messages."""
    errors = ownership_errors(user, owner, team, asset=asset)
    if errors:
        raise PermissionDenied(" ".join(errors.values()))


# --- what an OpenLineage event may change --------------------------------------------------------------------------
class LineageRights:
    """What the OpenLineage events of ``user`` (the owner of the token that sent them) may change.

    An asset that exists may be changed by an event of its owner, its team or staff (the ``can_edit`` rule, read as
    ``can_edit_expression`` in the query that found the asset), of an account staff granted the asset's namespace
    (``LineageGrant``: a pipeline's service account), or by any event while nobody owns it (assets created from
    events are claimable, and any event may create one). Grants are read once, and only if needed.
    """

    def __init__(self, user):
        self.user = user
        self._grants = None

    def may_change(self, can_edit, asset, namespace):
        """``can_edit``: the asset's ``can_edit_expression`` for this user; ``namespace``: where the event found it."""
        if can_edit or (self.user is not None and self.user.is_staff):
            return True
        if asset.owner_id is None and asset.team_id is None:
            return True
        if self._grants is None:
            self._grants = {grant.namespace for grant in _GRANTS.all(user_id=self.user.pk)} if self.user else set()
        return namespace in self._grants


# Read at every OpenLineage event of an account that does not own what it reports (a pipeline's service account).
_GRANTS = Compiled(
    lambda user_id: LineageGrant.objects.filter(user_id=user_id).only("namespace"), user_id=1_987_654_321
)
