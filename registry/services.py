"""The registry's workflows, one function per action, called alike by the pages, the API, jobs and commands."""

import math

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.text import slugify

from catalog import assets
from catalog.audience import audience_of
from catalog.changes import record_change
from catalog.choices import AssetKind, LineageOrigin
from catalog.models import Asset, Dataset
from core.choices import NotificationKind
from core.notifications import notify
from registry.events import send_card_changed
from registry.models import (
    Direction,
    FairnessLimit,
    Metric,
    ModelCard,
    ModelVersion,
    PromotionRequest,
    QualityThreshold,
    QualityWaiver,
    RegisteredModel,
    gate_results,
)

# Slugs that are pages of their own under /models/.
RESERVED_SLUGS = {"new", "markdown-preview"}


def register_model(name, *, owner, team=None, summary="", goal="", mlflow_name="", slug=None, actor=None):
    """A new registered model: its catalog asset (with its "created" history), the model row and its empty card.
    ``actor`` is who registered it (the owner unless said otherwise)."""
    with transaction.atomic(savepoint=False):  # no savepoint in the API's transaction: nothing recovers from here
        asset = Asset(kind=AssetKind.MODEL, name=name, slug=slug or "", description=summary, owner=owner, team=team)
        model = RegisteredModel(summary=summary, goal=goal, mlflow_name=mlflow_name)
        assets.create_asset(asset, model, actor=actor or owner, reserved_slugs=RESERVED_SLUGS)
        ModelCard.objects.create(model=model)
        if owner is not None:
            model.developers.add(owner)
        send_card_changed(model.pk)
    return model


def update_model_facts(model, asset_fields, *, actor=None, developers=None, approvers=None):
    """Save ``model`` (its own fields already set) with the asset fields that belong to it (``name``, ``team``), and
    who develops and approves it (``None`` leaves a list as it is; callers check ``may_choose_approvers``).

    The asset's description mirrors the model's summary, so catalog lists and search describe a model as its card
    does. Goes through the catalog's edit path (history, search, events). The page and the API both save here.
    The catalog's ``asset_changed`` is the one announcement: it marks the model's badge stale, which is all a
    ``card_changed`` would add, so none is sent (the badge would be marked twice in one transaction).
    """
    for name, value in asset_fields.items():
        setattr(model.asset, name, value)
    model.asset.description = model.summary
    with transaction.atomic():
        assets.save_asset(model.asset, model, actor)
        _set_people(model, developers, approvers)


def set_people(model, *, developers=None, approvers=None):
    """Set who develops the model and who approves its promotions (``None`` leaves a list as it is). Only staff
    choose approvers: callers check ``may_choose_approvers`` first."""
    with transaction.atomic(savepoint=False):
        _set_people(model, developers, approvers)
        send_card_changed(model.pk)


def _set_people(model, developers, approvers):
    if developers is not None:
        model.developers.set(developers)
    if approvers is not None:
        model.approvers.set(approvers)


def may_choose_approvers(user):
    """Who approves promotions is chosen by staff only: the one rule for the page and the API."""
    return user.is_staff


def add_assumption(model, assumption, *, by):
    """Record an assumption of the model (verified today by ``by`` when it comes with a verification date)."""
    assumption.model = model
    if assumption.verified_on:
        assumption.verified_by = by
    with transaction.atomic():
        assumption.save()
        send_card_changed(model.pk)
    return assumption


def remove_assumption(assumption):
    with transaction.atomic():
        assumption.delete()
        send_card_changed(assumption.model_id)


def add_model_user(model_user):
    """Record a team or organisation that relies on the model (``model_user`` unsaved, its model set)."""
    with transaction.atomic():
        model_user.save()
        send_card_changed(model_user.model_id)
    return model_user


def remove_model_user(model_user):
    with transaction.atomic():
        model_user.delete()
        send_card_changed(model_user.model_id)


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
        # Lock the model row so two trainings finishing together cannot take the same version number. One
        # statement: the model with its asset, owner, team and card (only the model row locked), its last number.
        last = ModelVersion.objects.filter(model=models.OuterRef("pk")).order_by("-version").values("version")[:1]
        model = (
            RegisteredModel.objects.select_for_update(of=("self",))
            .select_related("asset__owner", "asset__team", "card")
            .annotate(last_version=models.Subquery(last))
            .get(pk=model.pk)
        )
        if not hasattr(model, "card"):  # a model registered before cards existed
            ModelCard.objects.get_or_create(model=model)
        number = (model.last_version or 0) + 1
        asset = Asset(
            kind=AssetKind.MODEL_VERSION,
            name=f"{model.asset.name} v{number}",
            slug=slugify(f"{model.asset.slug}-v{number}")[:200],
            owner=model.asset.owner,
            team=model.asset.team,
        )
        version = ModelVersion(model=model, version=number, created_by=created_by, **fields)
        assets.create_asset(asset, version, actor=created_by)
        training = _dataset_rows(training_datasets)
        evaluation = _dataset_rows(evaluation_datasets)
        if training:  # a new version has none yet: nothing to compare with
            version.training_datasets.add(*training)
        if evaluation:
            version.evaluation_datasets.add(*evaluation)
        Metric.objects.bulk_create(
            Metric(version=version, name=name, value=value, split=split) for name, value in (metrics or {}).items()
        )
        pairs = [(dataset.asset_id, asset.pk) for dataset in training + evaluation]
        assets.link(pairs, actor=created_by, origin=LineageOrigin.REGISTRY)
        send_card_changed(model.pk)
    return version


def version_facts(version, split):
    """What a version says about itself as people read it: its algorithm, training datasets and its metrics on
    ``split``; the history rows of ``update_version_facts`` compare these."""
    metrics = {m.name: m.value for m in version.metrics.all() if m.split == split}
    return _facts_as_read(version.algorithm, version.training_datasets.all(), metrics, split)


def _facts_as_read(algorithm, training_datasets, metrics, split):
    return {
        "algorithm": algorithm,
        "training datasets": ", ".join(sorted(d.asset.name for d in training_datasets)),
        f"metrics on {split}": ", ".join(f"{name} = {value!r}" for name, value in sorted(metrics.items())),
    }


def update_version_facts(version, *, algorithm, training_datasets, metrics, split="test", actor=None):
    """Change what ``version`` says about itself: its algorithm, the datasets it learned from (the lineage follows)
    and its metrics on ``split`` (``{name: value}``; those on other splits stay). Written in the version's history
    with ``actor``; returns whether anything changed."""
    with transaction.atomic():
        version = (
            ModelVersion.objects.select_for_update(of=("self",))
            .select_related("asset")
            .prefetch_related("metrics", "training_datasets__asset", "evaluation_datasets")
            .get(pk=version.pk)
        )
        training = _dataset_rows(training_datasets)
        before = version_facts(version, split)
        after = _facts_as_read(algorithm, training, metrics, split)
        if after == before:
            return False
        if algorithm != version.algorithm:
            ModelVersion.objects.filter(pk=version.pk).update(algorithm=algorithm)
        old = {d.pk: d for d in version.training_datasets.all()}
        version.training_datasets.set(training)
        Metric.objects.filter(version=version, split=split).delete()
        Metric.objects.bulk_create(Metric(version=version, name=n, value=v, split=split) for n, v in metrics.items())
        assets.link([(d.asset_id, version.pk) for d in training], actor=actor, origin=LineageOrigin.REGISTRY)
        evaluated = {d.pk for d in version.evaluation_datasets.all()}
        for pk in old.keys() - {d.pk for d in training} - evaluated:
            assets.remove_edge(old[pk].asset, version.asset, actor)
        record_change(version.asset, actor, before, after)
        send_card_changed(version.model_id)
    return True


def request_promotion(model, version, by, note=""):
    """Ask for ``version`` to go into use and tell the people who may approve it. Refused, naming every unmet
    item, unless the gate is complete (``PromotionBlocked``)."""
    promotion = PromotionRequest.open(model, version, by, note=note)
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


# --- quality gates ----------------------------------------------------------------------------------------------
def parse_thresholds(text):
    """Thresholds written one per line as ``metric split >= value`` (or ``<=``; the split may be left out, "test").
    Returns ``[(metric, split, direction, value)]``; ``ValidationError`` names each bad line."""
    thresholds, errors, seen = [], [], set()
    for number, line in enumerate(str(text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        operator = ">=" if ">=" in line else "<=" if "<=" in line else None
        left, _, right = line.partition(operator) if operator else (line, "", "")
        names = left.split()
        try:
            value = float(right)
        except ValueError:
            value = None
        if operator is None or value is None or not 1 <= len(names) <= 2 or not math.isfinite(value):
            errors.append(
                f"line {number} ({line[:60]}): write it as “metric split >= number”, e.g. “roc_auc test >= 0.75”"
            )
            continue
        metric, split = names[0], names[1] if len(names) == 2 else "test"
        if (metric, split) in seen:
            errors.append(f"line {number}: {metric} on {split} is given twice")
            continue
        seen.add((metric, split))
        thresholds.append((metric, split, Direction.AT_LEAST if operator == ">=" else Direction.AT_MOST, value))
    if errors:
        raise ValidationError(errors)
    return thresholds


def set_quality_gates(model, thresholds, *, sensitive_column="", max_gap=None):
    """Replace the model's thresholds (``[(metric, split, direction, value)]``) and its fairness limit (none
    without a sensitive column). Versions already in use stay; the gates count for the next promotion."""
    sensitive_column = (sensitive_column or "").strip()
    if sensitive_column and max_gap is None:
        raise ValidationError({"max_gap": "Give the largest gap allowed between groups of the sensitive column."})
    if max_gap is not None and not sensitive_column:
        raise ValidationError({"sensitive_column": "Name the sensitive column whose groups are compared."})
    if max_gap is not None and max_gap < 0:
        raise ValidationError({"max_gap": "A gap is never negative; give 0 or more."})
    with transaction.atomic():
        model.quality_thresholds.all().delete()
        QualityThreshold.objects.bulk_create(
            QualityThreshold(model=model, metric=metric, split=split, direction=direction, value=value)
            for metric, split, direction, value in thresholds
        )
        if sensitive_column:
            FairnessLimit.objects.update_or_create(
                model=model, defaults={"sensitive_column": sensitive_column, "max_gap": max_gap}
            )
        else:
            FairnessLimit.objects.filter(model=model).delete()
        send_card_changed(model.pk)


def thresholds_text(model):
    """The model's thresholds as the form writes them."""
    return "\n".join(
        f"{t.metric} {t.split} {'>=' if t.direction == Direction.AT_LEAST else '<='} {t.value:g}"
        for t in model.quality_thresholds.all()
    )


def waive_gate(version, gate, *, by, reason):
    """Let one unmet gate of ``version`` pass: only someone who may approve its promotion, with a reason."""
    if not version.model.can_approve(by):
        raise PermissionDenied("Only the people who may approve promotions of this model can waive a quality gate.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why this gate may be waived: the reason is recorded with your name."})
    results = {result["key"]: result for result in gate_results(version)}
    if gate not in results:
        raise ValidationError({"gate": "This model has no such quality gate."})
    if results[gate]["passed"]:
        raise ValidationError({"gate": f"{results[gate]['label']} is met; there is nothing to waive."})
    with transaction.atomic():
        waiver, _ = QualityWaiver.objects.update_or_create(
            version=version, gate=gate, defaults={"reason": reason, "approved_by": by}
        )
        send_card_changed(version.model_id)
    return waiver
