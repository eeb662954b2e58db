"""Every main page: no serious or critical axe-core violation, usable 390 px wide, and a keyboard-only journey
(issue 17). axe-core comes from axe-playwright-python (pinned in requirements.txt, with axe-core's MPL-2.0 licence
in the package), injected by Playwright: the pages themselves load no script from elsewhere."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from mlops.models import ScoringSchedule
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def company(db):
    owner = factories.user("olivia", first_name="Olivia", last_name="Owens")
    sales = factories.trusted_asset(owner, "Daily sales")
    report = factories.report("Executive sales", owner=owner, description="Revenue for leadership.")
    factories.edge(sales, report)
    factories.freshness_policy(sales, last_seen_at=timezone.now() - timedelta(hours=3))
    dataset = factories.dataset("Orders", owner=owner, columns=[("order_id", "bigint")])
    model = factories.registered_model("Churn", owner=owner)
    factories.model_version(model, version=1)
    ScoringSchedule.objects.create(model=model, dataset=dataset, id_column="order_id", created_by=owner)
    return {"owner": owner, "report": report.asset, "dataset": dataset.asset, "model": model}


def main_pages(company):
    report, dataset, model = company["report"], company["dataset"], company["model"]
    return [
        "/",
        "/catalog/",
        "/catalog/reports/",
        report.get_absolute_url(),
        f"{report.get_absolute_url()}history/",
        f"{report.get_absolute_url()}issues/",
        dataset.get_absolute_url(),
        f"{dataset.get_absolute_url()}columns/",
        f"{dataset.get_absolute_url()}lineage/",
        "/models/",
        f"/models/{model.asset.slug}/",
        f"/models/{model.asset.slug}/versions/",
        f"/models/{model.asset.slug}/versions/1/",
        f"/models/{model.asset.slug}/card/edit/",  # the one card editor, with the facts beside the prose
        f"/mlops/{model.asset.slug}/",  # monitoring, with its typed dataset fields and scoring schedules
        "/issues/",
        "/monitoring/",
        "/inbox/",
        "/accounts/profile/",
        "/search/?q=orders",
        "/glossary/",
    ]


def test_no_serious_or_critical_violation_on_any_main_page(page, live_server, sign_in, company):
    sign_in(page, company["owner"])
    axe = Axe()
    found = {}
    for path in main_pages(company):
        page.goto(f"{live_server.url}{path}")
        results = axe.run(page)
        serious = [
            f"{rule['id']} ({rule['impact']}): {rule['help']} — {rule['nodes'][0]['target']}"
            for rule in results.response["violations"]
            if rule["impact"] in ("serious", "critical")
        ]
        if serious:
            found[path] = serious
    assert found == {}


def test_every_main_page_fits_390_pixels_without_sideways_scrolling(page, live_server, sign_in, company):
    sign_in(page, company["owner"])
    page.set_viewport_size({"width": 390, "height": 844})
    too_wide = {}
    for path in main_pages(company):
        page.goto(f"{live_server.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            too_wide[path] = width
    assert too_wide == {}


def test_a_reader_reads_when_a_report_was_last_updated_and_what_its_terms_mean_without_leaving_it(
    page, live_server, sign_in, company
):
    from glossary.models import Term

    term = Term.objects.create(
        name="Net revenue", definition="Revenue after **refunds** and discounts.", owner=company["owner"]
    )
    term.assets.add(company["report"])
    sign_in(page, factories.user("erin"))
    url = f"{live_server.url}{company['report'].get_absolute_url()}"
    page.goto(url)
    words = page.get_by_test_id("freshness-words")
    expect(words).to_contain_text("Updated 3 h ago")
    expect(words).to_contain_text("checked by Heartbeat")
    # The exact time is on hover, in the viewer's time zone.
    assert "UTC" in words.locator("time").first.get_attribute("title")
    expect(page.get_by_role("link", name="Open the dashboard")).to_have_count(0)  # no dashboard address recorded

    # The glossary term's definition shows on hover, and on keyboard focus, on the report's own page.
    terms = page.get_by_test_id("asset-terms")
    definition = terms.get_by_role("tooltip")
    expect(definition).to_be_hidden()
    terms.get_by_role("link", name="Net revenue").hover()
    expect(definition).to_be_visible()
    expect(definition).to_have_text("Revenue after refunds and discounts.")
    page.mouse.move(0, 0)
    expect(definition).to_be_hidden()
    terms.get_by_role("link", name="Net revenue").focus()
    expect(definition).to_be_visible()
    assert page.url == url


def test_a_keyboard_only_reader_files_a_problem_report(page, live_server, sign_in, company):
    sign_in(page, factories.user("erin"))
    page.goto(f"{live_server.url}{company['dataset'].get_absolute_url()}")
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Report a problem":
            break
    else:
        pytest.fail("Tab never reached “Report a problem”")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Report a problem")
    page.get_by_label("Title").focus()
    page.keyboard.type("Orders from yesterday are missing")
    page.keyboard.press("Tab")
    page.keyboard.type("The table stops at 23:00.")
    page.get_by_label("What is wrong").focus()
    page.keyboard.type("The table stops at 23:00.")
    for label in ("Category", "Severity"):
        page.get_by_label(label).focus()
        page.keyboard.press("ArrowDown")
    page.get_by_role("button", name="Send to the owner").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("issue-status")).to_have_text("Open")
