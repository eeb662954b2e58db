import pytest
from playwright.sync_api import expect

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOP_LEVEL = ["Catalog", "Models", "Reports", "Issues", "Monitoring"]


def test_sign_in_then_visit_every_top_level_page_and_the_api_docs(page, live_server, page_errors):
    factories.user("bea", first_name="Bea")
    factories.dataset("Orders", owner=factories.user("olga"))
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    page.get_by_label("Username").fill("bea")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Data & model portal")).to_be_visible()
    for name in TOP_LEVEL:
        page.locator(".main-nav").get_by_role("link", name=name).click()
        expect(page.locator("h1")).to_be_visible()
        expect(page.locator(".main-nav a[aria-current=page]")).to_have_text(name)
    page.get_by_placeholder("Search datasets, reports, models…").first.fill("Orders")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Orders")).to_be_visible()
    page.get_by_role("link", name="API").click()
    # The first schema build walks every endpoint and takes seconds on a loaded machine.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Data & model portal API", timeout=30_000)
    assert page_errors == []


def test_the_layout_fits_a_phone(page, live_server, sign_in, page_errors):
    sign_in(page, factories.user("pia"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    assert page_errors == []
