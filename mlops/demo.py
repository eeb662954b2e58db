"""The demo's models after go-live: the churn model in use with 30 days of logged predictions (drift in
days_since_last_order from day 20), outcomes for most rows, the freshly trained version as a challenger in shadow,
monitoring runs day by day (so the drift alert is open in the inbox), quality gates and a team webhook.

The version in use was written by the registry's demo without an artifact, so its predictions here are those of
the trained version with one label in eight flipped (an older, weaker model); the challenger's are the trained
version's own. Safe to run again: it does nothing once predictions exist.
"""

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core.jobs import JobFailed
from mlops.challenger import set_challenger
from mlops.ingest import log_outcomes, log_predictions
from mlops.models import DeliveryHook, ModelOps, Prediction
from mlops.monitoring import monitor_model
from registry.choices import Stage
from registry.models import ModelVersion, RegisteredModel

logger = logging.getLogger(__name__)
DAYS, PER_DAY, DRIFT_FROM, MONITORED_DAYS = 30, 200, 20, 14


def load(teams, users):
    model = RegisteredModel.objects.select_related("asset").filter(asset__slug="churn-predictor").first()
    if model is None:
        return
    champion = model.versions.filter(stage=Stage.PRODUCTION).first()
    trained = model.versions.exclude(reference_profile={}).order_by("-version").first()
    if champion is None or trained is None or Prediction.objects.filter(model=model).exists():
        return
    from mlops.scoring import load_model

    ModelVersion.objects.filter(pk=champion.pk).update(features=trained.features,
                                                       reference_profile=trained.reference_profile)  # fmt: skip
    champion.refresh_from_db()
    try:
        pipeline = load_model(trained)
    except JobFailed as exc:
        logger.warning("The MLOps demo is skipped: %s", exc)
        return
    start = timezone.now() - timedelta(days=DAYS)
    outcomes = _log_days(pipeline, champion, trained, start)
    log_outcomes(champion, outcomes)
    set_challenger(model, trained)
    ModelOps.objects.filter(model=model).update(psi_threshold=0.25)
    # One run per day for the last two weeks: the charts have a history and the drift alert is open.
    for day in range(DAYS - MONITORED_DAYS, DAYS):
        monitor_model(model, now=start + timedelta(days=day, hours=13))
    _tick_code_link(users)
    DeliveryHook.objects.get_or_create(team=model.asset.team, url="https://ci.example.com/hooks/portal",
                                       defaults={"created_by": users["carol"]})  # fmt: skip


def _log_days(pipeline, champion, trained, start):
    """Log ``DAYS`` days of predictions of both versions; returns the outcomes known so far."""
    import pandas as pd

    from mlops.scoring import predict

    frame = pd.read_csv(settings.DATA_ROOT / "ml" / "customer_churn.csv")
    rng = random.Random(19)
    outcomes = []
    for day in range(DAYS):
        rows = frame.sample(PER_DAY, replace=True, random_state=day).reset_index(drop=True)
        if day >= DRIFT_FROM:  # customers now order less often: recency drifts
            rows["days_since_last_order"] = rows["days_since_last_order"] * 3 + 60
        predictions, scores = predict(pipeline, rows, trained.features)
        moment = start + timedelta(days=day, hours=12)
        records = rows.to_dict("records")
        for version, flip in ((champion, 0.125), (trained, 0.0)):
            batch = [
                {"id": f"d{day}-{index}", "time": moment.isoformat(),
                 "features": {name: row[name] for name in trained.features},
                 "prediction": 1 - int(predictions[index]) if rng.random() < flip else int(predictions[index]),
                 "score": float(scores[index])}
                for index, row in enumerate(records)
            ]  # fmt: skip
            log_predictions(version, batch)
        if day < DAYS - 3:  # outcomes come late: most rows have one, the last days' not yet
            outcomes += [{"id": f"d{day}-{i}", "value": int(v)} for i, v in enumerate(rows["churned"]) if i % 5]
    return outcomes


def _tick_code_link(users):
    """The lifetime-value model's code is in version control: maturity level 2 in the demo's range of 1 to 4."""
    from registry.choices import ChecklistItem

    version = ModelVersion.objects.filter(model__asset__slug="lifetime-value", stage=Stage.PRODUCTION).first()
    if version is not None:
        version.tick(ChecklistItem.VERSION_CONTROL, users["frank"], link="https://git.example.com/marketing/ltv")
