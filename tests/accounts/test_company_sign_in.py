"""Company sign-in through a real OpenID Connect provider (node's oidc-provider, started by tests/oidc.py): the
authorization-code flow with PKCE, groups mapped to teams and staff, and every refusal an attacker would try."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiToken, GroupMapping, OidcIdentity
from tests import factories
from tests.oidc import CompanyBrowser, free_port

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def mapped_teams(db):
    engineering = factories.team("Data Engineering")
    finance = factories.team("Finance Analytics")
    GroupMapping.objects.create(group="data-engineering", team=engineering)
    GroupMapping.objects.create(group="finance-analysts", team=finance)
    return engineering, finance


def signed_in_user(client):
    response = client.get("/api/v1/me/")
    return response.json()["username"] if response.status_code == 200 else None


def team_names(user):
    return sorted(user.teams.values_list("name", flat=True))


# --- it works ------------------------------------------------------------------------------------------------------
def test_the_sign_in_page_offers_the_company_first(client, oidc):
    page = client.get(reverse("accounts:login")).content.decode()
    assert "Sign in with Test Company" in page
    assert page.index("Sign in with Test Company") < page.index('name="password"')


def test_without_configuration_the_page_has_only_the_password_form(client):
    page = client.get(reverse("accounts:login")).content.decode()
    assert "Sign in with" not in page
    assert 'name="password"' in page
    response = client.get(reverse("accounts:oidc_start"))
    assert response.status_code == 404
    assert "not configured" in response.content.decode()


def test_first_sign_in_creates_the_person_with_their_teams(client, oidc, mapped_teams):
    response = CompanyBrowser(oidc, client).sign_in("ada")
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    ada = User.objects.get(oidc_identities__subject="0001-ada")
    assert signed_in_user(client) == ada.username == "ada"
    assert (ada.email, ada.first_name, ada.last_name) == ("ada@corp.example", "Ada", "Lovelace")
    assert team_names(ada) == ["Data Engineering", "Finance Analytics"]
    assert not ada.is_staff
    assert not ada.has_usable_password()
    identity = ada.oidc_identities.get()
    assert identity.issuer == oidc.issuer


def test_the_flow_uses_pkce_state_and_nonce(client, oidc):
    start = client.get(reverse("accounts:oidc_start"))
    query = parse_qs(urlsplit(start["Location"]).query)
    assert start["Location"].startswith(f"{oidc.issuer}/auth?")
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"][0] and query["nonce"][0]
    assert query["redirect_uri"] == ["http://testserver/accounts/oidc/callback/"]
    assert set(query["scope"][0].split()) >= {"openid", "email", "profile", "groups"}


def test_the_next_page_is_kept_through_the_provider(client, oidc):
    response = CompanyBrowser(oidc, client).sign_in("ada", next_url="/catalog/")
    assert response["Location"] == "/catalog/"


def test_the_next_page_never_leaves_the_portal(client, oidc):
    response = CompanyBrowser(oidc, client).sign_in("ada", next_url="https://evil.example/")
    assert response["Location"] == reverse("home")


def test_a_staff_group_makes_staff_and_leaving_it_takes_staff_away(client, oidc):
    CompanyBrowser(oidc, client).sign_in("max")
    max_ = User.objects.get(username="max")
    assert max_.is_staff and max_.is_superuser
    oidc.set_groups("max", ["data-engineering"])
    CompanyBrowser(oidc, Client()).sign_in("max")
    max_.refresh_from_db()
    assert not max_.is_staff and not max_.is_superuser


def test_a_mapping_edited_by_staff_can_give_staff_too(client, oidc, settings):
    settings.OIDC_STAFF_GROUPS = []
    GroupMapping.objects.create(group="finance-analysts", is_staff=True)
    CompanyBrowser(oidc, client).sign_in("ada")
    assert User.objects.get(username="ada").is_staff


def test_someone_removed_from_a_group_loses_the_team_at_the_next_sign_in(client, oidc, mapped_teams):
    CompanyBrowser(oidc, client).sign_in("ada")
    ada = User.objects.get(username="ada")
    assert team_names(ada) == ["Data Engineering", "Finance Analytics"]
    # A team no group maps to is the portal's own business: company sign-in leaves it alone.
    local = factories.team("Local Reviewers")
    local.members.add(ada)

    oidc.set_groups("ada", ["data-engineering"])
    client = Client()
    CompanyBrowser(oidc, client).sign_in("ada")
    assert signed_in_user(client) == "ada"
    assert team_names(ada) == ["Data Engineering", "Local Reviewers"]
    # Same person, same account: matched by issuer and subject, not created again.
    assert User.objects.filter(oidc_identities__subject="0001-ada").count() == 1


def test_a_local_account_is_linked_only_through_a_verified_address(client, oidc, owner):
    assert owner.email == "olivia@example.com"
    response = CompanyBrowser(oidc, client).sign_in("olivia")
    assert response.status_code == 302
    assert signed_in_user(client) == "olivia"
    assert owner.oidc_identities.get().subject == "0004-olivia"


def test_linking_by_address_can_be_turned_off(client, oidc, owner, settings):
    settings.OIDC_LINK_BY_EMAIL = False
    response = CompanyBrowser(oidc, client).sign_in("olivia")
    assert response.status_code == 403
    assert "links accounts only by hand" in response.content.decode()
    assert not owner.oidc_identities.exists()
    # Staff link it by hand; the next sign-in finds the account through the identity.
    OidcIdentity.objects.create(user=owner, issuer=oidc.issuer, subject="0004-olivia")
    CompanyBrowser(oidc, client).sign_in("olivia")
    assert signed_in_user(client) == "olivia"


def test_api_tokens_keep_working_with_company_sign_in(oidc, owner):
    _, key = ApiToken.issue(owner, "ci")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/v1/me/").json()["username"] == "olivia"


def test_the_password_form_stays_for_the_demo_and_staff_can_turn_it_off(client, oidc, owner, settings):
    form = {"username": "olivia", "password": factories.PASSWORD}
    assert client.post(reverse("accounts:login"), form).status_code == 302
    settings.PASSWORD_SIGN_IN = False
    other = Client()
    response = other.post(reverse("accounts:login"), form)
    assert response.status_code == 200
    assert signed_in_user(other) is None
    page = other.get(reverse("accounts:login")).content.decode()
    assert "Sign in with Test Company" in page and 'name="password"' not in page
    # The admin's own sign-in form is refused too, and its page sends staff to the portal's.
    other.post("/admin/login/", form)
    assert signed_in_user(other) is None
    response = other.get("/admin/")
    assert response.status_code == 302
    response = other.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"
    # People already signed in stay signed in.
    assert signed_in_user(client) == "olivia"


def test_signing_out_ends_the_provider_session_too(client, oidc):
    browser = CompanyBrowser(oidc, client)
    browser.sign_in("ada")
    response = client.post(reverse("accounts:logout"))
    assert signed_in_user(client) is None
    assert response.status_code == 302
    end = urlsplit(response["Location"])
    assert f"{end.scheme}://{end.netloc}{end.path}" == f"{oidc.issuer}/session/end"
    query = parse_qs(end.query)
    assert query["post_logout_redirect_uri"] == ["http://testserver/accounts/login/"]
    # The provider asks; the person confirms; the provider's session is gone and it sends them back to sign-in.
    page = browser.session.get(response["Location"], timeout=10)
    assert "Yes, sign me out" in page.text
    xsrf = __import__("re").search(r'name="xsrf" value="([^"]+)"', page.text).group(1)
    back = browser.session.post(
        f"{oidc.issuer}/session/end/confirm", data={"xsrf": xsrf, "logout": "yes"}, allow_redirects=False, timeout=10
    )
    assert back.headers["Location"].startswith("http://testserver/accounts/login/")
    # The next "Sign in with …" asks for the password again: the provider no longer knows the person.
    start = client.get(reverse("accounts:oidc_start"))
    assert 'name="password"' in browser.session.get(start["Location"], timeout=10).text


def test_a_password_sign_out_goes_to_the_sign_in_page(client_for, owner, oidc):
    response = client_for(owner).post(reverse("accounts:logout"))
    assert response["Location"] == reverse("accounts:login")


# --- refusals --------------------------------------------------------------------------------------------------------
def test_an_unverified_address_does_not_take_over_a_local_account(client, oidc, owner, mapped_teams):
    """eve's company account says olivia@example.com without the provider having checked it."""
    response = CompanyBrowser(oidc, client).sign_in("eve")
    assert response.status_code == 403
    page = response.content.decode()
    assert "Sign-in did not work" in page and "not say that this address is verified" in page
    assert signed_in_user(client) is None
    assert not OidcIdentity.objects.exists()
    assert User.objects.filter(email__iexact="olivia@example.com").count() == 1
    # And olivia's username is not taken over either: the local olivia keeps hers.
    assert not owner.oidc_identities.exists()


def test_an_unverified_address_of_nobody_here_creates_a_separate_account_without_it(client, oidc):
    CompanyBrowser(oidc, client).sign_in("eve")
    eve = User.objects.get(oidc_identities__subject="0003-eve")
    assert eve.email == ""
    assert eve.username == "olivia"  # free here: nobody local is called olivia in this test


def test_a_same_named_local_account_is_never_signed_into(client, oidc):
    local = factories.user("ada")  # a different person: ada@example.com, not the company's ada
    CompanyBrowser(oidc, client).sign_in("ada")
    assert signed_in_user(client) != "ada"
    assert not local.oidc_identities.exists()
    assert User.objects.get(oidc_identities__subject="0001-ada").username.startswith("ada-")


def deliver(client, callback_url):
    part = urlsplit(callback_url)
    return client.get(f"{part.path}?{part.query}")


def test_a_tampered_state_is_refused_with_a_plain_page(client, oidc):
    browser = CompanyBrowser(oidc, client)
    start = client.get(reverse("accounts:oidc_start"))
    # The person signs in at the provider, but the answer's state is not the one this browser was given.
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    response = browser.follow(start["Location"].replace(state, "attacker-chosen-state"), "ada")
    assert response.status_code == 400
    assert "did not start here" in response.content.decode()
    assert signed_in_user(client) is None
    assert not User.objects.filter(username="ada").exists()


def test_a_code_sent_to_another_browser_is_refused(client, oidc):
    """The attacker's own callback link, opened in the victim's browser (login CSRF): the victim's session has no
    such state."""
    attacker = Client()
    start = attacker.get(reverse("accounts:oidc_start"))
    callback = CompanyBrowser(oidc, attacker).follow(start["Location"], "ada", deliver=False)
    assert "code=" in callback
    response = deliver(client, callback)
    assert response.status_code == 400
    assert signed_in_user(client) is None
    # Even in a browser that started a sign-in of its own, the attacker's state is not one of its states.
    client.get(reverse("accounts:oidc_start"))
    assert deliver(client, callback).status_code == 400
    assert signed_in_user(client) is None


def test_a_callback_opened_twice_is_refused_the_second_time(client, oidc):
    start = client.get(reverse("accounts:oidc_start"))
    callback = CompanyBrowser(oidc, client).follow(start["Location"], "ada", deliver=False)
    assert deliver(client, callback).status_code == 302
    client.post(reverse("accounts:logout"))
    client.get(reverse("accounts:oidc_start"))  # a sign-in under way, with a state of its own
    response = deliver(client, callback)
    assert response.status_code == 400
    assert signed_in_user(client) is None


def test_an_error_link_signs_nobody_out(client_for, owner, oidc):
    client = client_for(owner)
    response = client.get(reverse("accounts:oidc_callback") + "?error=access_denied&state=x")
    assert response.status_code == 403
    assert signed_in_user(client) == "olivia"


def test_denied_consent_shows_a_plain_page(client, oidc):
    response = CompanyBrowser(oidc, client).sign_in("ada", allow=False)
    assert response.status_code == 403
    assert "did not allow" in response.content.decode()
    assert signed_in_user(client) is None


def test_a_provider_that_is_down_shows_a_plain_page(client, oidc, settings):
    settings.OIDC_ISSUER = f"http://127.0.0.1:{free_port()}"
    response = client.get(reverse("accounts:oidc_start"))
    assert response.status_code == 503
    assert "could not be reached" in response.content.decode()


def test_a_token_endpoint_that_is_down_at_the_callback_shows_a_plain_page(client, oidc, settings):
    browser = CompanyBrowser(oidc, client)
    start = client.get(reverse("accounts:oidc_start"))
    settings.OIDC_TOKEN_ENDPOINT = f"http://127.0.0.1:{free_port()}/token"
    response = browser.follow(start["Location"], "ada")
    assert response.status_code == 502
    assert "could not be reached" in response.content.decode()
    assert signed_in_user(client) is None


def test_an_answer_naming_another_issuer_is_refused(client, oidc):
    start = client.get(reverse("accounts:oidc_start"))
    callback = CompanyBrowser(oidc, client).follow(start["Location"], "ada", deliver=False)
    assert "iss=" in callback
    response = deliver(client, callback.replace("iss=", "iss=https%3A%2F%2Fmix-up.example"))
    assert response.status_code == 400
    assert "another sign-in service" in response.content.decode()
    assert signed_in_user(client) is None


class RogueTokenEndpoint:
    """Stands between the portal and the provider's token endpoint and changes the ID token it hands back, signed
    again with the provider's own key: what a stolen key or another client's token would look like to the portal."""

    def __init__(self, provider, change):
        self.provider = provider
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                answer = requests.post(
                    f"{outer.provider.issuer}/token",
                    data=body,
                    headers={k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")},
                    timeout=10,
                )
                tokens = answer.json()
                if "id_token" in tokens:
                    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
                    tokens["id_token"] = outer.provider.sign({**claims, **change})
                data = json.dumps(tokens).encode()
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    "change, what",
    [
        ({"aud": "other-app"}, "a token for another application"),
        ({"aud": ["other-app", "data-portal"], "azp": "other-app"}, "a token another application holds"),
        ({"iss": "https://login.evil.example"}, "a token from another issuer"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "an expired token"),
        ({"nonce": "replayed"}, "a token from another sign-in"),
    ],
)
def test_an_id_token_not_meant_for_the_portal_is_refused(client, oidc, settings, change, what):
    rogue = RogueTokenEndpoint(oidc, change)
    try:
        settings.OIDC_TOKEN_ENDPOINT = rogue.url
        response = CompanyBrowser(oidc, client).sign_in("ada")
    finally:
        rogue.close()
    assert response.status_code == 400, what
    assert "did not pass the portal" in response.content.decode()
    assert signed_in_user(client) is None
    assert not User.objects.filter(username="ada").exists()


def test_the_rogue_endpoint_itself_passes_an_unchanged_token(client, oidc, settings):
    """The control for the test above: the relay alone does not make sign-in fail."""
    rogue = RogueTokenEndpoint(oidc, {})
    try:
        settings.OIDC_TOKEN_ENDPOINT = rogue.url
        response = CompanyBrowser(oidc, client).sign_in("ada")
    finally:
        rogue.close()
    assert response.status_code == 302
    assert signed_in_user(client) == "ada"


def test_a_disabled_account_cannot_sign_in_with_the_company(client, oidc):
    CompanyBrowser(oidc, client).sign_in("ada")
    User.objects.filter(username="ada").update(is_active=False)
    other = Client()
    response = CompanyBrowser(oidc, other).sign_in("ada")
    assert response.status_code == 403
    assert "disabled" in response.content.decode()
    assert signed_in_user(other) is None


def test_staff_edit_group_mappings_in_the_admin(client_for, staff, outsider, mapped_teams):
    admin = client_for(staff)
    assert admin.get("/admin/accounts/groupmapping/").status_code == 200
    response = admin.post(
        "/admin/accounts/groupmapping/add/", {"group": "platform-admins", "team": "", "is_staff": "on"}
    )
    assert response.status_code == 302
    assert GroupMapping.objects.get(group="platform-admins").is_staff
    # A mapping that gives nothing is refused with a reason.
    response = admin.post("/admin/accounts/groupmapping/add/", {"group": "nobody", "team": ""})
    assert response.status_code == 200
    assert "Give the group a team, the staff flag, or both." in response.content.decode()
    assert client_for(outsider).get("/admin/accounts/groupmapping/").status_code == 302
    assert admin.get("/admin/accounts/oidcidentity/").status_code == 200


def test_disabling_an_account_ends_its_company_session(client, oidc):
    CompanyBrowser(oidc, client).sign_in("ada")
    assert signed_in_user(client) == "ada"
    User.objects.filter(username="ada").update(is_active=False)
    assert signed_in_user(client) is None
    assert client.get(reverse("home")).status_code == 302


def test_groups_sent_as_one_string_are_read_too(settings):
    from accounts.oidc import _groups

    assert _groups({"groups": "data-engineering finance-analysts"}) == {"data-engineering", "finance-analysts"}
    assert _groups({"groups": "a,b"}) == {"a", "b"}
    settings.OIDC_GROUPS_CLAIM = "roles"
    assert _groups({"roles": ["x"], "groups": ["y"]}) == {"x"}
    assert _groups({}) == set()
