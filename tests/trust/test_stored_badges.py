"""Stored badges: lists read them instead of recomputing, and every event shows on the next list, here and
downstream. The worker and the command recompute them; two refreshers share the work."""

import html
import re
from datetime import datetime, time, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connections
from django.utils import timezone

from catalog.assets import add_edge, delete_asset, remove_edge, save_asset
from catalog.choices import Lifecycle
from catalog.models import Asset
from core.background import BADGE_REFRESHER
from monitoring.choices import PingKind
from monitoring.freshness import evaluate_all, record_ping, save_policy
from monitoring.models import FreshnessCheck, FreshnessPolicy
from registry.services import register_version, set_people
from tests import factories
from tests.helpers import count_queries
from trust import tasks
from trust.badges import badges_for, compute_badges, refresh_stale
from trust.choices import IssueStatus, TrustLevel
from trust.models import Certification, Deprecation, StoredBadge

pytestmark = pytest.mark.django_db


def badges_shown(client, path="/catalog/"):
    """``{asset name: (badge label, the reason in its tooltip)}`` as a list page shows them."""
    page = client.get(path).content.decode()
    shown = {}
    for row in page.split("<tr")[1:]:
        name = re.search(r'<a href="[^"]+">([^<]+)</a>', row)
        badge = re.search(r'title="([^"]*)" data-testid="trust-badge">([^<]+)<', row)
        if name and badge:
            shown[html.unescape(name.group(1))] = (badge.group(2), html.unescape(badge.group(1)))
    return shown


def level_shown(client, name, path="/catalog/"):
    return badges_shown(client, path)[name][0]


def trusted_report(owner, name):
    """A report that meets every rule it can by itself: owned, documented, reviewed, certified."""
    today = timezone.localdate()
    made = factories.report(name, owner=owner, description="Revenue.", next_review_date=today + timedelta(days=30))
    made.audience = "The leadership team"
    made.save()
    Certification.certify(made.asset, by=owner, expires_on=today + timedelta(days=90))
    return made


@pytest.fixture
def sales(owner):
    """Raw orders (a trusted dataset with a daily heartbeat, seen an hour ago) feeding the Executive sales report.
    Both are Trusted."""
    raw = factories.trusted_asset(owner, "Raw orders")
    policy = factories.freshness_policy(raw)
    record_ping(policy, PingKind.SUCCESS, now=timezone.now() - timedelta(hours=1))
    report = trusted_report(owner, "Executive sales")
    factories.edge(raw, report)
    return raw.asset, report.asset, policy


@pytest.fixture
def client(client_for, outsider, sales, settings):
    """A reader whose first look at the catalog stored both badges. The clock moves by days here: the reader's
    session lasts a month, or the idle timeout (tests/security) would sign her out."""
    settings.SESSION_COOKIE_AGE = 31 * 24 * 3600
    client = client_for(outsider)
    assert level_shown(client, "Raw orders") == level_shown(client, "Executive sales") == "Trusted"
    return client


def _walks(captured):
    return [query for query in captured if "WITH RECURSIVE" in query["sql"]]


def test_a_list_reads_the_stored_badges_without_gathering_the_facts_again(client_for, outsider, sales):
    client = client_for(outsider)
    with count_queries() as first:
        first_badges = badges_shown(client)
    with count_queries() as second:
        second_badges = badges_shown(client)
    assert first_badges == second_badges and first_badges["Executive sales"][0] == "Trusted"
    # The first view gathered the facts (9 queries, one a lineage walk, one the maintenance windows, one the quality
    # checks) and stored the
    # badges (a statement in a savepoint: 3); the second read the stored badges only.
    assert _walks(first) and not _walks(second)
    assert len(second) == len(first) - 12


def test_a_critical_issue_upstream_shows_on_the_next_list_and_goes_when_resolved(client, sales, owner, outsider):
    raw, _, _ = sales
    issue = factories.data_issue(raw, outsider, severity="critical", title="Empty since Monday")
    shown = badges_shown(client)
    assert shown["Raw orders"] == ("Do not use", "1 critical issue open on it (Empty since Monday).")
    assert shown["Executive sales"] == ("Do not use", "1 critical issue open upstream on Raw orders.")
    issue.transition(IssueStatus.ACKNOWLEDGED, by=owner)
    assert level_shown(client, "Executive sales") == "Do not use"
    issue.transition(IssueStatus.RESOLVED, by=owner)
    assert level_shown(client, "Raw orders") == level_shown(client, "Executive sales") == "Trusted"


def test_a_failed_run_upstream_makes_the_report_stale_at_once(client, sales):
    _, _, policy = sales
    record_ping(policy, PingKind.FAIL)
    shown = badges_shown(client)
    assert shown["Raw orders"][0] == "Do not use"
    assert shown["Executive sales"][0] == "Do not use"
    assert shown["Executive sales"][1].startswith("Stale: far past its expected update. Held back by its input Raw")


def test_pausing_the_checks_upstream_shows_at_once_here_and_downstream(client, sales):
    _, _, policy = sales
    policy.paused = True
    save_policy(policy)
    shown = badges_shown(client)
    assert shown["Raw orders"] == ("Unknown", "Freshness is not known. Checks are paused.")
    assert shown["Executive sales"] == (
        "Unknown",
        "Freshness is not known. Held back by its input Raw orders: Checks are paused.",
    )


def test_data_that_becomes_late_shows_late_here_and_downstream_without_waiting_for_the_sweep(client, sales):
    with time_machine.travel(timezone.now() + timedelta(hours=23, minutes=30)):
        shown = badges_shown(client)
    assert shown["Raw orders"][0] == shown["Executive sales"][0] == "Use with caution"
    assert shown["Executive sales"][1].startswith("Late: the last update is overdue. Held back by its input Raw")


def test_a_new_update_shows_its_time_in_the_badges_words(client_for, outsider, sales):
    raw, _, policy = sales
    client = client_for(outsider)
    before = client.get(f"/badges/dataset/{raw.slug}.json").json()
    seen = timezone.now()
    record_ping(policy, PingKind.SUCCESS, now=seen)
    after = client.get(f"/badges/dataset/{raw.slug}.json").json()
    freshness = {rule["rule"]: rule["reason"] for rule in after["rules"]}["freshness"]
    from core.moments import absolute

    assert after != before and f"Updated {absolute(seen)}" in freshness  # the site's one format (issue 17)


def test_a_sweep_that_finds_many_inputs_late_marks_everything_downstream_with_one_walk(
    client_for, outsider, owner, settings
):
    settings.SESSION_COOKIE_AGE = 31 * 24 * 3600  # the clock moves by a day: no idle sign-out
    for index in range(4):
        raw = factories.trusted_asset(owner, f"Input {index}")
        record_ping(factories.freshness_policy(raw), PingKind.SUCCESS, now=timezone.now() - timedelta(hours=1))
        factories.edge(raw, trusted_report(owner, f"Report {index}"))
    client = client_for(outsider)
    names = [*(f"Input {index}" for index in range(4)), *(f"Report {index}" for index in range(4))]
    assert [badges_shown(client)[name][0] for name in names] == ["Trusted"] * 8
    later = timezone.now() + timedelta(hours=23, minutes=30)
    with time_machine.travel(later), count_queries() as captured:
        evaluate_all(list(FreshnessPolicy.objects.all()), trigger=FreshnessCheck.Trigger.SWEEP)
    assert len(_walks(captured)) == 1
    # Stored as stale: the next list computes them again, even before their own deadline passes.
    assert StoredBadge.objects.filter(stale=True).count() == 8
    with time_machine.travel(later):
        shown = badges_shown(client)
    assert [shown[name][0] for name in names] == ["Use with caution"] * 8
    assert shown["Report 2"][1].startswith("Late: the last update is overdue. Held back by its input Input 2")


def test_a_certification_runs_out_by_the_date_alone_and_only_its_asset_changes(client, sales, owner):
    raw, _, policy = sales
    policy.period = timedelta(days=7)  # so that nothing but the certification changes in the next two days
    policy.save()
    expiry = timezone.localdate() + timedelta(days=1)
    Certification.certify(raw, by=owner, expires_on=expiry)
    assert level_shown(client, "Raw orders") == "Trusted"
    with time_machine.travel(timezone.make_aware(datetime.combine(expiry + timedelta(days=1), time(0, 1)))):
        shown = badges_shown(client)
    # Issue 15: an expired certification means nobody vouches for it now: Unknown, not "Use with caution".
    assert shown["Raw orders"] == ("Unknown", f"Not vouched for: its certification expired on {expiry:%d %b %Y}.")
    assert shown["Executive sales"][0] == "Trusted"


def test_a_deprecation_upstream_warns_downstream_and_its_retirement_forbids_it(client, sales, owner):
    raw, _, _ = sales
    sunset = timezone.localdate() + timedelta(days=30)
    Deprecation.propose(raw, by=owner, reason="Moving to v2.", sunset_date=sunset)
    shown = badges_shown(client)
    assert shown["Raw orders"][0] == "Use with caution"
    assert shown["Executive sales"] == ("Use with caution", "Uses a deprecated input: Raw orders.")
    assert Deprecation.retire_due(today=sunset) == 1
    assert badges_shown(client)["Executive sales"] == ("Do not use", "Uses a retired input: Raw orders.")


def test_lineage_added_or_removed_shows_on_the_next_list(client, sales, owner, outsider):
    _, report, _ = sales
    stores = factories.dataset("Stores", owner=owner)
    factories.data_issue(stores, outsider, severity="critical")
    add_edge(stores.asset, report, owner)
    assert level_shown(client, "Executive sales") == "Do not use"
    remove_edge(stores.asset, report, owner)
    assert level_shown(client, "Executive sales") == "Trusted"


def test_deleting_an_input_clears_its_problems_from_downstream_badges(client, sales, outsider):
    raw, _, _ = sales
    factories.data_issue(raw, outsider, severity="critical")
    assert level_shown(client, "Executive sales") == "Do not use"
    delete_asset(raw)
    # Gone with it: its issue and its freshness policy, the report's only checked input.
    # Issue 15: unchecked reads Unknown (not assessed) rather than "Use with caution".
    assert badges_shown(client)["Executive sales"] == (
        "Unknown",
        "Not assessed: no freshness policy is set, so nobody checks that it is up to date.",
    )


def test_an_edit_changes_its_own_badge_and_reaches_downstream_only_when_its_lifecycle_or_name_does(client, sales):
    raw, _, _ = sales
    raw.description = ""
    save_asset(raw, raw.dataset, raw.owner)
    shown = badges_shown(client)
    # Issue 15: undocumented reads Unknown (not assessed).
    assert shown["Raw orders"] == ("Unknown", "Not assessed: its documentation is missing a description.")
    assert shown["Executive sales"][0] == "Trusted"
    raw.lifecycle = Lifecycle.DEPRECATED
    save_asset(raw, raw.dataset, raw.owner)
    assert badges_shown(client)["Executive sales"] == ("Use with caution", "Uses a deprecated input: Raw orders.")
    raw.name = "Raw orders (old)"
    save_asset(raw, raw.dataset, raw.owner)
    assert badges_shown(client)["Executive sales"] == ("Use with caution", "Uses a deprecated input: Raw orders (old).")


def test_an_owner_who_leaves_turns_every_badge_they_held(client, owner):
    owner.is_active = False
    owner.save()
    shown = badges_shown(client)
    # Issue 15: nobody answering for it reads Unknown (not assessed).
    assert shown["Raw orders"][0] == shown["Executive sales"][0] == "Unknown"
    assert shown["Executive sales"][1] == "Not assessed: its owner, olivia, has left; nobody answers for it now."


def test_a_model_card_edit_shows_in_the_model_list(client_for, owner, outsider):
    model = factories.registered_model("Churn predictor", owner=owner, description="Who leaves.")
    client = client_for(outsider)

    def card_filled():
        reason = badges_shown(client, "/models/")["Churn predictor"][1]
        return int(re.search(r"\((\d+)% filled", reason).group(1))

    empty = card_filled()
    set_people(model, developers=[owner])
    with_developers = card_filled()
    register_version(model, created_by=owner, algorithm="Gradient boosting")
    assert empty < with_developers < card_filled()


@pytest.mark.django_db(transaction=True)
def test_opening_an_assets_page_has_the_worker_store_its_badge_for_the_lists(
    celery_worker, client_for, outsider, sales
):
    _, report, _ = sales
    # No row, as after installing: a stale one would be the refresher's (its own test is below), not the page's.
    StoredBadge.objects.all().delete()
    assert client_for(outsider).get(report.get_absolute_url()).status_code == 200  # computes it, stores nothing
    # The page asked the worker to store it; the worker takes tasks in order, so this one ends after that one.
    tasks.store_badges.delay([]).get(timeout=60)
    stored = StoredBadge.objects.get(asset=report)
    assert stored.level == TrustLevel.TRUSTED and stored.is_current(timezone.now())


def test_a_badge_computed_from_facts_an_event_changed_meanwhile_is_not_kept(sales, outsider):
    raw, _, _ = sales
    seen = StoredBadge.objects.filter(asset=raw).values_list("generation", flat=True).first() or 0
    badge = compute_badges([raw])[raw.pk]  # a page gathers the facts...
    factories.data_issue(raw, outsider, severity="critical")  # ...while someone reports a problem
    StoredBadge.store({raw.pk: (seen, badge.level, [], badge.expires_at)}, timezone.now())
    assert StoredBadge.objects.get(asset=raw).stale
    assert badges_for([raw])[raw.pk].level == TrustLevel.DO_NOT_USE
    assert StoredBadge.objects.get(asset=raw).is_current(timezone.now())


def test_two_refreshers_never_claim_the_same_stale_badges(owner):
    assets = [factories.dataset(f"Set {index}", owner=owner).asset for index in range(3)]
    StoredBadge.invalidate([asset.pk for asset in assets])
    first, second = StoredBadge.claim_stale(2), StoredBadge.claim_stale(2)
    assert len(first) == 2 and len(second) == 1 and not first.keys() & second.keys()
    assert StoredBadge.claim_stale(2) == {}
    # A refresher that died leaves its rows to the next one once the lease runs out.
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert StoredBadge.claim_stale(10).keys() == {asset.pk for asset in assets}


@pytest.mark.django_db(transaction=True)
def test_the_worker_recomputes_stale_badges_so_the_next_list_only_reads_them(celery_worker, owner, outsider):
    raw = factories.dataset("Raw orders", owner=owner)
    report = factories.report("Executive sales", owner=owner)
    factories.edge(raw, report)
    badges_for([raw.asset, report.asset])
    factories.data_issue(raw, outsider, severity="critical")  # marks both stale and, on commit, wakes the worker
    tasks.refresh_stale_badges.delay().get(timeout=60)
    stored = StoredBadge.objects.filter(asset__in=[raw.asset, report.asset])
    assert [(row.stale, row.level) for row in stored] == [(False, TrustLevel.DO_NOT_USE)] * 2
    with count_queries() as captured:
        badges = badges_for([raw.asset, report.asset])
    assert len(captured) == 1 and badges[report.pk].level == TrustLevel.DO_NOT_USE


def test_the_command_computes_every_badge_in_batches_and_says_how_far_it_got(owner):
    for index in range(3):
        factories.dataset(f"Set {index}", owner=owner)
    out = StringIO()
    call_command("refresh_badges", "--all", "--batch-size", "4", stdout=out)
    total = Asset.objects.count()
    assert f"4 of {total}" in out.getvalue() and f"Badges computed and stored: {total}." in out.getvalue()
    now = timezone.now()
    assert all(row.is_current(now) for row in StoredBadge.objects.all()) and StoredBadge.objects.count() == total


def test_the_command_without_all_recomputes_the_stale_badges(owner):
    orders = factories.dataset("Orders", owner=owner).asset
    StoredBadge.invalidate([orders.pk])
    out = StringIO()
    call_command("refresh_badges", stdout=out)
    assert "Badges computed and stored: 1." in out.getvalue()
    assert StoredBadge.objects.get(asset=orders).is_current(timezone.now())


def test_the_command_refuses_a_batch_size_below_one():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("refresh_badges", "--batch-size", "0")


def test_only_one_refresher_works_at_a_time_and_the_command_says_so(owner):
    orders = factories.dataset("Orders", owner=owner).asset
    StoredBadge.invalidate([orders.pk])
    other = connections.create_connection("default")  # another worker process, already refreshing
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [BADGE_REFRESHER])
        assert refresh_stale() is None
        with pytest.raises(CommandError, match="refresher is running now"):
            call_command("refresh_badges")
        assert StoredBadge.objects.get(asset=orders).stale
    finally:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [BADGE_REFRESHER])
        other.close()
    assert refresh_stale() == 1
    assert StoredBadge.objects.get(asset=orders).is_current(timezone.now())


def search_badges(client, query):
    """``{asset name: (badge label, its age as shown or None)}`` on the search page for ``query``."""
    page = client.get("/search/", {"q": query}).content.decode()
    shown = {}
    for row in page.split("<tr")[1:]:
        name = re.search(r'<a href="[^"]+">([^<]+)</a>', row)
        badge = re.search(r'data-testid="trust-badge">([^<]+)<', row)
        age = re.search(r'data-testid="badge-age">as of <time[^>]*>([^<]+)</time>', row)
        if name and badge:
            shown[html.unescape(name.group(1))] = (badge.group(1), age and html.unescape(age.group(1)))
    return shown


def test_search_serves_a_badge_whose_time_ran_out_with_its_age_and_leaves_the_recomputing_to_the_worker(
    client, sales, django_capture_on_commit_callbacks
):
    assert search_badges(client, "Executive sales")["Executive sales"] == ("Trusted", None)
    with time_machine.travel(timezone.now() + timedelta(hours=23, minutes=30)):
        # The freshness deadline upstream passed: both stored badges expired, and nothing marked them.
        with count_queries() as captured, django_capture_on_commit_callbacks() as callbacks:
            shown = search_badges(client, "Executive sales")
        assert shown["Executive sales"][0] == "Trusted" and "ago" in shown["Executive sales"][1]
        assert not _walks(captured), "search gathered a badge's facts in the request"
        assert len(callbacks) == 1  # the worker was asked to store it
        # The beat job recomputes what ran out; the next search shows it current, without an age.
        assert tasks.refresh_expired_badges() == 2
        assert search_badges(client, "Executive sales")["Executive sales"] == ("Use with caution", None)
        assert tasks.refresh_expired_badges() == 0


def test_search_computes_a_badge_never_stored_and_serves_a_stale_one_while_the_refresher_works(client, sales, outsider):
    raw, report, _ = sales
    StoredBadge.objects.filter(asset=report).delete()
    assert search_badges(client, "Executive sales")["Executive sales"] == ("Trusted", None)
    factories.data_issue(raw, outsider, severity="critical", title="Empty")  # marks both stale
    assert search_badges(client, "Executive sales")["Executive sales"][0] == "Trusted"
    assert search_badges(client, "Executive sales")["Executive sales"][1] is not None
    refresh_stale()
    assert search_badges(client, "Executive sales")["Executive sales"] == ("Do not use", None)
