"""The monitoring job: a model in use, its recent predictions against its training profile and its outcomes.

``monitor_model`` runs the checks over the last ``MLOPS_MONITORING_WINDOW_DAYS`` of the version in use, records a
``MonitoringRun`` with a ``MonitoringResult`` per check, and moves the model's status through ``set_status`` (a
compare-and-set), which alerts the owner, the team and watchers on each transition and sends
``mlops.events.monitoring_changed``. Beat queues a run per model in use (``schedule_all``).
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.choices import JobKind, JobState, NotificationKind
from core.models import JobRun
from core.notifications import raise_alert
from mlops.choices import CheckKind, CheckStatus, MonitoringStatus
from mlops.drift import drift_of
from mlops.events import send_monitoring_changed
from mlops.metrics import LOWER_IS_BETTER, infer_task, live_metrics
from mlops.models import ModelOps, MonitoringResult, MonitoringRun, Outcome, Prediction
from registry.choices import Stage
from registry.models import ModelVersion, RegisteredModel

MONITORING_STEPS = ["queued", "loading", "drift", "performance", "done"]
MIN_LABELLED_ROWS = 30


def ops_of(model):
    return ModelOps.objects.get_or_create(model=model)[0]


def current_ops(model):
    """The model's row, or an unsaved one with the defaults (pages that only read must not write)."""
    return ModelOps.objects.select_related("challenger", "prediction_table__asset").filter(
        model=model
    ).first() or ModelOps(model=model)


def in_use(model):
    return ModelVersion.objects.filter(model=model, stage=Stage.PRODUCTION).first()


def schedule_all():
    """A monitoring run for every model in use, unless one is already waiting or running."""
    busy = set(
        JobRun.objects.filter(kind=JobKind.MODEL_MONITORING, state__in=[JobState.QUEUED, JobState.RUNNING])
        .exclude(asset=None)
        .values_list("asset_id", flat=True)
    )
    runs = []
    models = RegisteredModel.objects.filter(versions__stage=Stage.PRODUCTION).select_related("asset").distinct()
    for model in models:
        if model.asset_id not in busy:
            with transaction.atomic():
                runs.append(JobRun.enqueue(JobKind.MODEL_MONITORING, asset=model.asset,
                                           params={"model": model.asset_id}))  # fmt: skip
    return runs


def read_prediction_table(ops, version, limit=100_000):
    """Log the rows the team's own scoring wrote to the model's prediction table since the last read, as the
    version in use's predictions; the cursor is the largest time read. Returns how many were logged."""
    from mlops.ingest import _records_from_frame, log_predictions
    from mlops.scoring import decimals_as_floats, open_table, read_rows

    dataset = ops.prediction_table
    since = ops.prediction_table_read_until
    with open_table(dataset) as table:
        column = "`time`" if table.name.startswith("`") else '"time"'
        where, parameters = (f" WHERE {column} > {table.marker}", [since]) if since else ("", [])
        sql = f"SELECT * FROM {table.name}{where} ORDER BY {column} LIMIT {int(limit)}"
        frame = decimals_as_floats(read_rows(table, sql, parameters))
    if frame.empty:
        return 0
    logged = 0
    rows = _records_from_frame(frame, "predictions")
    for start in range(0, len(rows), 5000):
        with transaction.atomic():
            logged += log_predictions(version, rows[start : start + 5000])[0]
    latest = str(frame["time"].max())
    ModelOps.objects.filter(pk=ops.pk).update(prediction_table_read_until=latest)
    ops.prediction_table_read_until = latest
    return logged


def _frame(rows):
    import pandas as pd

    return pd.DataFrame.from_records([row[1] for row in rows])


def monitor_model(model, now=None, report=None):
    """Run every check for the version in use; returns a summary. See the module docstring."""
    report = report or (lambda *args, **kwargs: True)
    now = now or timezone.now()
    ops = ops_of(model)
    version = in_use(model)
    window_start = now - timedelta(days=settings.MLOPS_MONITORING_WINDOW_DAYS)
    if version is None:
        set_status(ops, MonitoringStatus.NOT_MONITORED, "Not in use: no version is in production.", now)
        return {"status": MonitoringStatus.NOT_MONITORED, "rows": 0}
    report("loading", 10)
    if ops.prediction_table_id:
        read_prediction_table(ops, version)
    rows = list(
        Prediction.objects.filter(version=version, predicted_at__gte=window_start, predicted_at__lt=now)
        .values_list("prediction_id", "features", "prediction", "score")
        .order_by()
    )
    run = MonitoringRun(model=model, version=version, window_start=window_start, window_end=now, rows=len(rows))
    if not rows:
        ever = Prediction.objects.filter(version=version).exists()
        reason = (
            f"No predictions of v{version.version} logged since {window_start:%d %b %Y %H:%M}."
            if ever
            else f"v{version.version} is in use but no predictions are logged: nobody watches it."
        )
        run.status, run.reason = MonitoringStatus.NOT_MONITORED, reason
        run.save()
        set_status(ops, MonitoringStatus.NOT_MONITORED, reason, now)
        return {"status": run.status, "rows": 0, "reason": reason}
    profile = version.reference_profile or {}
    report("drift", 30)
    results = _drift_checks(ops, profile, rows)
    report("performance", 70)
    labelled = _labelled(model, rows, version, window_start, now)
    run.labelled_rows = len(labelled)
    results += _performance_checks(model, profile, rows, labelled)
    status, reason = _verdict(results, version, len(rows), profile)
    run.status, run.reason = status, reason
    with transaction.atomic():
        run.save()
        for result in results:
            result.run = run
        MonitoringResult.objects.bulk_create(results)
        set_status(ops, status, reason, now)
    report("done", 100)
    return {"status": status, "reason": reason, "rows": len(rows), "labelled_rows": len(labelled), "run": run.pk}


def _drift_checks(ops, profile, rows):
    import pandas as pd

    results = []
    features = _frame(rows)
    for name, column in (profile.get("features") or {}).items():
        series = features[name] if name in features else pd.Series([None] * len(rows))
        results += _feature_checks(ops, name, column, series)
    predictions = [row[2] for row in rows]
    scores = [row[3] for row in rows]
    has_scores = all(score is not None for score in scores)
    target = profile.get("score") if has_scores and profile.get("score") else profile.get("prediction")
    if target:
        value, p_value, _ = drift_of(target, pd.Series(scores if target is profile.get("score") else predictions))
        if value is not None:
            results.append(MonitoringResult(
                kind=CheckKind.PREDICTION_DRIFT, name="score" if target is profile.get("score") else "prediction",
                value=value, ks_p_value=p_value, threshold=ops.psi_threshold,
                status=CheckStatus.ALERT if value > ops.psi_threshold else CheckStatus.OK,
                detail=f"PSI {value:.3f}",
            ))  # fmt: skip
    return results


def _performance_checks(model, profile, rows, labelled):
    results = []
    predictions = [row[2] for row in rows]
    if len(labelled) >= MIN_LABELLED_ROWS:
        task = infer_task(predictions, profile)
        truths = [item[0] for item in labelled]
        scored = [item[2] for item in labelled]
        measured = live_metrics(task, truths, [item[1] for item in labelled], scored if None not in scored else None)
        limits = _performance_limits(model)
        for name, value in measured.items():
            limit = limits.get(name)
            below = limit is not None and (value > limit if name in LOWER_IS_BETTER else value < limit)
            results.append(MonitoringResult(kind=CheckKind.PERFORMANCE, name=name, value=value, threshold=limit,
                                            status=CheckStatus.ALERT if below else CheckStatus.OK,
                                            detail=f"on {len(labelled)} rows with outcomes"))  # fmt: skip
    return results


def _feature_checks(ops, name, column, series):
    results = []
    value, p_value, outside = drift_of(column, series)
    if value is not None:
        if value > ops.psi_threshold:
            status = CheckStatus.ALERT
        elif p_value is not None and p_value < ops.ks_p_value:
            status = CheckStatus.WARNING
        else:
            status = CheckStatus.OK
        detail = f"PSI {value:.3f}" + (f", KS p-value {p_value:.3g}" if p_value is not None else "")
        results.append(MonitoringResult(kind=CheckKind.FEATURE_DRIFT, name=name, value=value, ks_p_value=p_value,
                                        threshold=ops.psi_threshold, status=status, detail=detail))  # fmt: skip
    missing = float(series.isna().mean()) if len(series) else 0.0
    excess = missing - column.get("missing_rate", 0.0)
    results.append(MonitoringResult(
        kind=CheckKind.MISSING, name=name, value=missing, threshold=ops.missing_rate_limit,
        status=CheckStatus.ALERT if excess > ops.missing_rate_limit else CheckStatus.OK,
        detail=f"{missing:.1%} missing (training {column.get('missing_rate', 0.0):.1%})",
    ))  # fmt: skip
    if column["type"] == "numeric":
        results.append(MonitoringResult(
            kind=CheckKind.OUT_OF_RANGE, name=name, value=outside, threshold=ops.out_of_range_limit,
            status=CheckStatus.ALERT if outside > ops.out_of_range_limit else CheckStatus.OK,
            detail=f"{outside:.1%} outside the training range {column.get('min', 0):g} to {column.get('max', 0):g}",
        ))  # fmt: skip
    return results


def _labelled(model, rows, version, start, end):
    """``[(truth, prediction, score)]`` for the rows whose outcome is known (the window's ids as a subquery)."""
    by_id = {row[0]: row for row in rows}
    window = Prediction.objects.filter(version=version, predicted_at__gte=start, predicted_at__lt=end)
    outcomes = Outcome.objects.filter(model=model, prediction_id__in=window.values("prediction_id")).values_list(
        "prediction_id", "value"
    )
    return [(value, by_id[pid][2], by_id[pid][3]) for pid, value in outcomes.iterator(chunk_size=10000) if pid in by_id]


def _performance_limits(model):
    """The model's quality thresholds, per metric (the live check uses the same limits as the promotion gate)."""
    return {threshold.metric: threshold.value for threshold in model.quality_thresholds.all()}


def _verdict(results, version, rows, profile):
    alerts = [result for result in results if result.status == CheckStatus.ALERT]
    below = [result for result in alerts if result.kind == CheckKind.PERFORMANCE]
    if below:
        words = ", ".join(f"{r.name} {r.value:.3f} (threshold {r.threshold:g})" for r in below)
        return MonitoringStatus.DEGRADED, f"Performance below threshold on live rows: {words}."
    if alerts:
        words = ", ".join(f"{r.get_kind_display().lower()} on {r.name} ({r.detail})" for r in alerts[:5])
        return MonitoringStatus.DRIFTING, f"{len(alerts)} check{'s' * (len(alerts) > 1)} alerting: {words}."
    if not profile:
        return MonitoringStatus.HEALTHY, f"{rows} predictions checked; v{version.version} has no training profile."
    return MonitoringStatus.HEALTHY, f"{rows} predictions of v{version.version} checked: no drift, no alert."


def monitoring_url(model):
    return reverse("mlops:monitoring", kwargs={"slug": model.asset.slug})


def set_status(ops, status, reason, now):
    """Move the model's status (compare-and-set); on a transition, alert its people and announce it."""
    old = ops.status
    updated = ModelOps.objects.filter(pk=ops.pk, status=old).update(
        **({"status": status, "status_since": now} if status != old else {}), status_reason=reason, last_run_at=now
    )
    ops.status_reason, ops.last_run_at = reason, now
    if updated != 1 or status == old:
        return False
    ops.status, ops.status_since = status, now
    model = ops.model
    if not (old == MonitoringStatus.NOT_MONITORED and status == MonitoringStatus.HEALTHY):
        label = MonitoringStatus(status).label.lower()
        raise_alert(model.asset, kind=NotificationKind.MODEL_MONITORING, title=f"{model.asset.name} is {label}",
                    body=reason, url=monitoring_url(model))  # fmt: skip
    send_monitoring_changed(model.pk, old, status, reason)
    if status in (MonitoringStatus.DRIFTING, MonitoringStatus.DEGRADED) and ops.retrain_on_drift:
        from mlops.retraining import maybe_retrain

        maybe_retrain(ops, now, reason)
    return True
