import pytest
from playwright.sync_api import expect

from catalog.models import Asset
from catalog.search import reindex
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_find_a_dataset_follow_lineage_to_a_report_and_see_its_owner(page, live_server, sign_in, page_errors):
    analyst = factories.user("ana")
    orders = factories.dataset("Orders", owner=factories.user("olga"), columns=[("order_id", "bigint")])
    daily = factories.dataset("Daily sales", owner=factories.user("dan"))
    report = factories.report(
        "Executive sales dashboard", owner=factories.user("rita", first_name="Rita", last_name="Reyes")
    )
    factories.edge(orders, daily)
    factories.edge(daily, report)
    reindex(Asset.objects.values_list("pk", flat=True))
    sign_in(page, analyst)
    page.goto(f"{live_server.url}/")
    page.get_by_placeholder("Search datasets, reports, models…").first.fill("orders")
    page.keyboard.press("Enter")
    page.get_by_test_id("results").get_by_role("link", name="Orders", exact=True).click()
    expect(page.locator("h1")).to_contain_text("Orders")
    # The Lineage tab, a link under the header (issue 17), has the graph and the impact table.
    page.get_by_role("navigation", name="Sections of Orders").get_by_role("link", name="Lineage").click()
    expect(page.get_by_test_id("impact")).to_contain_text("Executive sales dashboard")
    page.get_by_test_id("node-executive-sales-dashboard").click()
    expect(page.locator("h1")).to_contain_text("Executive sales dashboard")
    expect(page.get_by_test_id("owner")).to_contain_text("Rita Reyes")
    assert page_errors == []


def test_an_owner_edits_a_description_and_sees_it_rendered(page, live_server, sign_in, page_errors):
    owner = factories.user("olga")
    factories.dataset("Orders", owner=owner)
    sign_in(page, owner)
    page.goto(f"{live_server.url}/catalog/dataset/orders/")
    page.get_by_text("More actions").click()  # the actions other than the primary one are in a menu (issue 17)
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Description").fill("All **validated** orders.\n\n<script>window.hacked = 1</script>")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_test_id("description").locator("strong")).to_have_text("validated")
    assert page.evaluate("window.hacked") is None
    page.get_by_role("link", name="History", exact=True).click()
    expect(page.get_by_test_id("history")).to_contain_text("by olga")
    assert page_errors == []


def test_an_owner_adds_lineage_by_typing_a_name_and_picking_the_suggestion(page, live_server, sign_in, page_errors):
    owner = factories.user("olga")
    factories.dataset("Orders", owner=owner)
    rita = factories.user("rita")
    factories.report("Sales dashboard", owner=rita)
    factories.report("Stock dashboard", owner=rita)
    sign_in(page, owner)
    page.goto(f"{live_server.url}/catalog/dataset/orders/lineage/")  # the Lineage tab (issue 17)
    page.get_by_text("Add lineage by hand").click()
    field = page.get_by_label("Asset", exact=True)
    field.press_sequentially("sales d")
    suggestion = page.locator("#lineage-candidates option")
    expect(suggestion).to_have_count(1)
    assert suggestion.text_content() == "Report: Sales dashboard"
    # What choosing the suggestion puts in the field; the field asks for suggestions again, and a click on Add
    # before the answer came would cancel that request (a failed request, which the test counts as an error).
    with page.expect_response(
        lambda response: "/catalog/suggest/" in response.url and "sales-dashboard" in response.url
    ):
        field.fill(suggestion.get_attribute("value"))
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("Lineage added.")).to_be_visible()
    expect(page.get_by_test_id("downstream")).to_contain_text("Sales dashboard")
    assert page_errors == []
