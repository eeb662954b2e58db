"""The issue's "Done when" journeys in a real browser, with two sessions: a business user and an owner."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from catalog.models import Asset
from tests import factories
from tests.helpers import tell_deprecations
from trust import tasks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def second_session(page, sign_in):
    """``second_session(user)``: a page in its own browser context (its own cookies), closed after the test so
    its keep-alive connections do not hold server threads, and their database sessions, open."""
    contexts = []

    def open_as(user):
        contexts.append(page.context.browser.new_context())
        return sign_in(contexts[-1].new_page(), user)

    yield open_as
    for context in contexts:
        context.close()


def _badge(page):
    return page.locator('[data-testid="trust-panel"] [data-testid="trust-badge"]')


def test_a_business_user_reports_a_problem_and_the_owner_acknowledges_and_resolves_it(
    page, live_server, sign_in, second_session, page_errors, owner, team
):
    erin = factories.user("erin", first_name="Erin")
    sales = factories.trusted_asset(owner, "Daily sales", team=team)
    report = factories.report("Executive sales", owner=owner, team=team, description="Revenue for leadership.")
    report.audience = "Leadership team"
    report.save()
    factories.edge(sales, report)
    Asset.objects.filter(pk=report.pk).update(next_review_date=timezone.localdate() + timedelta(days=30))
    from trust.models import Certification

    Certification.certify(report.asset, by=owner, expires_on=timezone.localdate() + timedelta(days=30))
    factories.data_issue(sales, owner, severity="minor", title="November revenue rounding")
    # The nightly load of daily sales pinged its heartbeat an hour ago: the report is up to date through it.
    factories.freshness_policy(sales, last_seen_at=timezone.now() - timedelta(hours=1))

    # Erin opens the report and reads its badge and why.
    sign_in(page, erin)
    page.goto(f"{live_server.url}{report.asset.get_absolute_url()}")
    expect(_badge(page)).to_have_text("Trusted")
    page.get_by_text("Why this badge").click()
    why = page.get_by_test_id("why-this-badge")
    expect(why.locator('[data-rule="freshness"]')).to_contain_text(
        "Up to date. Its one checked input upstream is fresh."
    )
    expect(why.locator('[data-rule="owner"]')).to_contain_text("Owned by olivia")
    expect(why.locator('[data-rule="certification"]')).to_contain_text("Certified by its owner until")

    # She reports a problem.
    page.get_by_role("link", name="Report a problem").first.click()
    page.get_by_label("Title").fill("Revenue doubled on 3 November")
    # Before sending, an open upstream issue with the same words is offered, to comment on instead.
    expect(page.get_by_test_id("similar-issue")).to_contain_text("November revenue rounding")
    page.get_by_label("What is wrong").fill("Every order of 3 November appears twice.")
    page.get_by_label("Category").select_option("wrong_values")
    page.get_by_label("Severity").select_option("critical")
    page.get_by_role("button", name="Send to the owner").click()
    expect(page.get_by_test_id("issue-status")).to_have_text("Open")
    page.goto(f"{live_server.url}{report.asset.get_absolute_url()}")
    expect(_badge(page)).to_have_text("Do not use")
    expect(page.get_by_test_id("trust-summary")).to_have_text(
        "1 critical issue open on it (Revenue doubled on 3 November)."
    )

    # The owner, in a second session, finds it in the inbox, acknowledges and resolves it.
    owner_page = second_session(owner)
    owner_page.goto(f"{live_server.url}/")
    expect(owner_page.get_by_test_id("unread-count")).to_have_text("1")
    owner_page.get_by_role("link", name="Inbox").click()
    owner_page.get_by_role("link", name="New critical issue on Executive sales: Revenue doubled on 3 November").click()
    owner_page.get_by_label("Comment for the reporter (optional)").fill("Confirmed, the load ran twice.")
    owner_page.get_by_role("button", name="Acknowledged").click()
    expect(owner_page.get_by_test_id("issue-status")).to_have_text("Acknowledged")
    page.reload()
    expect(_badge(page)).to_have_text("Do not use")  # acknowledged is still open
    owner_page.get_by_role("button", name="Resolved").click()
    expect(owner_page.get_by_test_id("issue-status")).to_have_text("Resolved")
    page.reload()
    expect(_badge(page)).to_have_text("Trusted")

    # Erin was told at each change.
    page.get_by_role("link", name="Inbox").click()
    expect(page.get_by_test_id("notification")).to_have_count(2)
    expect(
        page.get_by_role("link", name="Executive sales: “Revenue doubled on 3 November” is now resolved")
    ).to_be_visible()
    expect(page.get_by_text("Confirmed, the load ran twice.")).to_be_visible()
    assert page_errors == []


def test_the_owner_deprecates_a_dataset_downstream_acknowledges_and_it_retires_at_sunset(
    page, live_server, sign_in, second_session, page_errors, owner, team
):
    bob = factories.user("bob", first_name="Bob")
    legacy = factories.dataset("Legacy orders", owner=owner, team=team, description="Old orders.")
    factories.dataset("Orders v2", owner=owner, team=team)
    dashboard = factories.report("Executive sales", owner=bob)
    factories.edge(legacy, dashboard)
    sunset = timezone.localdate() + timedelta(days=7)

    sign_in(page, owner)
    page.goto(f"{live_server.url}{legacy.asset.get_absolute_url()}")
    page.get_by_role("link", name="Propose deprecation").click()
    expect(page.get_by_text("Executive sales")).to_be_visible()  # who will be told
    page.get_by_label("Reason").fill("Orders v2 validates store orders too.")
    # Typed with suggestions (a catalog has too many datasets to list); a person picks the suggestion.
    page.get_by_label("Replacement").press_sequentially("Orders v")
    expect(page.locator("#id_replacement-suggestions option").first).to_have_attribute("value", "dataset/orders-v2")
    page.get_by_label("Replacement").fill("dataset/orders-v2")
    page.get_by_label("Sunset date").fill(sunset.isoformat())
    page.get_by_role("button", name="Deprecate and tell everyone").click()
    expect(page.get_by_test_id("deprecation-state")).to_have_text("Announced")
    expect(page.get_by_test_id("impact-executive-sales")).to_contain_text("Not yet")
    tell_deprecations()  # what the worker does after the commit (tests/trust/test_tasks.py: through a real one)

    # Bob, who owns the dashboard downstream, sees the banner and the notification, and acknowledges.
    bob_page = second_session(bob)
    bob_page.goto(f"{live_server.url}{dashboard.asset.get_absolute_url()}")
    banner = bob_page.get_by_test_id("deprecated-input-banner")
    expect(banner).to_contain_text("Uses a deprecated input: Legacy orders")
    expect(banner.get_by_role("link", name="Orders v2")).to_be_visible()
    expect(bob_page.locator('[data-testid="trust-panel"] [data-testid="trust-badge"]')).to_have_text("Use with caution")
    bob_page.get_by_role("link", name="Inbox").click()
    bob_page.get_by_role("link", name="Executive sales ← Legacy orders: deprecated, to be retired on").click()
    bob_page.get_by_label("Note for Executive sales").fill("Switched on Friday.")
    bob_page.get_by_role("button", name="We have moved").click()
    expect(bob_page.get_by_test_id("impact-executive-sales")).to_contain_text("Yes, bob")

    page.reload()
    expect(page.get_by_role("heading", name="Downstream: who has moved (1 of 1)")).to_be_visible()

    # The clock passes the sunset date; the daily sweep retires the dataset.
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert tasks.retire_due_deprecations() == 1
    page.goto(f"{live_server.url}{legacy.asset.get_absolute_url()}")
    expect(page.get_by_test_id("retired-banner")).to_contain_text("Retired.")
    expect(page.locator('[data-testid="trust-panel"] [data-testid="trust-badge"]')).to_have_text("Do not use")
    page.goto(f"{live_server.url}/search/?q=orders")
    expect(page.get_by_role("link", name="Orders v2")).to_be_visible()
    expect(page.get_by_role("link", name="Legacy orders")).to_have_count(0)
    assert page_errors == []
