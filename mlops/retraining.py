"""Retraining on drift (maturity level 5), for models that opt in: when a drift or performance alert fires, the
training run that made the version in use runs again on the latest data, through the existing training job; the
new version is put in validation with its metrics and thresholds and the owner is told. Never promoted by itself;
at most once per ``retrain_every_days`` (claimed with a compare-and-set on ``last_retrained_at``)."""

from datetime import timedelta

from django.core.exceptions import ValidationError

from core.choices import JobKind, JobState, NotificationKind
from core.jobs import JobFailed
from core.models import JobRun
from core.notifications import notify
from mlops.models import ModelOps
from registry.choices import Stage
from registry.models import ModelVersion


def training_params(model, version):
    """The parameters of the portal training run that registered ``version``; None if it was made elsewhere."""
    run = (
        JobRun.objects.filter(
            kind__in=[JobKind.TRAINING, JobKind.RETRAINING],
            asset=model.asset,
            state=JobState.SUCCEEDED,
            result__version=version.version,
        )
        .order_by("-finished_at")
        .first()
    )
    return dict(run.params) if run is not None else None


def maybe_retrain(ops, now, reason):
    """Start a retraining if the model opted in, its period has passed and the version in use was trained here."""
    model = ops.model
    if not ops.retrain_on_drift:
        return None
    last = ops.last_retrained_at
    if last is not None and now - last < timedelta(days=ops.retrain_every_days):
        return None
    version = ModelVersion.objects.filter(model=model, stage=Stage.PRODUCTION).first()
    params = training_params(model, version) if version is not None else None
    owner = model.asset.owner
    if params is None:
        if owner is not None:
            notify(
                [owner],
                kind=NotificationKind.MODEL_MONITORING,
                asset=model.asset,
                url=model.get_absolute_url(),
                title=f"{model.asset.name} cannot retrain itself",
                body="Its version in use was not trained by the portal, so there is no training run to repeat.",
            )
        return None  # fmt: skip
    if ModelOps.objects.filter(pk=ops.pk, last_retrained_at=last).update(last_retrained_at=now) != 1:
        return None  # another monitoring run claimed this period
    ops.last_retrained_at = now
    params["reason"] = reason[:500]
    return JobRun.enqueue(JobKind.RETRAINING, asset=model.asset, requested_by=owner, params=params)


def retrain(run):
    """The job: the training job's own handler, then the new version into validation and the owner told."""
    from registry.training import train

    result = train(run)
    version = ModelVersion.objects.select_related("model__asset").get(
        model__asset__slug=run.params["model"], version=result["version"]
    )
    try:
        reason = "Retrained on drift: " + run.params.get("reason", "")
        version.change_stage(Stage.STAGING, run.requested_by, reason=reason)
    except ValidationError as exc:  # a stage rule changed under us: the version stays registered, under development
        raise JobFailed(f"v{version.version} was trained but could not be put in validation: {exc}") from None
    model = version.model
    if model.asset.owner is not None:
        notify(
            [model.asset.owner],
            kind=NotificationKind.MODEL_MONITORING,
            asset=model.asset,
            url=version.get_absolute_url(),
            title=f"{model.asset.name} v{version.version} was retrained on drift",
            body="It is in validation with its metrics and thresholds; it goes into use only through a promotion.",
        )
    return {**result, "stage": Stage.STAGING}  # fmt: skip
