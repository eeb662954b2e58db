"""Soda scan results in: the JSON soda-core writes with ``soda scan ... -srf results.json`` (or
``Scan.get_scan_results()``), posted with the dataset it scanned to ``POST /api/v1/integrations/soda/``. Each SodaCL
check becomes a check on the dataset (and its column), each scan one result per check, as Great Expectations'
validations do.
"""

from datetime import datetime

from django.utils import timezone

from quality import results
from quality.choices import CheckOrigin, CheckStatus, Severity

OUTCOMES = {"pass": CheckStatus.PASS, "warn": CheckStatus.WARN, "fail": CheckStatus.FAIL, None: CheckStatus.ERROR}
# The metrics whose value is the number of rows that break the check.
FAILING_ROW_METRICS = ("missing_count", "invalid_count", "duplicate_count", "failed rows")


class MalformedScan(ValueError):
    """The body is not a Soda scan result, or names another table; the message says which part. Nothing was
    recorded."""


def _moment(scan):
    value = scan.get("scanEndTimestamp") or scan.get("dataTimestamp") or scan.get("scanStartTimestamp")
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else timezone.now()
    except ValueError:
        raise MalformedScan("scanEndTimestamp must be an ISO 8601 date and time.") from None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, timezone.utc)


def _severity(definition):
    """A check with a ``warn:`` threshold and no ``fail:`` one only ever warns."""
    return Severity.WARN if "warn:" in definition and "fail:" not in definition else Severity.ERROR


def _failures(name, diagnostics):
    value = diagnostics.get("value") if isinstance(diagnostics, dict) else None
    if not name.startswith(FAILING_ROW_METRICS) or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _observation(asset, run_key, moment, index, check):
    where = f"checks[{index}]"
    if not isinstance(check, dict) or not isinstance(check.get("name"), str) or not check["name"].strip():
        raise MalformedScan(f"{where} must be an object with a name.")
    if check.get("outcome") not in OUTCOMES:
        raise MalformedScan(f"{where}.outcome must be pass, warn, fail or null, not {check.get('outcome')!r}.")
    table = str(check.get("table") or "")
    if table and table.lower() not in (asset.name.lower(), asset.dataset.qualified_name.rsplit(".", 1)[-1].lower()):
        raise MalformedScan(
            f"{where} checks table {table}, not {asset.name}: send each table's checks with its dataset."
        )
    name = check["name"].strip()
    column = str(check.get("column") or "")
    definition = str(check.get("definition") or "")
    outcome = OUTCOMES[check.get("outcome")]
    return results.Observation(
        asset_id=asset.pk,
        key=f"soda:{name}",
        name=name,
        column=column,
        check_type=name.split("(", 1)[0].split(" ", 1)[0].strip()[:100],
        severity=_severity(definition),
        sql=definition,
        external_id=str(check.get("identity") or "")[:300],
        run_key=run_key,
        status=outcome,
        failures=_failures(name, check.get("diagnostics")),
        message="; ".join(str(reason) for reason in check.get("outcomeReasons") or [] if reason)
        if isinstance(check.get("outcomeReasons"), list)
        else "",
        executed_at=moment,
    )


def record_scan(asset, scan):
    """Record one Soda scan result on ``asset`` (a dataset); returns what ``results.record`` returns."""
    if not isinstance(scan, dict) or not isinstance(scan.get("checks"), list):
        raise MalformedScan("The result must be a Soda scan result with 'checks' (soda scan ... -srf results.json).")
    moment = _moment(scan)
    run_key = f"{scan.get('definitionName') or 'soda'}:{scan.get('scanStartTimestamp') or moment.isoformat()}"
    observations = [
        _observation(asset, run_key[:200], moment, index, check) for index, check in enumerate(scan["checks"])
    ]
    if not observations:
        raise MalformedScan("The scan result has no checks: nothing to record.")
    return results.record(observations, origin=CheckOrigin.SODA)
