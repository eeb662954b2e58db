"""Champion and challenger: the challenger scores the same rows in shadow; once outcomes arrive, both are compared
on the same live rows, with the difference and its uncertainty."""

import math
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction

from mlops.metrics import infer_task, live_metrics
from mlops.models import ModelOps, Outcome, Prediction
from registry.choices import Stage


def set_challenger(model, version):
    """Make ``version`` (not the one in use) the model's challenger; None clears it."""
    if version is not None:
        if version.model_id != model.pk:
            raise ValidationError("This version belongs to another model.")
        if version.stage in (Stage.PRODUCTION, Stage.ARCHIVED):
            raise ValidationError(f"v{version.version} is {version.get_stage_display().lower()}; a challenger is a "
                                  "version under development or in validation.")  # fmt: skip
    with transaction.atomic():
        ops, _ = ModelOps.objects.get_or_create(model=model)
        ops.challenger = version
        ops.save(update_fields=["challenger"])
    return ops


def compare(model, champion, challenger):
    """Both versions on the live rows both scored and whose outcomes are known:
    ``{"rows", "task", "champion": metrics, "challenger": metrics, "difference": {metric, value, low, high},
    "daily": [(day, champion value, challenger value)]}``; ``rows`` 0 when there are none yet."""
    shared = Prediction.objects.filter(version=challenger).values("prediction_id")
    pairs = defaultdict(dict)
    for version_id, pid, prediction, score, day in (
        Prediction.objects.filter(version__in=[champion, challenger], prediction_id__in=shared)
        .values_list("version_id", "prediction_id", "prediction", "score", "predicted_at")
        .iterator(chunk_size=10000)
    ):
        pairs[pid][version_id] = (prediction, score, day.date())
    truths = dict(Outcome.objects.filter(model=model, prediction_id__in=shared).values_list("prediction_id", "value"))
    rows = [(truths[pid], both[champion.pk], both[challenger.pk]) for pid, both in pairs.items()
            if pid in truths and len(both) == 2]  # fmt: skip
    if not rows:
        return {"rows": 0}
    task = infer_task([row[1][0] for row in rows], champion.reference_profile)

    def metrics_of(index):
        scores = [row[index][1] for row in rows]
        return live_metrics(task, [row[0] for row in rows], [row[index][0] for row in rows],
                            None if None in scores else scores)  # fmt: skip

    if task == "regression":
        name = "mae (lower is better)"
        losses = [(abs(float(t) - float(a[0])), abs(float(t) - float(b[0]))) for t, a, b in rows]
        differences = [champ - chall for champ, chall in losses]  # positive: the challenger errs less
    else:
        name = "accuracy"
        differences = [(str(b[0]) == str(t)) - (str(a[0]) == str(t)) for t, a, b in rows]
    mean = sum(differences) / len(differences)
    spread = math.sqrt(sum((d - mean) ** 2 for d in differences) / max(len(differences) - 1, 1))
    margin = 1.96 * spread / math.sqrt(len(differences))
    daily = defaultdict(lambda: [0, 0, 0])
    for t, a, b in rows:
        day = daily[a[2]]
        day[0] += 1
        if task == "regression":
            day[1] += abs(float(t) - float(a[0]))
            day[2] += abs(float(t) - float(b[0]))
        else:
            day[1] += str(a[0]) == str(t)
            day[2] += str(b[0]) == str(t)
    return {
        "rows": len(rows),
        "task": task,
        "champion": metrics_of(1),
        "challenger": metrics_of(2),
        "difference": {"metric": name, "value": mean, "low": mean - margin, "high": mean + margin,
                       "better": "challenger" if mean - margin > 0 else "champion" if mean + margin < 0 else None},
        "daily": [(day.isoformat(), champ / n, chall / n) for day, (n, champ, chall) in sorted(daily.items())],
    }  # fmt: skip
