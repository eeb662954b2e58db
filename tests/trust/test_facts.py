"""Facts gathered from the database for the badge rules, and the badge they add up to."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from catalog.choices import Lifecycle
from registry.models import Assumption
from tests import factories
from tests.helpers import count_queries
from trust.badges import badge_for, badges_for
from trust.choices import TrustLevel
from trust.facts import facts_for, upstream_of_each
from trust.models import Certification, Deprecation

pytestmark = pytest.mark.django_db


def test_a_documented_reviewed_certified_fresh_dataset_is_trusted(owner, freshness):
    orders = factories.trusted_asset(owner, "Orders")
    freshness[orders.pk] = "fresh"
    badge = badge_for(orders.asset)
    assert badge.level == TrustLevel.TRUSTED, badge.reasons
    assert badge.summary == "Every trust rule is met."


def test_without_a_freshness_policy_the_badge_says_use_with_caution_and_why(owner):
    orders = factories.trusted_asset(owner, "Orders")
    badge = badge_for(orders.asset)
    assert badge.level == TrustLevel.CAUTION
    assert [verdict.reason for verdict in badge.reasons] == [
        "No freshness policy is set, so nobody checks that it is up to date."
    ]


def test_a_never_seen_heartbeat_makes_the_badge_unknown(owner, freshness):
    orders = factories.trusted_asset(owner, "Orders")
    freshness[orders.pk] = "unknown"
    badge = badge_for(orders.asset)
    assert badge.level == TrustLevel.UNKNOWN
    assert badge.reasons[0].reason.startswith("Freshness is not known.")


def test_a_stale_input_upstream_holds_a_fresh_report_back(owner, freshness):
    orders = factories.trusted_asset(owner, "Orders")
    report = factories.report("Sales", owner=owner, description="Daily sales.")
    factories.edge(orders, report)
    freshness[orders.pk] = "stale"
    freshness[report.pk] = "fresh"
    found = facts_for([report.asset])[report.pk]
    assert found.freshness_status == "stale"
    assert "Held back by its input Orders" in found.freshness_reason


def test_owner_facts_follow_the_owner_leaving(owner):
    orders = factories.trusted_asset(owner, "Orders")
    get_user_model().objects.filter(pk=owner.pk).update(is_active=False)
    found = facts_for([orders.asset])[orders.pk]
    assert (found.owner_name, found.owner_active) == ("olivia", False)


def test_documentation_facts_per_kind(owner):
    bare = factories.dataset("Bare", owner=owner)
    report = factories.report("Sales", owner=owner, description="Daily sales.")
    model = factories.registered_model("Churn", owner=owner, description="Who leaves.")
    found = facts_for([bare.asset, report.asset, model.asset])
    assert found[bare.pk].missing_documentation == ("a description", "its intended use")
    assert found[report.pk].missing_documentation == ("its audience (who it is for)",)
    # A model's documentation is its card: an empty card is far below the threshold and names what is missing.
    (card,) = found[model.pk].missing_documentation
    assert card.startswith("a complete model card (")
    assert "80% needed" in card and "Goal (the problem it solves)" in card


def test_a_complete_enough_card_satisfies_the_documentation_rule(owner, settings):
    model = factories.registered_model("Churn", owner=owner, description="Who leaves.")
    percent, _ = model.card_completeness()
    settings.MODEL_CARD_COMPLETENESS_THRESHOLD = percent
    assert facts_for([model.asset])[model.pk].missing_documentation == ()


def test_a_model_card_counts_its_assumptions_verified_until_the_first_lapses(owner):
    model = factories.registered_model("Churn", owner=owner, description="Who leaves.")
    today = timezone.localdate()
    Assumption.objects.create(model=model, statement="Prices are stable.", verified_on=today, valid_for_days=10)
    Assumption.objects.create(model=model, statement="Stores open.", verified_on=today, valid_for_days=30)
    assert facts_for([model.asset])[model.pk].documentation_changes_on == today + timedelta(days=11)
    Assumption.objects.create(model=model, statement="Never checked.")
    assert facts_for([model.asset])[model.pk].documentation_changes_on is None


def test_model_badges_cost_the_same_queries_for_one_model_as_for_ten(owner):
    def queries(count):
        models = [factories.registered_model(owner=owner) for _ in range(count)]
        for model in models:
            factories.model_version(model)
        with count_queries() as captured:
            badges_for([model.asset for model in models])
        return len(captured)

    assert queries(1) == queries(10)


def test_upstream_issues_and_deprecations_reach_everything_downstream_but_nothing_else(owner, outsider):
    raw = factories.dataset("Raw orders", owner=owner)
    orders = factories.dataset("Orders", owner=owner)
    report = factories.report("Executive sales", owner=owner)
    unrelated = factories.report("Web funnel", owner=owner)
    factories.edge(raw, orders)
    factories.edge(orders, report)
    factories.data_issue(raw, outsider, severity="critical", title="Empty since Monday")
    factories.data_issue(raw, outsider, severity="minor", title="Typo")
    Deprecation.propose(
        orders.asset, by=owner, reason="Moving to v2.", sunset_date=timezone.localdate() + timedelta(days=30)
    )
    found = facts_for([raw, orders, report, unrelated])
    assert [(issue.title, issue.upstream) for issue in found[report.pk].issues] == [("Empty since Monday", True)]
    assert [(issue.title, issue.upstream) for issue in found[raw.pk].issues] == [("Empty since Monday", False)]
    assert found[unrelated.pk].issues == ()
    assert [item.name for item in found[report.pk].deprecated_inputs] == ["Orders"]
    assert found[orders.pk].lifecycle == Lifecycle.DEPRECATED and found[orders.pk].deprecated_inputs == ()
    assert badges_for([report.asset])[report.pk].level == TrustLevel.DO_NOT_USE


def test_upstream_of_each_keeps_each_assets_own_ancestors(owner):
    a, b, c, d = (factories.dataset(name, owner=owner) for name in "abcd")
    factories.edge(a, b)
    factories.edge(b, c)
    factories.edge(d, c)
    assert upstream_of_each([b.pk, c.pk, d.pk]) == {b.pk: {a.pk: 1}, c.pk: {a.pk: 2, b.pk: 1, d.pk: 1}, d.pk: {}}


def test_only_the_latest_certification_by_the_current_owner_counts(owner, teammate):
    orders = factories.trusted_asset(owner, "Orders")
    found = facts_for([orders.asset])[orders.pk]
    assert found.certified_by_owner and found.certified_until > timezone.localdate()
    orders.asset.owner = teammate
    orders.asset.save()
    assert facts_for([orders.asset])[orders.pk].certified_by_owner is False
    Certification.certify(orders.asset, by=teammate, expires_on=timezone.localdate() + timedelta(days=10))
    assert facts_for([orders.asset])[orders.pk].certified_by_owner is True


def _queries_for_badges(count, owner, reporter):
    assets = []
    for index in range(count):
        upstream = factories.dataset(f"Input {count}-{index}", owner=owner)
        report = factories.report(f"Report {count}-{index}", owner=owner)
        factories.edge(upstream, report)
        factories.data_issue(upstream, reporter, severity="major")
        assets.append(report.asset)
    with count_queries() as queries:
        badges = badges_for(assets)
    assert len(badges) == count and all(badge.level == TrustLevel.CAUTION for badge in badges.values())
    return len(queries)


def test_badges_for_a_page_cost_the_same_queries_for_one_asset_as_for_forty(owner, outsider):
    # 1 stored badges; then, none being stored yet: 1 assets with owner, kind rows and latest certification;
    # 1 lineage walk from each; 1 running deprecations; 1 deprecated or retired inputs; 1 serious open issues;
    # 1 freshness policies of the assets and everything upstream (none here, so none of their assets to read);
    # 1 maintenance windows; 3 storing the badges (one statement in a savepoint of its own, so that a failure to
    # store never breaks the caller's transaction).
    assert _queries_for_badges(1, owner, outsider) == _queries_for_badges(40, owner, outsider) == 11
