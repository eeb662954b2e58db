"""Which events are problems worth telling downstream, and when they end (see ``trust.downstream``).

Connected by ``TrustConfig.ready`` beside the badge receivers: issues filed and closed, freshness moving, a
deprecation announced or withdrawn, a breaking schema change, a badge dropping a level for a reason of its own.
"""

from catalog import events as catalog_events
from monitoring import events as monitoring_events
from monitoring.choices import FreshnessStatus
from trust import events as trust_events
from trust.choices import IssueSeverity, TrustLevel
from trust.downstream import problem_announced, problem_cleared, problem_started
from trust.models import DataIssue
from trust.rules import SEVERITY

# Rules whose verdicts travel along lineage have causes of their own (an issue, freshness, a deprecation) told
# downstream already: a badge drop is news only when it comes from the other rules.
TRAVELLING_RULES = {"issues", "freshness", "lifecycle", "maintenance"}
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


def deprecation_changed(sender, deprecation, what, **kwargs):
    asset = deprecation.asset
    if what == "announced":
        problem_started(
            asset, "deprecation", deprecation.uuid,
            f"{asset.name} is deprecated and will be retired on {deprecation.sunset_date:%d %b %Y}",
            url=deprecation.get_absolute_url(),
        )  # fmt: skip
    elif what == "withdrawn":
        problem_cleared(asset, "deprecation", deprecation.uuid)
    elif what == "retired":
        problem_cleared(asset, "deprecation", deprecation.uuid)
        problem_announced(
            asset, "retired", deprecation.uuid, f"{asset.name} is retired", url=deprecation.get_absolute_url(),
            critical=True,
        )  # fmt: skip


def schema_changed(sender, change, **kwargs):
    # Added columns break nobody; removed or retyped ones may break what reads them.
    if not (change.removed or change.type_changed):
        return
    asset = change.dataset.asset
    problem_announced(
        asset, "schema", change.pk, f"breaking schema change on {asset.name}: {change.summary}",
        url=asset.get_absolute_url(),
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


RECEIVERS = [
    (trust_events.issue_changed, issue_changed),
    (trust_events.deprecation_changed, deprecation_changed),
    (trust_events.badge_levels_changed, badge_levels_changed),
    (monitoring_events.freshness_changed, freshness_changed),
    (catalog_events.schema_changed, schema_changed),
]


def connect():
    for signal, receiver in RECEIVERS:
        signal.connect(receiver, dispatch_uid=f"trust-downstream-{receiver.__name__}")
