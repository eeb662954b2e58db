"""The trust badge rules, in one place. Each rule is a small function over an ``AssetFacts`` value.

A rule returns a ``Verdict``: a level and a reason in plain words, or nothing when it does not apply to the asset's
kind (a model is judged by its card and its validation, not by a freshness policy). The badge takes the worst level
among the verdicts, in this order: Do not use, Use with caution, Unknown, Trusted. The levels carry information:

- "Do not use" and "Use with caution" mean a known, specific problem (stale or late data, an open critical or major
  issue, a retired or deprecated input, a model in use with no evaluation recorded);
- "Unknown" means not assessed: nobody checks it (no freshness policy, no validated model version) or nobody vouches
  for it (no owner, no documentation, no review on schedule, an expired certification), each said as a reason;
- "Trusted" means every rule that applies was checked and passed.

The help page lists ``RULES`` with their titles and explanations, so what users read is what the code does.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from catalog.choices import Lifecycle
from trust.choices import TrustLevel

# Judged by their card and validation, not by a freshness policy of their own.
MODEL_KINDS = ("model", "model_version")

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
class CheckFact:
    """A data quality check whose latest result is failing, on the asset or upstream of it."""

    name: str
    column: str
    asset_name: str
    severity: str  # error, warn
    status: str  # fail, warn, error (could not run)
    failed_at: datetime | None
    url: str
    upstream: bool = False


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
    # Models and model versions only (None for everything else): "in_use" (a version went into use through the
    # readiness checklist, validation included, and a second person's approval), "in_use_unevaluated" (in use, no
    # metrics recorded), "not_validated" (versions, none in use), "no_versions".
    validation: str | None = None
    # A model's monitoring after go-live: None for anything that is not a model in use.
    monitoring: "MonitoringFact | None" = None
    # A maintenance window running now (its end and reason), and when a window starts or ends next.
    maintenance_until: datetime | None = None
    maintenance_reason: str = ""
    maintenance_changes_at: datetime | None = None
    # Data quality: how many checks it has itself (None: not gathered), and the failing ones on it and upstream.
    check_count: int | None = None
    failing_checks: tuple[CheckFact, ...] = ()


@dataclass(frozen=True)
class Verdict:
    rule: str
    title: str
    level: str
    reason: str
    # The rule's own words for what it found ("No open issues", "Validation passed"): each line under "Why this
    # badge" says what that rule saw, never the badge's word again. Empty in badges stored before it existed.
    mark: str = ""

    @property
    def passed(self):
        return self.level == TrustLevel.TRUSTED

    @property
    def level_label(self):
        return TrustLevel(self.level).label

    @property
    def words(self):
        """The short words before the reason: the rule's own, or for a stored verdict without them, its passing
        words or the level."""
        if self.mark:
            return self.mark
        return PASSED_WORDS.get(self.rule, "Passed") if self.passed else self.level_label


@dataclass(frozen=True)
class Rule:
    key: str
    title: str
    explanation: str
    check: object = field(repr=False)
    # What the rule's line says when it passes; ``precise(facts)``, when given, says it more exactly for one asset.
    passed: str = "Passed"
    precise: object = field(default=None, repr=False)
    # Templates would otherwise call the rule (it is callable) when the help page lists it.
    do_not_call_in_templates = True

    def __call__(self, facts):
        """The verdict, or None when the rule does not apply to this asset."""
        answer = self.check(facts)
        if answer is None:
            return None
        level, reason = answer
        if level != TrustLevel.TRUSTED:
            mark = TrustLevel(level).label
        else:
            mark = self.precise(facts) if self.precise else self.passed
        return Verdict(self.key, self.title, level, reason, mark)


RULES = []
PASSED_WORDS = {}


def rule(key, title, explanation, passed, precise=None):
    """Register a check. ``passed``: the rule's own words when it passes (never the badge's "Trusted");
    ``precise(facts)``: the same, more exactly for one asset."""

    def register(check):
        RULES.append(Rule(key, title, explanation, check, passed, precise))
        PASSED_WORDS[key] = passed
        return check

    return register


def _names(items, limit=3):
    names = [item if isinstance(item, str) else item.asset_name for item in items]
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


@rule(
    "owner",
    "Someone answers for it",
    "An owner is assigned and is still an active user. Without one, nobody fixes problems or vouches for it: not "
    "assessed (unknown).",
    passed="Owner assigned",
)
def owner_rule(facts):
    if not facts.owner_name:
        return TrustLevel.UNKNOWN, "Not assessed: nobody owns it, so there is no one to ask or to fix problems."
    if not facts.owner_active:
        return TrustLevel.UNKNOWN, f"Not assessed: its owner, {facts.owner_name}, has left; nobody answers for it now."
    return TrustLevel.TRUSTED, f"Owned by {facts.owner_name}."


@rule(
    "documentation",
    "It is documented",
    "It has a description and says what it is meant for (datasets: intended use; reports: audience). A model's card "
    "must be complete above the threshold. Missing documentation: not assessed (unknown), since nobody can tell what "
    "it is fit for.",
    passed="Documented",
)
def documentation_rule(facts):
    if facts.missing_documentation is None:
        return TrustLevel.UNKNOWN, "Its documentation cannot be checked yet."
    if facts.missing_documentation:
        return TrustLevel.UNKNOWN, "Not assessed: its documentation is missing " + ", ".join(
            facts.missing_documentation
        ) + "."
    return TrustLevel.TRUSTED, "Described, and says what it is for."


@rule(
    "freshness",
    "It is up to date",
    "The data arrived within its freshness policy; for a report, its inputs did too. Late: use with caution. "
    "Stale: do not use. No policy set, or not checked yet: not assessed (unknown). Models are not judged by "
    "freshness (see the validation rule).",
    passed="Up to date",
    # A report holds no data of its own: what was checked is what it reads.
    precise=lambda facts: "Inputs upstream fresh" if facts.kind == "report" else "Up to date",
)
def freshness_rule(facts):
    if facts.kind in MODEL_KINDS:
        return None
    detail = f" {facts.freshness_reason}" if facts.freshness_reason else ""
    match facts.freshness_status:
        case "fresh":
            return TrustLevel.TRUSTED, f"Up to date.{detail}"
        case "late":
            return TrustLevel.CAUTION, f"Late: the last update is overdue.{detail}"
        case "stale":
            return TrustLevel.DO_NOT_USE, f"Stale: far past its expected update.{detail}"
        case None:
            return (
                TrustLevel.UNKNOWN,
                "Not assessed: no freshness policy is set, so nobody checks that it is up to date.",
            )
        case _:
            return TrustLevel.UNKNOWN, f"Freshness is not known.{detail}"


@rule(
    "issues",
    "No serious open problem",
    "No critical or major data issue is open on it or on anything upstream. An open critical issue: do not use. "
    "An open major issue: use with caution. Minor issues do not change the badge.",
    # Minor issues do not count (nor are they gathered): "none open" would not be true of them.
    passed="No serious issues open",
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
    passed="Active, inputs too",
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
    "Someone reviewed it on schedule: the next review date has not passed. Overdue or never scheduled: not "
    "assessed (unknown), since nobody has looked at it lately.",
    passed="Reviewed on schedule",
)
def review_rule(facts):
    if facts.next_review_date is None:
        return TrustLevel.UNKNOWN, "Not assessed: no review is scheduled."
    if facts.next_review_date < facts.today:
        days = (facts.today - facts.next_review_date).days
        return (
            TrustLevel.UNKNOWN,
            f"Not re-assessed: the review is {days} day{'s' * (days != 1)} overdue "
            f"(due {facts.next_review_date:%d %b %Y}).",
        )
    return TrustLevel.TRUSTED, f"Reviewed on schedule; next review by {facts.next_review_date:%d %b %Y}."


@rule(
    "certification",
    "Its owner vouches for it",
    "A certification is optional (a review on schedule vouches too); once given, it counts while its current owner "
    "gave it and it has not expired. Expired, or given by someone who no longer owns it: not assessed (unknown) "
    "until it is renewed.",
    passed="Certified",
)
def certification_rule(facts):
    if facts.certified_until is None:
        return None
    if not facts.certified_by_owner:
        return TrustLevel.UNKNOWN, "Not vouched for: it was certified by someone who no longer owns it."
    if facts.certified_until < facts.today:
        return TrustLevel.UNKNOWN, f"Not vouched for: its certification expired on {facts.certified_until:%d %b %Y}."
    return TrustLevel.TRUSTED, f"Certified by its owner until {facts.certified_until:%d %b %Y}."


@rule(
    "validation",
    "A validated model is in use",
    "Models only. A version went into use through the readiness checklist (validation documented and reviewed) and "
    "a second person's approval. In use with no evaluation metrics recorded: use with caution. No version in use "
    "yet: not assessed (unknown). How the model does after go-live is the monitoring rule's.",
    passed="Validation passed",
)
def validation_rule(facts):
    if facts.kind not in MODEL_KINDS:
        return None
    match facts.validation:
        case "in_use":
            return TrustLevel.TRUSTED, "A version validated and approved for use is in use."
        case "in_use_unevaluated":
            return TrustLevel.CAUTION, "The version in use has no evaluation metrics recorded."
        case "no_versions":
            return TrustLevel.UNKNOWN, "Not assessed: no version is registered yet."
        case _:
            return TrustLevel.UNKNOWN, "Not assessed: no version has been validated and approved for use yet."


@rule(
    "monitoring",
    "A model in use is watched",
    "For a model in use: its logged predictions are monitored for drift and, once outcomes arrive, performance. "
    "Performance below threshold: do not use. Drifting inputs or predictions: use with caution. In use with no "
    "predictions logged: not monitored, unknown. Other assets: the rule does not apply.",
    passed="Monitored, healthy",
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
    passed="No maintenance",
)
def maintenance_rule(facts):
    if facts.maintenance_until is None:
        return TrustLevel.TRUSTED, "No maintenance is going on."
    until = timezone.localtime(facts.maintenance_until)
    return TrustLevel.CAUTION, f"In maintenance until {until:%d %b %Y %H:%M}: {facts.maintenance_reason}"


@rule(
    "quality",
    "Its data quality checks pass",
    "The latest result of every data quality check (dbt tests, OpenLineage assertions, Great Expectations) on it "
    "and on everything upstream. A failing error-severity check: do not use. A failing warning, or a check that "
    "could not run: use with caution. No checks at all does not change the badge, and is said.",
    passed="Checks pass",
    precise=lambda facts: "No checks yet" if facts.check_count == 0 else "Checks pass",
)
def quality_rule(facts):
    def said(check):
        column = f" on column {check.column}" if check.column else ""
        when = f" on {timezone.localtime(check.failed_at):%d %b %Y %H:%M}" if check.failed_at else ""
        where = f" of {check.asset_name} (upstream)" if check.upstream else ""
        verb = "could not run" if check.status == "error" else "failed"
        return f"{check.name}{column}{where} {verb}{when} — {check.url}"

    errors = [c for c in facts.failing_checks if c.severity == "error" and c.status == "fail"]
    others = [c for c in facts.failing_checks if c not in errors]
    if errors:
        more = f" Also failing: {len(others)} more." if others else ""
        return TrustLevel.DO_NOT_USE, "Failing check: " + "; ".join(said(c) for c in errors[:3]) + "." + more
    if others:
        return TrustLevel.CAUTION, "Failing warning: " + "; ".join(said(c) for c in others[:3]) + "."
    if facts.check_count == 0:
        return TrustLevel.TRUSTED, "No data quality checks are recorded for it, so none can fail."
    if facts.check_count is None:
        return TrustLevel.TRUSTED, "No failing data quality check on it or upstream."
    return TrustLevel.TRUSTED, f"All {facts.check_count} of its data quality checks pass, and none fails upstream."


def evaluate(facts):
    """The verdicts of the rules that apply to one asset, and the badge level they add up to."""
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
