"""Which events are problems worth telling downstream, and when they end (see ``trust.downstream``).

A deprecation is not among them: it tells everyone downstream itself, one message per person with the reason, the
replacement, what is affected and what to do (``Deprecation._tell``); the fan-out would say it twice.

Connected by ``TrustConfig.ready`` beside the badge receivers: issues filed and closed, freshness moving,
a breaking schema change, a failing quality check, a badge dropping a level for a reason of its own.
"""

from django.urls import reverse

from catalog import events as catalog_events
from catalog.models import Asset
from mlops import events as mlops_events
from mlops.choices import MonitoringStatus
from monitoring import events as monitoring_events
from monitoring.choices import FreshnessStatus
from quality import events as quality_events
from quality.models import QualityCheck
from trust import events as trust_events
from trust.choices import IssueSeverity, TrustLevel
from trust.dependencies import breaking_change_audience, column_audience, consumers_of_each, tell_consumers
from trust.downstream import problem_announced, problem_cleared, problem_started
from trust.models import DataIssue
from trust.rules import SEVERITY

# Rules whose verdicts travel along lineage have causes of their own (an issue, freshness, a deprecation) told
# downstream already: a badge drop is news only when it comes from the other rules.
TRAVELLING_RULES = {"issues", "freshness", "lifecycle", "maintenance", "quality"}
PROBLEM_LEVELS = (TrustLevel.CAUTION, TrustLevel.DO_NOT_USE)


def issue_changed(sender, issue, old_status, **kwargs):
    if issue.severity not in DataIssue.SERIOUS:
        return
    was_open = old_status in DataIssue.OPEN_STATES
    if issue.is_open and not was_open:
        problem_started(
            issue.asset, "issue", issue.uuid, f"{issue.severity} issue '{issue.title}'",
            url=issue.get_absolute_url(), critical=issue.severity == IssueSeverity.CRITICAL,
        )  # fmt: skip
    elif was_open and not issue.is_open:
        problem_cleared(issue.asset, "issue", issue.uuid)


def freshness_changed(sender, moved, **kwargs):
    for policy in moved:
        if policy.paused:
            continue
        status = policy.announced_status
        if status in (FreshnessStatus.LATE, FreshnessStatus.STALE):
            problem_started(
                policy.asset_id, "freshness", policy.pk,
                f"{policy.asset.name} is {FreshnessStatus(status).label.lower()}",
                url=policy.get_absolute_url(), critical=status == FreshnessStatus.STALE,
            )  # fmt: skip
        elif status == FreshnessStatus.UNKNOWN and policy.is_probed and policy.probe_error:
            problem_started(
                policy.asset_id, "freshness", policy.pk, f"the freshness check of {policy.asset.name} is failing",
                url=policy.get_absolute_url(),
            )  # fmt: skip
        elif status == FreshnessStatus.FRESH:
            problem_cleared(policy.asset_id, "freshness", policy.pk)


def schema_changed(sender, change, consumers=None, **kwargs):
    # Added columns break nobody; removed or retyped ones may break what reads them. Who is affected is decided
    # once, with the catalog's own notice (``trust.dependencies.breaking_change_audience``).
    if not (change.removed or change.type_changed):
        return
    audience = breaking_change_audience(change, consumers)
    asset = audience.dataset
    summary = f"breaking schema change on {asset.name}: {change.summary}"
    spared = sorted(audience.spared)
    if audience.readers is None:
        problem_announced(asset, "schema", change.pk, summary, url=asset.get_absolute_url(), spared=spared)
        return
    # Column lineage is known: only what reads a removed or retyped column is affected. Its own people were told by
    # the scan; the fan-out starts from each such reader, so the people further down hear of it with the path.
    readers = audience.readers
    for reader in Asset.objects.filter(pk__in=audience.starts()).order_by("name"):
        problem_announced(
            reader, "schema", f"{change.pk}:{reader.pk}",
            f"{summary} (read by {reader.name}: {', '.join(readers[reader.pk])})", url=asset.get_absolute_url(),
            spared=spared,
        )  # fmt: skip


def _checks(check_ids):
    return QualityCheck.objects.filter(pk__in=check_ids).select_related("asset").order_by("pk")


def _check_audiences(checks):
    """``{check id: BreakingChange}`` for the checks on one column: who a failing check concerns, decided as for a
    column a schema change removes (``trust.dependencies.column_audience``): the declared consumers of that column
    are told first, those of other columns only are spared. Which assets it reaches (the column's readers) is the
    fan-out's to work out (``trust.downstream.column_reach``). The declared dependencies of all the checks' datasets
    are read in one query: a dbt import announces hundreds of failing tests at once."""
    on_columns = [check for check in checks if check.column]
    if not on_columns:
        return {}
    by_dataset = consumers_of_each({check.asset_id for check in on_columns})
    return {
        check.pk: column_audience(check.asset, [check.column], None, dependencies=by_dataset[check.asset_id])
        for check in on_columns
    }


def _check_words(check):
    column = f" on column {check.column}" if check.column else ""
    summary = f"failing check '{check.name}'{column} of {check.asset.name}"
    return summary, reverse("quality:dataset", args=[check.asset.slug])


def check_failed(sender, check_ids, **kwargs):
    checks = list(_checks(check_ids))
    audiences = _check_audiences(checks)
    for check in checks:
        summary, url = _check_words(check)
        audience = audiences.get(check.pk)
        if audience is not None and audience.reached:
            tell_consumers(
                check.asset, title=f"Failing check on {check.asset.name}: {check.name}",
                body=f"The check '{check.name}' on column {check.column} of {check.asset.name} fails.", url=url,
                columns=audience.breaking, dependencies=audience.reached,
            )  # fmt: skip
        problem_started(
            check.asset, "quality", check.pk, summary, url=url, critical=check.severity == "error",
            spared=audience.spared if audience is not None else (), columns=[check.column] if check.column else (),
        )  # fmt: skip


def check_recovered(sender, check_ids, **kwargs):
    checks = list(_checks(check_ids))
    audiences = _check_audiences(checks)
    for check in checks:
        # The all-clear goes to whom the failure was told: the problem keeps its columns and who was spared.
        problem_cleared(check.asset, "quality", check.pk)
        audience = audiences.get(check.pk)
        if audience is not None and audience.reached:
            _, url = _check_words(check)
            tell_consumers(
                check.asset, title=f"Check passes again on {check.asset.name}: {check.name}",
                body=f"The check '{check.name}' on column {check.column} of {check.asset.name} passes again.",
                url=url, columns=audience.breaking, dependencies=audience.reached,
            )  # fmt: skip


def _own_level(verdicts):
    levels = {verdict["level"] for verdict in verdicts if verdict["rule"] not in TRAVELLING_RULES}
    return next((level for level in SEVERITY if level in levels), TrustLevel.TRUSTED)


def badge_levels_changed(sender, changes, **kwargs):
    for asset_id, _old, _new, old_verdicts, new_verdicts in changes:
        if not old_verdicts:
            continue  # a first computation is no drop
        before, after = _own_level(old_verdicts), _own_level(new_verdicts)
        if before == after:
            continue
        if after in PROBLEM_LEVELS and SEVERITY.index(after) < SEVERITY.index(before):
            reasons = "; ".join(
                verdict["reason"]
                for verdict in new_verdicts
                if verdict["level"] == after and verdict["rule"] not in TRAVELLING_RULES
            )
            problem_started(asset_id, "badge", "level", f"badge dropped to “{TrustLevel(after).label}”: {reasons}")
        elif after not in PROBLEM_LEVELS:
            problem_cleared(asset_id, "badge", "level")


def model_monitoring_changed(sender, model_id, old, new, reason="", **kwargs):
    # A drifting or degraded model in use is a problem for what is built on its predictions; healthy again clears it.
    if new in (MonitoringStatus.DRIFTING, MonitoringStatus.DEGRADED):
        model = Asset.objects.get(pk=model_id)
        label = MonitoringStatus(new).label.lower()
        problem_started(
            model, "model_monitoring", new, f"{model.name} is {label}" + (f": {reason}" if reason else ""),
            url=reverse("mlops:monitoring", args=[model.slug]), critical=new == MonitoringStatus.DEGRADED,
        )  # fmt: skip
    for status in (MonitoringStatus.DRIFTING, MonitoringStatus.DEGRADED):
        if status != new:
            problem_cleared(model_id, "model_monitoring", status)


RECEIVERS = [
    (mlops_events.monitoring_changed, model_monitoring_changed),
    (trust_events.issue_changed, issue_changed),
    (trust_events.badge_levels_changed, badge_levels_changed),
    (monitoring_events.freshness_changed, freshness_changed),
    (catalog_events.schema_changed, schema_changed),
    (quality_events.check_failed, check_failed),
    (quality_events.check_recovered, check_recovered),
]


def connect():
    for signal, receiver in RECEIVERS:
        signal.connect(receiver, dispatch_uid=f"trust-downstream-{receiver.__name__}")
