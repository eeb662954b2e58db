"""Keeping stored badges true: a change to any fact a badge is computed from marks that badge stale and, when the
fact travels along lineage (freshness, a serious issue, a deprecation, a lifecycle or a name, an edge, a
deletion), every badge downstream too.

Every row saved or deleted is caught here, whichever page, API call, admin form or job wrote it. The workflows
that write with ``update()`` instead (issue transitions, withdrawing and retiring a deprecation) call
``StoredBadge.invalidate`` themselves; freshness tells us through its own signal, since monitoring does not know
about trust. Connected in ``TrustConfig.ready``.
"""

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from catalog.models import Asset, Dataset, LineageEdge, Report
from monitoring.choices import FreshnessStatus
from monitoring.models import FreshnessPolicy
from monitoring.signals import freshness_changed
from registry.models import Assumption, Metric, ModelCard, ModelUser, ModelVersion, RegisteredModel, StageChange
from trust.choices import DeprecationState
from trust.models import Certification, DataIssue, Deprecation, Review, StoredBadge


def _deleted_with_an_asset(origin):
    """Whether a row goes because an asset is being deleted."""
    return isinstance(origin, Asset) or (isinstance(origin, QuerySet) and origin.model is Asset)


def _replaced_by(asset):
    """Assets whose running deprecation names ``asset`` as the replacement: their badges say "use it instead"."""
    return Deprecation.objects.filter(replacement=asset, state=DeprecationState.ANNOUNCED).values_list(
        "asset_id", flat=True
    )


# --- the asset itself and its lineage -----------------------------------------------------------------------------
@receiver(pre_save, sender=Asset)
def _remember_what_downstream_reads(sender, instance, update_fields=None, **kwargs):
    # Badges downstream read an input's lifecycle and name it: the values before this save say whether they change.
    relevant = update_fields is None or {"name", "lifecycle"} & set(update_fields)
    instance._badge_inputs_before = (
        Asset.objects.filter(pk=instance.pk).values_list("name", "lifecycle").first()
        if instance.pk is not None and relevant
        else None
    )


@receiver(post_save, sender=Asset)
def _asset_saved(sender, instance, created, **kwargs):
    if created:
        return  # nothing stored for it yet, and nothing downstream yet
    before = instance._badge_inputs_before
    moved = before is not None and before != (instance.name, instance.lifecycle)
    StoredBadge.invalidate([instance.pk], downstream=moved)
    if before is not None and before[0] != instance.name:
        StoredBadge.invalidate(_replaced_by(instance))


@receiver(pre_delete, sender=Asset)
def _asset_deleted(sender, instance, **kwargs):
    # Before the cascade removes its edges. Existing rows only: other assets may be going in the same deletion.
    StoredBadge.invalidate([instance.pk], downstream=True, create_missing=False)
    StoredBadge.invalidate(_replaced_by(instance), create_missing=False)


@receiver(post_save, sender=LineageEdge)
def _edge_added(sender, instance, created, **kwargs):
    if created:
        StoredBadge.invalidate([instance.downstream_id], downstream=True)


@receiver(post_delete, sender=LineageEdge)
def _edge_removed(sender, instance, origin=None, **kwargs):
    if not _deleted_with_an_asset(origin):  # the asset's own handler walked from it before its edges went
        StoredBadge.invalidate([instance.downstream_id], downstream=True)


@receiver(post_save, sender=Dataset)
@receiver(post_save, sender=Report)
def _kind_facts_saved(sender, instance, **kwargs):
    # A dataset's intended use, a report's audience.
    StoredBadge.invalidate([instance.asset_id])


@receiver(post_save, sender=get_user_model())
def _person_saved(sender, instance, created, update_fields=None, **kwargs):
    # Badges name the owner and say whether they are still active. Signing in saves ``last_login`` alone.
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return
    StoredBadge.invalidate(instance.owned_assets.values_list("pk", flat=True))


@receiver(pre_delete, sender=get_user_model())
def _person_deleted(sender, instance, **kwargs):
    StoredBadge.invalidate(instance.owned_assets.values_list("pk", flat=True), create_missing=False)


# --- freshness -------------------------------------------------------------------------------------------------
@receiver(post_save, sender=FreshnessPolicy)
@receiver(post_delete, sender=FreshnessPolicy)
def _policy_changed(sender, instance, origin=None, **kwargs):
    if not _deleted_with_an_asset(origin):
        StoredBadge.invalidate([instance.asset_id], downstream=True)


@receiver(freshness_changed)
def _freshness_changed(sender, moved, reworded, **kwargs):
    # Downstream inherits a status, and quotes the words of an input that holds it back (one that is not fresh).
    travels = [*moved, *(policy for policy in reworded if policy.announced_status != FreshnessStatus.FRESH)]
    StoredBadge.invalidate([policy.asset_id for policy in travels], downstream=True)
    StoredBadge.invalidate([policy.asset_id for policy in reworded if policy not in travels])


# --- trust's own rows ------------------------------------------------------------------------------------------
@receiver(post_save, sender=DataIssue)
def _issue_saved(sender, instance, created, **kwargs):
    # A new minor issue changes no badge; an edit (the admin) may have changed severity or status.
    if not created or instance.severity in DataIssue.SERIOUS:
        StoredBadge.invalidate([instance.asset_id], downstream=True)


@receiver(post_delete, sender=DataIssue)
def _issue_deleted(sender, instance, origin=None, **kwargs):
    if instance.severity in DataIssue.SERIOUS and instance.is_open and not _deleted_with_an_asset(origin):
        StoredBadge.invalidate([instance.asset_id], downstream=True)


@receiver(post_save, sender=Deprecation)
@receiver(post_delete, sender=Deprecation)
def _deprecation_changed(sender, instance, origin=None, **kwargs):
    if not _deleted_with_an_asset(origin):
        StoredBadge.invalidate([instance.asset_id], downstream=True)


@receiver(post_save, sender=Certification)
@receiver(post_delete, sender=Certification)
@receiver(post_save, sender=Review)
@receiver(post_delete, sender=Review)
def _vouching_changed(sender, instance, origin=None, **kwargs):
    if not _deleted_with_an_asset(origin):
        StoredBadge.invalidate([instance.asset_id])


# --- model cards -----------------------------------------------------------------------------------------------
def _model_of_version(version_id):
    return ModelVersion.objects.filter(pk=version_id).values_list("model_id", flat=True)


# Every row a model card's completeness reads, and how to find its model (whose id is the model's asset id).
CARD_INPUTS = {
    RegisteredModel: lambda row: [row.pk],
    ModelCard: lambda row: [row.model_id],
    Assumption: lambda row: [row.model_id],
    ModelUser: lambda row: [row.model_id],
    ModelVersion: lambda row: [row.model_id],
    StageChange: lambda row: _model_of_version(row.version_id),
    Metric: lambda row: _model_of_version(row.version_id),
}


def _card_input_changed(sender, instance, origin=None, **kwargs):
    # A version's asset can be deleted on its own: its model's card still loses the version.
    StoredBadge.invalidate(CARD_INPUTS[sender](instance), create_missing=not _deleted_with_an_asset(origin))


for _model in CARD_INPUTS:
    post_save.connect(_card_input_changed, sender=_model, dispatch_uid=f"stored-badge-card-save-{_model.__name__}")
    post_delete.connect(_card_input_changed, sender=_model, dispatch_uid=f"stored-badge-card-del-{_model.__name__}")


@receiver(m2m_changed, sender=RegisteredModel.developers.through)
def _developers_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        StoredBadge.invalidate((pk_set or ()) if reverse else [instance.pk])


@receiver(m2m_changed, sender=ModelVersion.training_datasets.through)
def _training_data_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        versions = ModelVersion.objects.filter(pk__in=pk_set or ()) if reverse else [instance]
        StoredBadge.invalidate({version.model_id for version in versions})
