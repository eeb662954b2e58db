"""The validation metrics, computed on live rows once their outcomes are known (the same names as training's)."""

import math

CLASSIFICATION_METRICS = ["accuracy", "precision", "recall", "f1", "roc_auc"]
REGRESSION_METRICS = ["mae", "rmse", "r2"]
LOWER_IS_BETTER = {"mae", "rmse"}


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def infer_task(predictions, profile=None):
    if profile and profile.get("task"):
        return profile["task"]
    numbers = [value for value in predictions if _is_number(value)]
    if numbers and len(numbers) == len(predictions) and len({*numbers}) > 10:
        return "regression"
    return "classification"


def live_metrics(task, truths, predictions, scores=None):
    """``{metric: value}`` of predictions against true values; NaN-free."""
    from sklearn import metrics as m

    if not truths:
        return {}
    if task == "regression":
        y, p = [float(v) for v in truths], [float(v) for v in predictions]
        result = {"mae": m.mean_absolute_error(y, p), "rmse": math.sqrt(m.mean_squared_error(y, p))}
        if len(y) > 1:
            result["r2"] = m.r2_score(y, p)
    else:
        y, p = [str(v) for v in truths], [str(v) for v in predictions]
        labels = sorted(set(y) | set(p))
        binary = len(labels) <= 2
        options = {"average": "binary" if binary else "weighted", "zero_division": 0}
        if binary:
            options["pos_label"] = labels[-1]
        result = {
            "accuracy": m.accuracy_score(y, p),
            "precision": m.precision_score(y, p, **options),
            "recall": m.recall_score(y, p, **options),
            "f1": m.f1_score(y, p, **options),
        }
        if binary and scores is not None and None not in scores and len(set(y)) == 2:
            result["roc_auc"] = m.roc_auc_score([v == labels[-1] for v in y], scores)
    return {name: float(value) for name, value in result.items() if math.isfinite(value)}
