"""The trust badge rules, in one place. Each rule is a small function over an ``AssetFacts`` value.

A rule returns a ``Verdict``: a level and a reason in plain words. The badge takes the worst level among the
verdicts, in this order: Do not use, Use with caution, Unknown (a fact the rule needs is missing), Trusted. The help
page lists ``RULES`` with their titles and explanations, so what users read is what the code does.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from catalog.choices import Lifecycle
from trust.choices import TrustLevel

# Worst first: the badge is the first level any verdict reaches.
SEVERITY = [TrustLevel.DO_NOT_USE, TrustLevel.CAUTION, TrustLevel.UNKNOWN, TrustLevel.TRUSTED]


@dataclass(frozen=True)
class IssueFact:
    severity: str
    title: str
    asset_name: str
    upstream: bool = False


@dataclass(frozen=True)
class InputFact:
    """A deprecated or retired asset upstream."""

    name: str
    lifecycle: str
    sunset_date: date | None = None
    replacement: str = ""


@dataclass(frozen=True)
class MonitoringFact:
    """A model in use, as its monitoring last found it (``mlops.choices.MonitoringStatus`` values)."""

    status: str
    since: datetime | None = None
    reason: str = ""


@dataclass(frozen=True)
class AssetFacts:
    """Everything the rules look at for one asset. ``None`` in a fact means "not known", never "fine"."""

    kind: str
    today: date
    lifecycle: str = Lifecycle.ACTIVE
    owner_name: str | None = None
    owner_active: bool = False
    missing_documentation: tuple[str, ...] | None = ()
    freshness_status: str | None = "unknown"  # fresh, late, stale, unknown; None when no freshness policy is set
    freshness_reason: str = ""
    issues: tuple[IssueFact, ...] = ()
    sunset_date: date | None = None
    replacement: str = ""
    deprecated_inputs: tuple[InputFact, ...] = ()
    next_review_date: date | None = None
    certified_until: date | None = None
    certified_by_owner: bool = False
    # When the clock alone changes a fact above: the next freshness deadline (its own or an input's), and the day
    # a model card's verified assumptions lapse.
    freshness_changes_at: datetime | None = None
    documentation_changes_on: date | None = None
    # A model's monitoring after go-live: None for anything that is not a model in use.
    monitoring: "MonitoringFact | None" = None
    # A maintenance window running now (its end and reason), and when a window starts or ends next.
    maintenance_until: datetime | None = None
    maintenance_reason: str = ""
    maintenance_changes_at: datetime | None = None


@dataclass(frozen=True)
class Verdict:
    rule: str
    title: str
    level: str
    reason: str

    @property
    def passed(self):
        return self.level == TrustLevel.TRUSTED

    @property
    def level_label(self):
        return TrustLevel(self.level).label


@dataclass(frozen=True)
class Rule:
    key: str
    title: str
    explanation: str
    check: object = field(repr=False)
    # Templates would otherwise call the rule (it is callable) when the help page lists it.
    do_not_call_in_templates = True

    def __call__(self, facts):
        answer = self.check(facts)
        if answer is None:  # the rule does not apply to this kind of asset
            return None
        level, reason = answer
        return Verdict(self.key, self.title, level, reason)


RULES = []


def rule(key, title, explanation):
    def register(check):
        RULES.append(Rule(key, title, explanation, check))
        return check

    return register


def _names(items, limit=3):
    names = [item if isinstance(item, str) else item.asset_name for item in items]
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


@rule(
    "owner",
    "Someone answers for it",
    "An owner is assigned and is still an active user. Without one, nobody fixes problems or answers questions: "
    "use with caution.",
)
def owner_rule(facts):
    if not facts.owner_name:
        return TrustLevel.CAUTION, "Nobody owns it: there is no one to ask or to fix problems."
    if not facts.owner_active:
        return TrustLevel.CAUTION, f"Its owner, {facts.owner_name}, has left: nobody answers for it now."
    return TrustLevel.TRUSTED, f"Owned by {facts.owner_name}."


@rule(
    "documentation",
    "It is documented",
    "It has a description and says what it is meant for (datasets: intended use; reports: audience). A model's card "
    "must be complete above the threshold. Missing documentation: use with caution.",
)
def documentation_rule(facts):
    if facts.missing_documentation is None:
        return TrustLevel.UNKNOWN, "Its documentation cannot be checked yet."
    if facts.missing_documentation:
        return TrustLevel.CAUTION, "Documentation is incomplete: missing " + ", ".join(
            facts.missing_documentation
        ) + "."
    return TrustLevel.TRUSTED, "Described, and says what it is for."


@rule(
    "freshness",
    "It is up to date",
    "The data arrived within its freshness policy; for a report, its inputs did too. Late: use with caution. "
    "Stale: do not use. No policy set: use with caution. Not checked: unknown.",
)
def freshness_rule(facts):
    detail = f" {facts.freshness_reason}" if facts.freshness_reason else ""
    match facts.freshness_status:
        case "fresh":
            return TrustLevel.TRUSTED, f"Up to date.{detail}"
        case "late":
            return TrustLevel.CAUTION, f"Late: the last update is overdue.{detail}"
        case "stale":
            return TrustLevel.DO_NOT_USE, f"Stale: far past its expected update.{detail}"
        case None:
            return TrustLevel.CAUTION, "No freshness policy is set, so nobody checks that it is up to date."
        case _:
            return TrustLevel.UNKNOWN, f"Freshness is not known.{detail}"


@rule(
    "issues",
    "No serious open problem",
    "No critical or major data issue is open on it or on anything upstream. An open critical issue: do not use. "
    "An open major issue: use with caution. Minor issues do not change the badge.",
)
def issues_rule(facts):
    critical = [issue for issue in facts.issues if issue.severity == "critical"]
    major = [issue for issue in facts.issues if issue.severity == "major"]

    def where(issues):
        own = [issue.title for issue in issues if not issue.upstream]
        upstream = sorted({issue.asset_name for issue in issues if issue.upstream})
        parts = []
        if own:
            parts.append(f"on it ({_names(own)})")
        if upstream:
            parts.append(f"upstream on {_names(upstream)}")
        return " and ".join(parts)

    if critical:
        return (
            TrustLevel.DO_NOT_USE,
            f"{len(critical)} critical issue{'s' * (len(critical) > 1)} open {where(critical)}.",
        )
    if major:
        return TrustLevel.CAUTION, f"{len(major)} major issue{'s' * (len(major) > 1)} open {where(major)}."
    return TrustLevel.TRUSTED, "No critical or major issue is open on it or upstream."


@rule(
    "lifecycle",
    "It is not going away",
    "It is not deprecated or retired, and nothing it is built from is. Deprecated (itself or an input): use with "
    "caution and move to the replacement. Retired (itself or an input): do not use.",
)
def lifecycle_rule(facts):
    replacement = f" Use {facts.replacement} instead." if facts.replacement else ""
    if facts.lifecycle == Lifecycle.RETIRED:
        return TrustLevel.DO_NOT_USE, f"Retired: it is no longer maintained.{replacement}"
    retired_inputs = [item.name for item in facts.deprecated_inputs if item.lifecycle == Lifecycle.RETIRED]
    if retired_inputs:
        return TrustLevel.DO_NOT_USE, f"Uses a retired input: {_names(retired_inputs)}."
    if facts.lifecycle == Lifecycle.DEPRECATED:
        when = f" on {facts.sunset_date:%d %b %Y}" if facts.sunset_date else ""
        return TrustLevel.CAUTION, f"Deprecated: it will be retired{when}.{replacement}"
    if facts.deprecated_inputs:
        return (
            TrustLevel.CAUTION,
            f"Uses a deprecated input: {_names([item.name for item in facts.deprecated_inputs])}.",
        )
    return TrustLevel.TRUSTED, "Active, and so are all its inputs."


@rule(
    "review",
    "It was reviewed recently",
    "Someone reviewed it on schedule: the next review date has not passed. Overdue or never scheduled: use with "
    "caution.",
)
def review_rule(facts):
    if facts.next_review_date is None:
        return TrustLevel.CAUTION, "No review is scheduled."
    if facts.next_review_date < facts.today:
        days = (facts.today - facts.next_review_date).days
        return (
            TrustLevel.CAUTION,
            f"The review is {days} day{'s' * (days != 1)} overdue (due {facts.next_review_date:%d %b %Y}).",
        )
    return TrustLevel.TRUSTED, f"Reviewed on schedule; next review by {facts.next_review_date:%d %b %Y}."


@rule(
    "certification",
    "Its owner vouches for it",
    "Its current owner certified it, and the certification has not expired. Not certified or expired: use with "
    "caution.",
)
def certification_rule(facts):
    if facts.certified_until is None:
        return TrustLevel.CAUTION, "Its owner has not certified it."
    if not facts.certified_by_owner:
        return TrustLevel.CAUTION, "It was certified by someone who no longer owns it."
    if facts.certified_until < facts.today:
        return TrustLevel.CAUTION, f"Its certification expired on {facts.certified_until:%d %b %Y}."
    return TrustLevel.TRUSTED, f"Certified by its owner until {facts.certified_until:%d %b %Y}."


@rule(
    "monitoring",
    "A model in use is watched",
    "For a model in use: its logged predictions are monitored for drift and, once outcomes arrive, performance. "
    "Performance below threshold: do not use. Drifting inputs or predictions: use with caution. In use with no "
    "predictions logged: not monitored, unknown. Other assets: the rule does not apply.",
)
def monitoring_rule(facts):
    """A small rule of its own, so the other rules can change without it."""
    fact = facts.monitoring
    if fact is None:
        return None
    since = f" since {timezone.localtime(fact.since):%d %b %Y %H:%M}" if fact.since else ""
    detail = f" {fact.reason}" if fact.reason else ""
    match fact.status:
        case "degraded":
            return TrustLevel.DO_NOT_USE, f"Performance below threshold{since}.{detail}"
        case "drifting":
            return TrustLevel.CAUTION, f"Drifting{since}.{detail}"
        case "healthy":
            return TrustLevel.TRUSTED, f"Monitored: no drift, performance within thresholds.{detail}"
        case _:
            return TrustLevel.UNKNOWN, f"Not monitored: it is in use but nobody watches its predictions.{detail}"


@rule(
    "maintenance",
    "Not in maintenance",
    "No maintenance window set by its owners is running. In maintenance: use with caution until it ends; alerts "
    "about it are silenced meanwhile.",
)
def maintenance_rule(facts):
    if facts.maintenance_until is None:
        return TrustLevel.TRUSTED, "No maintenance is going on."
    until = timezone.localtime(facts.maintenance_until)
    return TrustLevel.CAUTION, f"In maintenance until {until:%d %b %Y %H:%M}: {facts.maintenance_reason}"


def evaluate(facts):
    """All verdicts for one asset, and the badge level they add up to."""
    verdicts = [verdict for verdict in (check(facts) for check in RULES) if verdict is not None]
    return combine(verdicts), verdicts


def combine(verdicts):
    levels = {verdict.level for verdict in verdicts}
    return next(level for level in SEVERITY if level in levels or level == TrustLevel.TRUSTED)


def expires_at(facts):
    """The first moment the verdicts can read differently by the clock alone, with no event changing a fact; None
    when only an event can change them. A stored badge is recomputed then.

    The days count from local midnight, as ``today`` does: a review falls due the day after its date and, once
    overdue, its reason counts the days; a certification by the current owner runs out the day after it expires;
    a model card loses its verified assumptions the day after the first one lapses. Freshness changes at its
    policies' deadlines (the sweep evaluates them then, and a status change marks the badge stale, but a deadline
    can pass a moment before the sweep comes).
    """
    days = [facts.documentation_changes_on]
    if facts.next_review_date is not None:
        days.append(max(facts.next_review_date, facts.today) + timedelta(days=1))
    if facts.certified_until is not None and facts.certified_by_owner and facts.certified_until >= facts.today:
        days.append(facts.certified_until + timedelta(days=1))
    moments = [timezone.make_aware(datetime.combine(day, time.min)) for day in days if day is not None]
    if facts.freshness_changes_at is not None:
        moments.append(facts.freshness_changes_at)
    if facts.maintenance_changes_at is not None:
        moments.append(facts.maintenance_changes_at)
    return min(moments, default=None)
