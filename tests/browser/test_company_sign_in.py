"""Company sign-in in Debian's Chromium, through the real OpenID Connect provider (tests/oidc.py): a person clicks
"Sign in with …", fills the provider's form, allows the portal, lands back signed in with the teams their groups
give, and signing out ends the provider's session too."""

import pytest
from playwright.sync_api import expect

from accounts.models import GroupMapping
from tests import factories
from tests.oidc import PASSWORD, configure_portal, start_provider, stop_provider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="session")
def live_oidc_provider(live_server, tmp_path_factory):
    """A provider that knows the live server's address as the portal's redirect URI."""
    provider = start_provider(tmp_path_factory.mktemp("oidc-live"), [live_server.url])
    yield provider
    stop_provider(provider)


def test_sign_in_with_the_company_lands_back_with_the_right_teams(page, live_server, live_oidc_provider, settings):
    configure_portal(settings, live_oidc_provider)
    GroupMapping.objects.create(group="data-engineering", team=factories.team("Data Engineering"))
    GroupMapping.objects.create(group="marketing", team=factories.team("Marketing"))
    failed = []
    page.on("response", lambda r: r.status >= 400 and r.url.startswith(live_server.url) and failed.append(r.url))

    page.goto(f"{live_server.url}/accounts/profile/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/accounts/profile/")
    page.get_by_role("link", name="Sign in with Test Company").click()

    expect(page.get_by_role("heading", name="Sign in to the test company")).to_be_visible()
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Allow Data portal?")).to_be_visible()
    page.get_by_role("button", name="Allow").click()

    expect(page).to_have_url(f"{live_server.url}/accounts/profile/")
    expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    teams = page.locator(".pill")
    expect(teams).to_have_text(["Data Engineering"])

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign out of the test company")).to_be_visible()
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("link", name="Sign in with Test Company")).to_be_visible()
    # Signed out at the provider too: the next company sign-in asks for the password again.
    page.get_by_role("link", name="Sign in with Test Company").click()
    expect(page.get_by_label("Password")).to_be_visible()
    assert failed == []


def test_refusing_consent_in_the_browser_shows_a_plain_page(page, live_server, live_oidc_provider, settings):
    configure_portal(settings, live_oidc_provider)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Sign in with Test Company").click()
    page.get_by_label("Username").fill("max")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_role("heading", name="Sign-in did not work")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("You did not allow the portal")
    page.get_by_role("link", name="Back to the sign-in page").click()
    expect(page.get_by_role("link", name="Sign in with Test Company")).to_be_visible()
