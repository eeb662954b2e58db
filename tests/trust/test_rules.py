"""Each badge rule on its own, then combined. Pure functions over facts: no database."""

from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from catalog.choices import Lifecycle
from trust.choices import TrustLevel
from trust.rules import (
    RULES,
    AssetFacts,
    InputFact,
    IssueFact,
    certification_rule,
    documentation_rule,
    evaluate,
    expires_at,
    freshness_rule,
    issues_rule,
    lifecycle_rule,
    owner_rule,
    review_rule,
    validation_rule,
)

TODAY = date(2026, 11, 28)

# An asset that meets every rule; each test spoils one fact.
GOOD = AssetFacts(
    kind="dataset",
    today=TODAY,
    owner_name="Olivia",
    owner_active=True,
    missing_documentation=(),
    freshness_status="fresh",
    next_review_date=date(2027, 1, 1),
    certified_until=date(2027, 6, 1),
    certified_by_owner=True,
)


def test_an_asset_meeting_every_rule_is_trusted():
    level, verdicts = evaluate(GOOD)
    assert level == TrustLevel.TRUSTED
    assert all(verdict.passed for verdict in verdicts)
    # Every rule but the models' validation and monitoring applies to a dataset.
    assert len(verdicts) == len(RULES) - 2 == 9
    assert not {"validation", "monitoring"} & {verdict.rule for verdict in verdicts}


@pytest.mark.parametrize(
    ("change", "level", "words"),
    [
        ({"owner_name": None}, TrustLevel.UNKNOWN, "nobody owns it"),
        ({"owner_active": False}, TrustLevel.UNKNOWN, "has left"),
    ],
)
def test_owner_rule(change, level, words):
    found, reason = owner_rule(replace(GOOD, **change))
    assert found == level and words in reason
    assert owner_rule(GOOD)[0] == TrustLevel.TRUSTED


def test_documentation_rule_lists_what_is_missing_and_is_unknown_when_it_cannot_tell():
    level, reason = documentation_rule(replace(GOOD, missing_documentation=("a description", "its intended use")))
    assert level == TrustLevel.UNKNOWN
    assert reason == "Not assessed: its documentation is missing a description, its intended use."
    assert documentation_rule(replace(GOOD, missing_documentation=None))[0] == TrustLevel.UNKNOWN
    assert documentation_rule(GOOD)[0] == TrustLevel.TRUSTED


@pytest.mark.parametrize(
    ("status", "level"),
    [
        ("fresh", TrustLevel.TRUSTED),
        ("late", TrustLevel.CAUTION),
        ("stale", TrustLevel.DO_NOT_USE),
        ("unknown", TrustLevel.UNKNOWN),
        (None, TrustLevel.UNKNOWN),
    ],
)
def test_freshness_rule(status, level):
    found, reason = freshness_rule(replace(GOOD, freshness_status=status, freshness_reason="Held back by Orders."))
    assert found == level
    if status is not None:
        assert "Held back by Orders." in reason


def test_issues_rule_critical_anywhere_means_do_not_use_major_means_caution_minor_is_ignored():
    minor = IssueFact("minor", "Typo in a label", "Orders")
    major = IssueFact("major", "Totals off by 2%", "Orders")
    critical_upstream = IssueFact("critical", "Empty since Monday", "Raw orders", upstream=True)
    assert issues_rule(replace(GOOD, issues=(minor,)))[0] == TrustLevel.TRUSTED
    level, reason = issues_rule(replace(GOOD, issues=(minor, major)))
    assert (level, reason) == (TrustLevel.CAUTION, "1 major issue open on it (Totals off by 2%).")
    level, reason = issues_rule(replace(GOOD, issues=(major, critical_upstream)))
    assert (level, reason) == (TrustLevel.DO_NOT_USE, "1 critical issue open upstream on Raw orders.")


def test_lifecycle_rule_covers_itself_and_its_inputs():
    deprecated = replace(GOOD, lifecycle=Lifecycle.DEPRECATED, sunset_date=date(2027, 1, 31), replacement="Orders v2")
    level, reason = lifecycle_rule(deprecated)
    assert (level, reason) == (
        TrustLevel.CAUTION,
        "Deprecated: it will be retired on 31 Jan 2027. Use Orders v2 instead.",
    )
    assert lifecycle_rule(replace(GOOD, lifecycle=Lifecycle.RETIRED))[0] == TrustLevel.DO_NOT_USE
    old_input = InputFact("Legacy orders", Lifecycle.DEPRECATED, date(2027, 1, 31), "Orders")
    level, reason = lifecycle_rule(replace(GOOD, deprecated_inputs=(old_input,)))
    assert (level, reason) == (TrustLevel.CAUTION, "Uses a deprecated input: Legacy orders.")
    gone = InputFact("Old stores", Lifecycle.RETIRED)
    assert lifecycle_rule(replace(GOOD, deprecated_inputs=(old_input, gone)))[0] == TrustLevel.DO_NOT_USE


def test_review_rule():
    assert review_rule(replace(GOOD, next_review_date=None)) == (
        TrustLevel.UNKNOWN,
        "Not assessed: no review is scheduled.",
    )
    level, reason = review_rule(replace(GOOD, next_review_date=date(2026, 11, 25)))
    assert (level, reason) == (TrustLevel.UNKNOWN, "Not re-assessed: the review is 3 days overdue (due 25 Nov 2026).")
    assert review_rule(replace(GOOD, next_review_date=TODAY))[0] == TrustLevel.TRUSTED


def test_certification_rule():
    # Optional: never certified is no verdict at all (a review on schedule vouches too).
    assert certification_rule(replace(GOOD, certified_until=None)) is None
    assert evaluate(replace(GOOD, certified_until=None))[0] == TrustLevel.TRUSTED
    assert certification_rule(replace(GOOD, certified_by_owner=False))[0] == TrustLevel.UNKNOWN
    level, reason = certification_rule(replace(GOOD, certified_until=date(2026, 11, 27)))
    assert (level, reason) == (TrustLevel.UNKNOWN, "Not vouched for: its certification expired on 27 Nov 2026.")


def test_the_worst_verdict_decides_and_unknown_only_wins_over_trusted():
    unknown = replace(GOOD, freshness_status="unknown")
    assert evaluate(unknown)[0] == TrustLevel.UNKNOWN
    caution_and_unknown = replace(unknown, issues=(IssueFact("major", "Off by 2%", "Orders"),))
    assert evaluate(caution_and_unknown)[0] == TrustLevel.CAUTION
    everything_wrong = replace(caution_and_unknown, issues=(IssueFact("critical", "Broken", "Orders"),))
    level, verdicts = evaluate(everything_wrong)
    assert level == TrustLevel.DO_NOT_USE
    assert {verdict.rule: verdict.level for verdict in verdicts if not verdict.passed} == {
        "freshness": TrustLevel.UNKNOWN,
        "issues": TrustLevel.DO_NOT_USE,
    }


def test_every_rule_has_a_plain_title_and_explanation_for_the_help_page():
    for rule in RULES:
        assert rule.title and rule.explanation.endswith(".")
    assert len({rule.key for rule in RULES}) == len(RULES)


def test_the_badge_summary_gives_the_worst_reason_first():
    from trust.badges import Badge

    facts = replace(
        GOOD,
        freshness_status="unknown",
        lifecycle=Lifecycle.DEPRECATED,
        issues=(IssueFact("critical", "Empty", "Raw"),),
    )
    level, verdicts = evaluate(facts)
    badge = Badge(level, tuple(verdicts))
    assert [verdict.level for verdict in badge.reasons] == [
        TrustLevel.DO_NOT_USE,
        TrustLevel.CAUTION,
        TrustLevel.UNKNOWN,
    ]
    assert badge.summary == "1 critical issue open on it (Empty)."


def _midnight(day):
    return timezone.make_aware(datetime.combine(day, time.min))


def test_a_badge_holds_until_its_review_falls_due_or_its_certification_runs_out_whichever_is_first():
    assert expires_at(GOOD) == _midnight(date(2027, 1, 2))
    assert expires_at(replace(GOOD, next_review_date=None)) == _midnight(date(2027, 6, 2))
    assert expires_at(replace(GOOD, next_review_date=None, certified_until=TODAY)) == _midnight(date(2026, 11, 29))


def test_an_overdue_review_counts_its_days_so_the_badge_holds_until_tomorrow():
    assert expires_at(replace(GOOD, next_review_date=date(2026, 10, 1))) == _midnight(date(2026, 11, 29))


def test_without_a_date_ahead_only_an_event_changes_the_badge():
    undated = replace(GOOD, next_review_date=None, certified_until=None)
    assert expires_at(undated) is None
    assert expires_at(replace(undated, certified_until=date(2026, 1, 1))) is None  # expired: its words stay
    assert expires_at(replace(undated, certified_until=date(2027, 1, 1), certified_by_owner=False)) is None


def test_a_freshness_deadline_or_a_model_assumption_lapsing_comes_first_when_sooner():
    deadline = _midnight(TODAY) + timedelta(hours=30)
    assert expires_at(replace(GOOD, freshness_changes_at=deadline)) == deadline
    assert expires_at(replace(GOOD, documentation_changes_on=date(2026, 12, 5))) == _midnight(date(2026, 12, 5))


# --- the levels carry information (issue 15) --------------------------------------------------------------------
def test_caution_and_do_not_use_only_for_a_known_specific_problem_unknown_for_what_nobody_checks_or_vouches():
    """What nobody checks (no freshness policy) or vouches for (no owner, no documentation, no review) reads
    Unknown with every reason; only a real problem (late, a major issue, a deprecation) reads Use with caution."""
    unassessed = replace(
        GOOD, owner_name=None, missing_documentation=("a description",), freshness_status=None, next_review_date=None
    )
    level, verdicts = evaluate(unassessed)
    assert level == TrustLevel.UNKNOWN
    reasons = [verdict.reason for verdict in verdicts if not verdict.passed]
    assert len(reasons) == 4 and all(reason.startswith("Not assessed") for reason in reasons)
    for problem in (
        {"freshness_status": "late"},
        {"issues": (IssueFact("major", "Off", "Orders"),)},
        {"lifecycle": Lifecycle.DEPRECATED},
    ):
        assert evaluate(replace(unassessed, **problem))[0] == TrustLevel.CAUTION, problem


MODEL = replace(GOOD, kind="model", freshness_status=None, validation="in_use")


def test_a_model_is_judged_by_its_card_and_validation_not_by_a_freshness_policy():
    level, verdicts = evaluate(MODEL)
    assert level == TrustLevel.TRUSTED
    rules = {verdict.rule for verdict in verdicts}
    assert "freshness" not in rules and "validation" in rules
    assert freshness_rule(MODEL) is None
    assert validation_rule(GOOD) is None  # a dataset has no validation verdict


@pytest.mark.parametrize(
    ("validation", "level", "words"),
    [
        ("in_use", TrustLevel.TRUSTED, "validated and approved"),
        ("in_use_unevaluated", TrustLevel.CAUTION, "no evaluation metrics"),
        ("not_validated", TrustLevel.UNKNOWN, "Not assessed"),
        ("no_versions", TrustLevel.UNKNOWN, "no version is registered"),
    ],
)
def test_validation_rule(validation, level, words):
    found, reason = validation_rule(replace(MODEL, validation=validation))
    assert found == level and words in reason
    assert evaluate(replace(MODEL, validation=validation))[0] == level
