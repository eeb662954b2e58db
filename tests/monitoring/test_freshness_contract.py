"""What the trust badge and asset pages ask: freshness in bulk, and one asset's freshness with its inputs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring.choices import FreshnessStatus
from monitoring.freshness import effective_freshness, freshness_by_asset
from tests import factories
from tests.helpers import assert_num_queries
from tests.monitoring.conftest import policy_for


def _fresh(asset):
    return policy_for(asset, last_seen_at=timezone.now() - timedelta(hours=1))


def _stale(asset):
    return policy_for(asset, last_seen_at=timezone.now() - timedelta(days=3))


@pytest.mark.django_db
def test_freshness_by_asset_answers_every_id_in_one_query(owner):
    assets = [factories.dataset(f"Table {n}", owner=owner).asset for n in range(6)]
    _fresh(assets[0])
    _stale(assets[1])
    with assert_num_queries(1):  # the policies of all the assets asked about
        answers = freshness_by_asset([asset.pk for asset in assets])
    assert answers[assets[0].pk].status == FreshnessStatus.FRESH
    assert answers[assets[1].pk].status == FreshnessStatus.STALE
    assert answers[assets[2].pk].status is None and answers[assets[2].pk].held_back_by is None


@pytest.mark.django_db
def test_a_report_is_held_back_by_its_stalest_input(owner):
    raw = factories.dataset("Raw orders", owner=owner)
    orders = factories.dataset("Orders", owner=owner)
    sales = factories.dataset("Daily sales", owner=owner)
    report = factories.report("Executive sales", owner=owner)
    factories.edge(raw, orders)
    factories.edge(orders, sales)
    factories.edge(sales, report)
    _fresh(report.asset)
    _fresh(sales.asset)
    late = policy_for(orders.asset, last_seen_at=timezone.now() - timedelta(days=1, minutes=30))
    _stale(raw.asset)
    with assert_num_queries(3):  # the upstream walk, the policies of the report and its inputs, their assets
        answer = effective_freshness(report.asset)
    assert answer.status == FreshnessStatus.STALE
    assert answer.held_back_by == raw.asset
    assert answer.reason.startswith("Held back by its input Raw orders:")
    # Once the raw input recovers, the late one holds it back.
    raw.asset.freshness_policy.delete()
    assert effective_freshness(report.asset).held_back_by == late.asset


@pytest.mark.django_db
def test_an_asset_worse_than_its_inputs_answers_for_itself(owner):
    source = factories.dataset("Source table", owner=owner)
    report = factories.report("Weekly", owner=owner)
    factories.edge(source, report)
    _fresh(source.asset)
    _stale(report.asset)
    answer = effective_freshness(report.asset)
    assert (answer.status, answer.held_back_by) == (FreshnessStatus.STALE, None)


@pytest.mark.django_db
def test_without_own_policy_the_inputs_decide(owner):
    source = factories.dataset("Source table", owner=owner)
    report = factories.report("Weekly", owner=owner)
    factories.edge(source, report)
    assert effective_freshness(report.asset).status is None
    _fresh(source.asset)
    answer = effective_freshness(report.asset)
    assert answer.status == FreshnessStatus.FRESH
    assert answer.reason == "Its one checked input upstream is fresh."


@pytest.mark.django_db
def test_an_answer_changes_by_the_clock_only_when_an_input_becomes_as_bad_as_the_worst(owner):
    # Seen an hour ago, daily, one hour of grace: due in 23 hours, stale in 24.
    report = factories.report("Executive sales", owner=owner)
    fresh_input = factories.dataset("Orders", owner=owner)
    factories.edge(fresh_input, report)
    seen = timezone.now() - timedelta(hours=1)
    policy_for(fresh_input.asset, last_seen_at=seen)
    # With every input fresh, the first input to turn late changes the answer.
    assert effective_freshness(report.asset).changes_at == seen + timedelta(days=1)
    # Held back by a stale input, the report does not change when Orders turns late, only when it turns stale too
    # (it might then be the input named, being as near).
    stale_input = factories.dataset("Raw clicks", owner=owner)
    factories.edge(stale_input, report)
    _stale(stale_input.asset)
    answer = effective_freshness(report.asset)
    assert answer.status == FreshnessStatus.STALE
    assert answer.changes_at == seen + timedelta(days=1, hours=1)
    # Its own policy shows as it is: its every change counts.
    own_seen = timezone.now() - timedelta(hours=2)
    policy_for(report.asset, last_seen_at=own_seen, period=timedelta(hours=12))
    assert effective_freshness(report.asset).changes_at == own_seen + timedelta(hours=12)


@pytest.mark.django_db
def test_an_input_further_away_than_the_stale_one_named_never_changes_the_answer(owner):
    report = factories.report("Executive sales", owner=owner)
    near = factories.dataset("Raw clicks", owner=owner)
    middle = factories.dataset("Orders", owner=owner)
    far = factories.dataset("Another source", owner=owner)
    factories.edge(near, report)
    factories.edge(middle, report)
    factories.edge(far, middle)
    _stale(near.asset)
    _fresh(far.asset)
    answer = effective_freshness(report.asset)
    assert answer.held_back_by == near.asset
    # Two hops away, the fresh input turning late or stale would not be the one named: nothing changes by the clock.
    assert answer.changes_at is None
