"""What the trust panel adds to every asset page, and the owner's actions behind it."""

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from catalog.models import Watch
from tests import factories
from tests.helpers import count_queries
from trust.models import Certification, Deprecation, Review

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(owner, team):
    return factories.dataset("Orders", owner=owner, team=team, deprecation_conditions="When **v2** covers stores.")


def test_every_asset_page_shows_the_badge_its_reasons_and_the_actions(orders, outsider, client_for):
    page = client_for(outsider).get(orders.asset.get_absolute_url()).content.decode()
    assert 'data-testid="trust-badge"' in page and "Why this badge" in page
    # Issue 15: a certification is optional; nothing vouching for it (no review scheduled) reads "not assessed".
    assert "Not assessed: no review is scheduled." in page
    assert "Report a problem" in page and ">Watch<" in page
    assert "Propose deprecation" not in page and "Mark reviewed" not in page and ">Certify<" not in page
    # Deprecation conditions recorded in advance are shown (as Markdown).
    assert "When <strong>v2</strong> covers stores." in page


def test_the_owner_sees_the_owner_actions(orders, owner, client_for):
    page = client_for(owner).get(orders.asset.get_absolute_url()).content.decode()
    assert "Propose deprecation" in page and "Mark reviewed" in page and ">Certify<" in page


def test_the_model_page_carries_the_panel_too(owner, outsider, client_for):
    model = factories.registered_model("Churn predictor", owner=owner)
    page = client_for(outsider).get(f"/models/{model.asset.slug}/").content.decode()
    assert 'data-testid="trust-panel"' in page and "a complete model card (" in page


def test_the_panel_costs_the_same_queries_whatever_the_lineage(owner, outsider, client_for):
    def queries(width):
        report = factories.report(f"Report {width}", owner=owner)
        for index in range(width):
            upstream = factories.dataset(f"Input {width} {index}", owner=owner)
            factories.edge(upstream, report)
            factories.data_issue(upstream, outsider, severity="major")
        client = client_for(outsider)
        with count_queries() as captured:
            assert client.get(report.asset.get_absolute_url()).status_code == 200
        return len(captured)

    assert queries(1) == queries(15)


def test_a_downstream_page_shows_uses_a_deprecated_input_and_upstream_issues(orders, owner, outsider, client_for):
    bob = factories.user("bob")
    dashboard = factories.report("Executive sales", owner=bob)
    factories.edge(orders, dashboard)
    replacement = factories.dataset("Orders v2", owner=owner)
    Deprecation.propose(
        orders.asset,
        by=owner,
        reason="Stores move to v2.",
        sunset_date=timezone.localdate() + timedelta(days=30),
        replacement=replacement.asset,
    )
    factories.data_issue(orders, outsider, severity="critical", title="Empty since Monday")
    page = client_for(bob).get(dashboard.asset.get_absolute_url()).content.decode()
    assert "Uses a deprecated input:" in page and "Orders v2" in page
    assert "upstream issue" in page and "Empty since Monday" in page
    assert "acknowledge on the deprecation page" in page
    own = client_for(outsider).get(orders.asset.get_absolute_url()).content.decode()
    assert "Deprecated: it will be retired on" in own and "Stores move to v2." in own


def test_watch_and_unwatch(orders, outsider, client_for):
    client = client_for(outsider)
    url = f"/assets/dataset/{orders.asset.slug}/"
    response = client.post(f"{url}watch/", {"next": orders.asset.get_absolute_url()})
    assert response.status_code == 302 and response["Location"] == orders.asset.get_absolute_url()
    assert Watch.objects.filter(user=outsider, asset=orders.asset).count() == 1
    client.post(f"{url}watch/")
    assert Watch.objects.filter(user=outsider, asset=orders.asset).count() == 1
    assert ">Unwatch<" in client.get(orders.asset.get_absolute_url()).content.decode()
    client.post(f"{url}unwatch/", {"next": "https://evil.example.com/"})
    assert not Watch.objects.filter(user=outsider).exists()
    assert client.get(f"{url}watch/").status_code == 405


@time_machine.travel("2026-11-02 09:00Z", tick=False)
def test_mark_reviewed_records_who_and_sets_the_next_date(orders, owner, outsider, client_for):
    url = f"/assets/dataset/{orders.asset.slug}/review/"
    assert client_for(outsider).post(url, {"interval_days": 30}).status_code == 403
    assert not Review.objects.exists()
    bad = client_for(owner).post(url, {"interval_days": 0})
    assert bad.status_code == 200 and "greater than or equal to 1" in bad.content.decode()
    client_for(owner).post(url, {"interval_days": 30, "comment": "Checked against the ERP."})
    review = Review.objects.get()
    orders.asset.refresh_from_db()
    assert (review.reviewed_by, review.comment) == (owner, "Checked against the ERP.")
    assert orders.asset.next_review_date == review.next_review_date == date(2026, 12, 2)
    assert orders.asset.review_interval_days == 30


def test_only_the_owner_certifies_and_not_in_the_past(orders, owner, teammate, client_for):
    url = f"/assets/dataset/{orders.asset.slug}/certify/"
    assert client_for(teammate).post(url, {"expires_on": "2099-01-01"}).status_code == 403
    past = client_for(owner).post(url, {"expires_on": "2020-01-01"})
    assert past.status_code == 200 and "must be in the future" in past.content.decode()
    assert not Certification.objects.exists()
    soon = (timezone.localdate() + timedelta(days=60)).isoformat()
    client_for(owner).post(url, {"expires_on": soon, "statement": "Reconciled with Finance."})
    assert Certification.objects.get().certified_by == owner


def test_proposing_deprecation_from_its_page(orders, owner, outsider, client_for):
    url = f"/assets/dataset/{orders.asset.slug}/deprecate/"
    assert client_for(outsider).get(url).status_code == 403
    downstream = factories.report("Sales", owner=owner)
    factories.edge(orders, downstream)
    form = client_for(owner).get(url).content.decode()
    assert "Sales" in form and "When v2 covers stores." in form.replace("**", "")
    bad = client_for(owner).post(url, {"reason": "", "sunset_date": "2020-01-01"})
    assert bad.status_code == 400
    assert set(bad.context["form"].errors) == {"reason", "sunset_date"}
    sunset = (timezone.localdate() + timedelta(days=30)).isoformat()
    response = client_for(owner).post(url, {"reason": "Use v2.", "sunset_date": sunset})
    deprecation = Deprecation.objects.get()
    assert response["Location"] == deprecation.get_absolute_url()
    detail = client_for(owner).get(deprecation.get_absolute_url()).content.decode()
    assert "who has moved (0 of 1)" in detail and "Withdraw the deprecation" in detail


def test_the_deprecation_page_shows_who_has_and_has_not_acknowledged(orders, owner, client_for):
    bob, carol = factories.user("bob"), factories.user("carol")
    sales = factories.report("Sales", owner=bob).asset
    web = factories.report("Web funnel", owner=carol).asset
    factories.edge(orders, sales)
    factories.edge(orders, web)
    deprecation = Deprecation.propose(
        orders.asset, by=owner, reason="Use v2.", sunset_date=timezone.localdate() + timedelta(days=9)
    )
    acknowledge = f"{deprecation.get_absolute_url()}acknowledge/report/{sales.slug}/"
    assert client_for(carol).post(acknowledge).status_code == 403
    assert deprecation.impacts.get(asset=sales).acknowledged_at is None
    client_for(bob).post(acknowledge, {"note": "Done."})
    page = client_for(carol).get(deprecation.get_absolute_url()).content.decode()
    assert "who has moved (1 of 2)" in page and "Not yet" not in page  # Carol sees her own button instead
    assert "We have moved" in page
    assert "Not yet" in client_for(owner).get(deprecation.get_absolute_url()).content.decode()


def test_withdrawing_from_the_page(orders, owner, outsider, client_for):
    deprecation = Deprecation.propose(
        orders.asset, by=owner, reason="Use v2.", sunset_date=timezone.localdate() + timedelta(days=9)
    )
    assert client_for(outsider).post(f"{deprecation.get_absolute_url()}withdraw/").status_code == 403
    client_for(owner).post(f"{deprecation.get_absolute_url()}withdraw/")
    deprecation.refresh_from_db()
    assert deprecation.state == "withdrawn"


def test_the_help_page_lists_every_rule_from_the_rule_definitions(outsider, client_for):
    from django.utils.html import escape

    from trust.rules import RULES

    page = client_for(outsider).get("/help/trust/").content.decode()
    for rule in RULES:
        assert escape(rule.title) in page and escape(rule.explanation) in page


def test_owners_record_deprecation_conditions_in_advance_and_outsiders_cannot(orders, owner, outsider, client_for):
    url = f"/assets/dataset/{orders.asset.slug}/deprecation-conditions/"
    assert client_for(outsider).post(url, {"deprecation_conditions": "Never."}).status_code == 403
    orders.asset.refresh_from_db()
    assert orders.asset.deprecation_conditions == "When **v2** covers stores."
    client_for(owner).post(url, {"deprecation_conditions": "If nobody reads it for 90 days."})
    page = client_for(outsider).get(orders.asset.get_absolute_url()).content.decode()
    assert "If nobody reads it for 90 days." in page


# --- the badge on an asset page: read, never written ---------------------------------------------------------------
def _writes(captured):
    return [q["sql"] for q in captured if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


def _level_on_page(page):
    return page.split('data-testid="trust-badge">', 1)[1].split("<", 1)[0]


def test_a_missing_badge_is_computed_for_the_page_and_stored_by_the_worker(
    orders, outsider, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    from trust import badges, tasks
    from trust.models import StoredBadge

    asked = []
    monkeypatch.setattr(badges, "_store_later", asked.append)
    StoredBadge.objects.all().delete()  # as after installing, or for an asset bulk-loaded: no row, and no event
    client = client_for(outsider)
    with django_capture_on_commit_callbacks(execute=True), count_queries() as captured:
        page = client.get(orders.asset.get_absolute_url()).content.decode()
    # Issue 15: the level of an asset nobody reviews nor checks is Unknown (it was "Use with caution").
    assert _level_on_page(page) == "Unknown" and not _writes(captured)
    assert not StoredBadge.objects.exists() and asked == [[orders.asset.pk]]
    tasks.store_badges(asked[0])  # what the worker does with the page's request
    assert StoredBadge.objects.get().level == "unknown"
    with django_capture_on_commit_callbacks(execute=True), count_queries() as again:
        assert _level_on_page(client.get(orders.asset.get_absolute_url()).content.decode()) == "Unknown"
    # Now read from the stored row: no facts gathered (their "certified_until" subquery), nothing asked of the worker.
    assert len(again) < len(captured) and not [q for q in again if "certified_until" in q["sql"]]
    assert asked == [[orders.asset.pk]]


def test_a_stale_badge_shows_the_news_at_once_and_is_left_to_the_refresher(
    orders, owner, outsider, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    from trust import badges
    from trust.badges import badges_for, refresh_stale
    from trust.models import StoredBadge

    asked = []
    monkeypatch.setattr(badges, "_store_later", asked.append)
    raw = factories.dataset("Raw orders", owner=owner)
    factories.edge(raw, orders)
    badges_for([orders.asset])
    factories.data_issue(raw, outsider, severity="critical", title="Empty since Monday")  # marks it stale
    client = client_for(outsider)
    with django_capture_on_commit_callbacks(execute=True), count_queries() as captured:
        page = client.get(orders.asset.get_absolute_url()).content.decode()
    assert _level_on_page(page) == "Do not use" and not _writes(captured)
    assert StoredBadge.objects.get(asset=orders.asset).stale and asked == []  # the event already woke the refresher
    refresh_stale()
    stored = StoredBadge.objects.get(asset=orders.asset)
    assert (stored.stale, stored.level) == (False, "do_not_use")


def _why_lines(page):
    """The lines under "Why this badge", each with the words before its rule's title."""
    rules = page.split('class="trust-rules"', 1)[1].split("</ul>", 1)[0]
    return {
        line.split('data-rule="', 1)[1].split('"', 1)[0]: line.split('class="trust-mark', 1)[1].split("</span>", 1)[0]
        for line in rules.split("<li")[1:]
    }


def test_each_rule_of_a_trusted_report_says_what_it_found_in_its_own_words(owner, team, outsider, client_for):
    """Issue 17: the badge says "Trusted" once; each rule's line says what that rule saw."""
    sales = factories.trusted_asset(owner, "Daily sales", team=team)
    factories.freshness_policy(sales, last_seen_at=timezone.now() - timedelta(hours=1))
    report = factories.report("Executive sales", owner=owner, team=team, description="Revenue for leadership.")
    report.audience = "Leadership team"
    report.save()
    factories.edge(sales, report)
    report.asset.__class__.objects.filter(pk=report.pk).update(next_review_date=timezone.localdate() + timedelta(30))
    Certification.certify(report.asset, by=owner, expires_on=timezone.localdate() + timedelta(days=30))

    page = client_for(outsider).get(report.asset.get_absolute_url()).content.decode()

    assert ">Trusted<" in page.split('data-testid="trust-summary"', 1)[0]  # the badge itself
    lines = _why_lines(page)
    assert "Inputs upstream fresh" in lines["freshness"]
    assert "No serious issues open" in lines["issues"]
    assert "Owner assigned" in lines["owner"]
    assert "Reviewed on schedule" in lines["review"] and "Certified" in lines["certification"]
    assert not [rule for rule, words in lines.items() if "Trusted" in words]


def test_a_model_in_use_reads_validation_passed(owner, teammate, outsider, client_for):
    from registry.choices import Stage
    from registry.services import request_promotion
    from tests.registry.helpers import model_with_card, tick_everything

    model, version = model_with_card(owner)
    version.change_stage(Stage.STAGING, owner)
    tick_everything(version, owner)
    request_promotion(model, version, owner).approve(teammate)

    lines = _why_lines(client_for(outsider).get(f"/models/{model.asset.slug}/").content.decode())
    assert "Validation passed" in lines["validation"]
    assert not [rule for rule, words in lines.items() if "Trusted" in words]


def test_the_deprecation_form_types_the_replacement_instead_of_listing_every_asset(orders, owner, client_for):
    """At full scale a dataset's deprecation form listed 100,000 active datasets as options."""
    factories.dataset("Orders v2", owner=owner)
    retired = factories.dataset("Orders v0", owner=owner, lifecycle="retired")
    url = f"/assets/dataset/{orders.asset.slug}/deprecate/"
    client = client_for(owner)
    page = client.get(url).content.decode()
    assert "Orders v2" not in page and 'name="replacement"' in page
    sunset = (timezone.localdate() + timedelta(days=7)).isoformat()
    for typed, said in [
        ("Orders v9", "No dataset called “Orders v9”"),
        (f"dataset/{orders.asset.slug}", "An asset cannot replace itself."),
        (f"dataset/{retired.asset.slug}", "No dataset called"),  # retired assets are not offered
    ]:
        response = client.post(url, {"reason": "Moved.", "replacement": typed, "sunset_date": sunset})
        assert response.status_code == 400 and said in response.content.decode()
        assert typed in response.content.decode()  # what was typed stays
        assert not Deprecation.objects.exists()
    client.post(url, {"reason": "Moved.", "replacement": "orders v2", "sunset_date": sunset})
    assert Deprecation.objects.get().replacement.name == "Orders v2"
