"""The drift rule: is a pipeline run's duration or output volume far outside its recent history?

"Far" is more than ``THRESHOLD`` median absolute deviations from the median of the last ``HISTORY`` finished runs.
Median and MAD, not mean and standard deviation, so that one earlier outlier does not hide the next one.
"""

from statistics import median

from django.db import IntegrityError, transaction

from catalog.choices import RunState
from catalog.models import PipelineRun
from core.choices import NotificationKind
from core.notifications import raise_alert
from monitoring.choices import DriftMeasure
from monitoring.maintenance import silenced
from monitoring.models import DriftFinding

HISTORY = 20
MIN_HISTORY = 5
THRESHOLD = 3.0
# With a perfectly regular history the MAD is 0 and any change would be "infinitely" far; a 5 % floor keeps a
# run of 61 s after twenty runs of 60 s from raising an alert.
MAD_FLOOR = 0.05


def _measures(run):
    return {DriftMeasure.DURATION: run.duration_seconds, DriftMeasure.OUTPUT_ROWS: run.output_rows}


def assess(value, history):
    """``(is_drift, median, mad)`` of ``value`` against ``history`` (a list of numbers, newest first)."""
    middle = median(history)
    mad = median(abs(item - middle) for item in history)
    scale = max(mad, abs(middle) * MAD_FLOOR)
    return abs(value - middle) > THRESHOLD * scale if scale else value != middle, middle, mad


def check_run(pipeline_run):
    """Compare a finished run with the pipeline's previous runs; record and announce what drifted.

    Safe to call twice for one run (a heartbeat and an OpenLineage event for the same run): the findings are unique
    per run and measure, and only newly found drift is announced. Returns the new findings.
    """
    if pipeline_run.state != RunState.COMPLETE or pipeline_run.ended_at is None:
        return []
    previous = list(
        PipelineRun.objects.filter(pipeline_id=pipeline_run.pipeline_id, state=RunState.COMPLETE)
        .exclude(pk=pipeline_run.pk)
        .filter(ended_at__lt=pipeline_run.ended_at)
        .order_by("-ended_at")[:HISTORY]
    )
    findings = []
    for measure, value in _measures(pipeline_run).items():
        history = [item for item in (_measures(run)[measure] for run in previous) if item is not None]
        if value is None or len(history) < MIN_HISTORY:
            continue
        drifted, middle, mad = assess(value, history)
        if not drifted:
            continue
        try:
            with transaction.atomic():
                findings.append(
                    DriftFinding.objects.create(
                        pipeline_run=pipeline_run,
                        measure=measure,
                        value=value,
                        median=middle,
                        mad=mad,
                        history_size=len(history),
                    )
                )
        except IntegrityError:
            continue
    if findings:
        _announce(pipeline_run, findings)
    return findings


def _describe(finding):
    recent = f"the last {finding.history_size} runs"
    if finding.measure == DriftMeasure.DURATION:
        return f"took {finding.value:,.0f} s where {recent} took {finding.median:,.0f} s (median)"
    return f"wrote {finding.value:,.0f} rows where {recent} wrote {finding.median:,.0f} (median)"


def _announce(pipeline_run, findings):
    from django.urls import reverse

    pipeline = pipeline_run.pipeline
    asset = pipeline.asset
    if silenced(asset.pk):
        # In maintenance: the finding is kept, nobody is alerted.
        return None
    what = " and ".join(finding.get_measure_display().lower() for finding in findings)
    body = (
        f"Run {pipeline_run.run_id} "
        + "; it ".join(_describe(finding) for finding in findings)
        + f". That is more than {THRESHOLD:g} median absolute deviations from the median: check the pipeline's "
        "inputs and its processing."
    )
    return raise_alert(
        asset,
        kind=NotificationKind.DRIFT,
        title=f"{asset.name}: {what} drift in run {pipeline_run.run_id}",
        body=body,
        url=reverse("monitoring:pipeline_runs", kwargs={"slug": asset.slug}),
    )


def run_completed(sender, run, **kwargs):
    """Receiver of ``catalog.events.run_completed``."""
    check_run(run)
