"""Quality hears the catalog: data quality assertions arriving in OpenLineage events become check results, data
quality metrics the dataset's metrics of that run.
Connected by ``QualityConfig.ready``, in every process."""

from catalog import events as catalog_events
from quality import metrics as metrics_module
from quality import results
from quality.choices import CheckOrigin, CheckStatus, Severity


def _failures(value):
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def quality_reported(sender, dataset_id, run_id, at, assertions, **kwargs):
    observations = []
    for assertion in assertions:
        column = str(assertion.get("column") or "")
        kind = str(assertion["assertion"])
        severity = str(assertion.get("severity") or Severity.ERROR).lower()
        if assertion["success"]:
            status = CheckStatus.PASS
        else:
            status = CheckStatus.WARN if severity == Severity.WARN else CheckStatus.FAIL
        observations.append(
            results.Observation(
                asset_id=dataset_id,
                key=str(assertion.get("name") or (f"{kind}:{column}" if column else kind)),
                name=str(assertion.get("name") or kind),
                column=column,
                check_type=kind,
                severity=severity,
                run_key=run_id,
                status=status,
                failures=_failures(assertion.get("actual")),
                executed_at=at,
            )
        )
    results.record(observations, origin=CheckOrigin.OPENLINEAGE)


def quality_measured(sender, dataset_id, run_id, at, metrics, **kwargs):
    metrics_module.record(dataset_id, run_id, at, metrics)


def connect():
    catalog_events.quality_reported.connect(quality_reported, dispatch_uid="quality-openlineage-assertions")
    catalog_events.quality_measured.connect(quality_measured, dispatch_uid="quality-openlineage-metrics")
