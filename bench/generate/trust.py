"""Trust: data issues with their history, and the review reminders already sent."""

from datetime import timedelta

import numpy as np
from django.conf import settings

from bench.generate.catalog import COLUMN_NAMES
from bench.generate.shape import DOMAIN_SIZE, HUB_DOMAINS
from bench.generate.writer import draw, uuids
from catalog.choices import Lifecycle
from trust.choices import IssueCategory, IssueSeverity, IssueStatus, ReviewNoticeKind
from trust.models import DataIssue, IssueEvent, ReviewNotice

# (category, title, description); {column} and {day} are filled per issue.
ISSUE_TEXTS = [
    (IssueCategory.WRONG_VALUES, "Negative values in {column}",
     "Since the last load some rows have a negative {column}; every value should be positive."),
    (IssueCategory.MISSING_DATA, "Rows missing for {day}",
     "There are far fewer rows for {day} than for the days around it."),
    (IssueCategory.LATE_DATA, "Not updated since {day}",
     "Nothing arrived after {day}; the reports built on it show old numbers."),
    (IssueCategory.SCHEMA_CHANGE, "Column {column} disappeared",
     "A load dropped {column}; queries that use it fail."),
    (IssueCategory.ACCESS, "Permission denied for the analysts' role",
     "Analysts cannot read it any more: permission denied since {day}."),
    (IssueCategory.WRONG_VALUES, "Totals do not match the finance report",
     "The monthly totals differ from the finance report by about 3 %."),
    (IssueCategory.MISSING_DATA, "Duplicate rows since {day}",
     "Some rows appear twice since {day}; counts are inflated."),
    (IssueCategory.OTHER, "Description is out of date",
     "The description still names the old source system."),
]  # fmt: skip
ISSUE_STATUS_MIX = {IssueStatus.RESOLVED: 0.62, IssueStatus.WONT_FIX: 0.08, IssueStatus.DUPLICATE: 0.05,
                    IssueStatus.OPEN: 0.10, IssueStatus.ACKNOWLEDGED: 0.07, IssueStatus.IN_PROGRESS: 0.08}  # fmt: skip
ISSUE_SEVERITY_MIX = {IssueSeverity.CRITICAL: 0.08, IssueSeverity.MAJOR: 0.30, IssueSeverity.MINOR: 0.62}
# Where issues are filed: (asset kind, share).
ISSUE_KINDS = [("datasets", 0.75), ("reports", 0.15), ("pipelines", 0.05), ("models", 0.05)]
# Serious issues still open, which change badges, sit on a few upstream tables only: a critical one in this share
# of the domains, a major one in another share, and a major one on the smallest hub; some reports have their own.
CRITICAL_DOMAIN_SHARE, MAJOR_DOMAIN_SHARE, SERIOUS_REPORT_SHARE = 0.03, 0.05, 0.01
UPSTREAM_POSITIONS = (len(HUB_DOMAINS), DOMAIN_SIZE // 5)


def _serious_open_issues(gen, rng):
    """``[(asset id, severity)]`` for the open critical and major issues; every other open issue is minor."""
    datasets = gen.counts["datasets"]
    domains = max(1, datasets // DOMAIN_SIZE)
    critical = max(1, round(domains * CRITICAL_DOMAIN_SHARE))
    major = max(1, round(domains * MAJOR_DOMAIN_SHARE))
    chosen = rng.choice(domains, min(domains, critical + major), replace=False)
    positions = rng.integers(*UPSTREAM_POSITIONS, len(chosen))
    tables = np.minimum(chosen * DOMAIN_SIZE + positions, datasets - 1)
    serious = [(gen.ids["datasets"] + int(table), IssueSeverity.CRITICAL if n < critical else IssueSeverity.MAJOR)
               for n, table in enumerate(tables.tolist())]  # fmt: skip
    smallest_hub = min(len(HUB_DOMAINS), datasets) - 1
    serious.append((gen.ids["datasets"] + smallest_hub, IssueSeverity.MAJOR))
    reports = rng.choice(gen.counts["reports"], max(1, round(gen.counts["reports"] * SERIOUS_REPORT_SHARE)), False)
    serious += [(gen.ids["reports"] + int(n), IssueSeverity.MAJOR) for n in np.sort(reports).tolist()]
    return serious


def _issue_targets(gen, rng):
    """``(assets, severities, statuses)``, one per issue: the serious open ones placed on purpose, the rest drawn."""
    serious = _serious_open_issues(gen, rng)
    bulk = max(0, gen.counts["issues"] - len(serious))
    kinds = rng.choice(len(ISSUE_KINDS), bulk, p=[share for _, share in ISSUE_KINDS])
    assets = [gen.ids[ISSUE_KINDS[k][0]] + int(rng.integers(0, gen.counts[ISSUE_KINDS[k][0]])) for k in kinds]
    severities = draw(rng, ISSUE_SEVERITY_MIX, bulk)
    statuses = draw(rng, ISSUE_STATUS_MIX, bulk)
    # Bulk issues that are still open are minor: the serious open ones are those ``_serious_open_issues`` places.
    severities = [
        IssueSeverity.MINOR if s in DataIssue.OPEN_STATES else v for s, v in zip(statuses, severities, strict=True)
    ]
    open_states = list(DataIssue.OPEN_STATES)
    assets += [asset for asset, _ in serious]
    severities += [severity for _, severity in serious]
    statuses += [open_states[k] for k in rng.integers(0, len(open_states), len(serious))]
    return assets, severities, statuses


def write_issues(gen):
    """Data issues (trust ``DataIssue``) with their history (``IssueEvent``): mostly closed, reported by generated
    users and moved by the asset's owner; acknowledgement deadlines and alerts as the sweep would have left them."""
    rng = gen.rng("issues")
    assets, severities, statuses = _issue_targets(gen, rng)
    count = len(assets)
    first = gen.allocate("issues", DataIssue, count)
    gen.cursor.execute("SELECT id, owner_id FROM catalog_asset WHERE id = ANY(%s)", [sorted(set(assets))])
    owners = dict(gen.cursor.fetchall())
    texts = rng.integers(0, len(ISSUE_TEXTS), count)
    columns = rng.integers(0, len(COLUMN_NAMES), count)
    reporters = gen.ids["users"] + rng.integers(0, gen.counts["users"], count)
    # Open issues are recent (the last 30 days); closed ones span the year.
    age_days = np.where([s in DataIssue.OPEN_STATES for s in statuses], 30, 365)
    ages = (rng.random(count) * age_days * 86400).astype(np.int64)
    answer = rng.random(count)  # how long the owner took to acknowledge, as a share of the deadline (late above 1)
    closing = rng.integers(3600, 20 * 86400, count)
    issue_uuids = uuids(rng, count)
    epoch = gen.epoch
    issue_rows, event_rows = [], []
    for n in range(count):
        created = epoch - timedelta(seconds=int(ages[n]))
        status, severity = statuses[n], severities[n]
        deadline = created + timedelta(hours=settings.TRUST_ISSUE_ACKNOWLEDGE_HOURS[severity])
        acknowledged = None
        if status != IssueStatus.OPEN:
            acknowledged = min(epoch, created + (deadline - created) * (0.1 + 1.4 * answer[n]))
        closed = None
        if status in DataIssue.CLOSED_STATES:
            closed = min(epoch, acknowledged + timedelta(seconds=int(closing[n])))
        # The sweep alerted the team when the deadline passed before anyone acknowledged.
        alerted = None
        if deadline <= epoch and (acknowledged is None or acknowledged > deadline):
            alerted = deadline + timedelta(minutes=int(answer[n] * 5))
        category, title, description = ISSUE_TEXTS[texts[n]]
        fill = {"column": COLUMN_NAMES[columns[n]][0], "day": f"{created - timedelta(days=1):%d %b %Y}"}
        duplicate_of = first + n - 1 if status == IssueStatus.DUPLICATE and n > 0 else None
        issue_rows.append(
            (
                first + n, issue_uuids[n], assets[n], title.format(**fill), description.format(**fill), category,
                severity, status, "", None, None, "", int(reporters[n]), duplicate_of, created,
                closed or acknowledged or created, acknowledged, closed, deadline, alerted,
            )
        )  # fmt: skip
        owner = owners[assets[n]]
        event_rows.append((first + n, int(reporters[n]), "", IssueStatus.OPEN, "Reported.", created))
        if acknowledged is not None:
            moved_to = IssueStatus.IN_PROGRESS if status == IssueStatus.IN_PROGRESS else IssueStatus.ACKNOWLEDGED
            event_rows.append((first + n, owner, IssueStatus.OPEN, moved_to, "", acknowledged))
            if closed is not None:
                event_rows.append((first + n, owner, moved_to, status, "", closed))
    gen.copy(
        DataIssue,
        ["id", "uuid", "asset_id", "title", "description", "category", "severity", "status", "affected_columns",
         "affected_from", "affected_until", "attachment", "reported_by_id", "duplicate_of_id", "created_at",
         "updated_at", "acknowledged_at", "closed_at", "acknowledge_by", "acknowledge_alert_at"],
        issue_rows,
    )  # fmt: skip
    gen.copy(IssueEvent, ["issue_id", "author_id", "from_status", "to_status", "body", "created_at"], event_rows)


def write_review_notices(gen):
    """The reminders the hourly sweep has already sent for reviews due within the reminder window of the epoch."""
    soon = (gen.epoch + timedelta(days=settings.TRUST_REVIEW_REMINDER_DAYS)).date()
    gen.execute(
        ReviewNotice._meta.db_table,
        f"INSERT INTO {ReviewNotice._meta.db_table} (asset_id, due_date, kind, sent_at) "
        "SELECT id, next_review_date, %s, %s FROM catalog_asset "
        "WHERE next_review_date BETWEEN %s AND %s AND lifecycle <> %s ORDER BY id",
        [ReviewNoticeKind.REMINDER, gen.epoch, gen.epoch.date(), soon, Lifecycle.RETIRED],
    )
