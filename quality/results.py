"""The one writer of quality checks and their results: dbt imports, OpenLineage assertions and Great Expectations
validations all come through ``record``, so every way in keeps ``last_status`` true and announces the same events
(``quality.events``): a check that starts failing, one that recovers, checks that appear or go.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from quality import events
from quality.choices import FAILING, Severity
from quality.models import CheckResult, QualityCheck

DECLARED_FIELDS = ["name", "column", "check_type", "severity", "sql", "external_id", "gone"]


@dataclass
class Observation:
    """A check as a tool declares it and, when ``status`` is set, the result of one of its runs."""

    asset_id: int
    key: str
    name: str
    column: str = ""
    check_type: str = ""
    severity: str = Severity.ERROR
    sql: str = ""
    external_id: str = ""
    run_key: str = ""
    status: str = ""
    failures: int | None = None
    message: str = ""
    executed_at: datetime | None = None
    seconds: float | None = None


def _declare(observations, origin):
    """``{(asset id, key): QualityCheck}``, creating the checks not known yet and updating what changed."""
    keys = {(item.asset_id, item.key[:300]) for item in observations}
    asset_ids = {asset_id for asset_id, _ in keys}
    checks = {
        (check.asset_id, check.key): check
        for check in QualityCheck.objects.filter(asset_id__in=asset_ids, key__in={key for _, key in keys})
    }
    created, changed = [], {}
    for item in observations:
        key = (item.asset_id, item.key[:300])
        wanted = {
            "name": item.name[:300],
            "column": item.column[:200],
            "check_type": item.check_type[:100],
            "severity": item.severity if item.severity in Severity.values else Severity.ERROR,
            "sql": item.sql,
            "external_id": item.external_id[:300],
            "gone": False,
        }
        check = checks.get(key)
        if check is None:
            check = QualityCheck(asset_id=item.asset_id, key=key[1], origin=origin, **wanted)
            checks[key] = check
            created.append(check)
            continue
        # A tool that reports less (an assertion has no SQL) does not erase what another one said.
        wanted = {field: value for field, value in wanted.items() if value or field == "gone"}
        if any(getattr(check, field) != value for field, value in wanted.items()):
            for field, value in wanted.items():
                setattr(check, field, value)
            changed[check.pk] = check
    QualityCheck.objects.bulk_create(created)
    if changed:
        QualityCheck.objects.bulk_update(list(changed.values()), DECLARED_FIELDS)
    touched = {check.asset_id for check in created} | {check.asset_id for check in changed.values()}
    return checks, touched


def record(observations, *, origin):
    """Declare the observed checks and store their results (a result already stored for a run is kept as it
    was). Returns ``{"checks": n, "results": n, "failing": [check ids], "recovered": [check ids]}``."""
    observations = list(observations)
    if not observations:
        return {"checks": 0, "results": 0, "failing": [], "recovered": []}
    with transaction.atomic():
        checks, touched = _declare(observations, origin)
        results = [
            CheckResult(
                quality_check=checks[item.asset_id, item.key[:300]],
                run_key=item.run_key[:200],
                status=item.status,
                failures=item.failures,
                message=item.message[:2000],
                executed_at=item.executed_at,
                execution_seconds=item.seconds,
                origin=origin,
            )
            for item in observations
            if item.status and item.executed_at is not None
        ]
        CheckResult.objects.bulk_create(results, ignore_conflicts=True)
        failing, recovered, moved = _move_latest(results)
        if touched or moved:
            events.checks_changed.send(sender=QualityCheck, asset_ids=sorted(touched | moved))
        _announce(events.check_failed, failing)
        _announce(events.check_recovered, recovered)
    return {
        "checks": len({check.pk for check in checks.values()}),
        "results": len(results),
        "failing": [check.pk for check in failing],
        "recovered": [check.pk for check in recovered],
    }


def _announce(signal, checks):
    if checks:
        signal.send(
            sender=QualityCheck,
            asset_ids=sorted({check.asset_id for check in checks}),
            check_ids=sorted(check.pk for check in checks),
        )


def _move_latest(results):
    """Make each check's ``last_*`` its newest result; the checks that started failing, those that recovered, and
    the assets whose checks' status moved."""
    newest = {}
    for result in results:
        check = result.quality_check
        if check.last_run_at is not None and result.executed_at <= check.last_run_at:
            continue
        if check.pk not in newest or result.executed_at > newest[check.pk].executed_at:
            newest[check.pk] = result
    failing, recovered, moved, updated = [], [], set(), []
    for result in newest.values():
        check = result.quality_check
        was_failing = check.last_status in FAILING
        before = check.last_status
        check.last_status, check.last_failures, check.last_run_at = result.status, result.failures, result.executed_at
        updated.append(check)
        now_failing = result.status in FAILING
        if now_failing and not was_failing:
            failing.append(check)
        elif was_failing and not now_failing:
            recovered.append(check)
        if before != result.status:
            moved.add(check.asset_id)
    if updated:
        QualityCheck.objects.bulk_update(updated, ["last_status", "last_failures", "last_run_at"])
    return failing, recovered, moved


def mark_gone(checks):
    """Mark checks as gone from their tool (kept with their history, no longer counted by the badge)."""
    checks = [check for check in checks if not check.gone]
    if not checks:
        return 0
    with transaction.atomic():
        QualityCheck.objects.filter(pk__in=[check.pk for check in checks]).update(gone=True)
        events.checks_changed.send(sender=QualityCheck, asset_ids=sorted({check.asset_id for check in checks}))
    return len(checks)
