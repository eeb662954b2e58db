"""Finding 7 (sign-in): 30 wrong passwords, then the right one, on the sign-in page and on the admin's. After
LOGIN_FAILURE_LIMIT failures the pair (username, address) is paused, with a page that says so; staff lift it."""

import io

import pytest
from django.core.management import call_command
from django.test import Client

from tests import factories

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/?next=/admin/"


def _guess(client, url, username, times=30):
    return [client.post(url, {"username": username, "password": f"guess-{n}"}).status_code for n in range(times)]


def _signed_in(client):
    return "_auth_user_id" in client.session


def test_thirty_wrong_passwords_then_the_right_one_is_refused_on_the_sign_in_page(owner):
    attacker = Client()
    codes = _guess(attacker, LOGIN, "olivia")
    assert codes[0] == 200 and codes[-1] == 429
    response = attacker.post(LOGIN, {"username": "olivia", "password": factories.PASSWORD})
    assert response.status_code == 429 and not _signed_in(attacker)
    page = response.content.decode()
    assert "Too many failed sign-ins" in page and "olivia" in page and "15 minutes" in page


def test_thirty_wrong_passwords_then_the_right_one_is_refused_on_the_admin(staff):
    attacker = Client()
    codes = _guess(attacker, ADMIN_LOGIN, "stella")
    assert codes[-1] == 429
    response = attacker.post(ADMIN_LOGIN, {"username": "stella", "password": factories.PASSWORD})
    assert response.status_code == 429 and not _signed_in(attacker)
    assert Client().get("/admin/", follow=False).status_code == 302  # still nobody in


def test_a_colleague_behind_the_same_address_and_the_owner_elsewhere_still_sign_in(owner, teammate):
    _guess(Client(), LOGIN, "olivia")
    colleague = Client()
    assert colleague.post(LOGIN, {"username": "tom", "password": factories.PASSWORD}).status_code == 302
    elsewhere = Client(REMOTE_ADDR="10.1.2.3")
    assert elsewhere.post(LOGIN, {"username": "olivia", "password": factories.PASSWORD}).status_code == 302


def test_staff_unlock_with_the_command(owner):
    _guess(Client(), LOGIN, "olivia")
    call_command("axes_reset_username", "olivia", stdout=io.StringIO())
    client = Client()
    assert client.post(LOGIN, {"username": "olivia", "password": factories.PASSWORD}).status_code == 302
    assert _signed_in(client)


def test_staff_unlock_in_the_admin(owner, staff, client_for):
    from axes.models import AccessAttempt

    _guess(Client(), LOGIN, "olivia")
    admin = client_for(staff)
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "olivia" in listing.content.decode()
    attempt = AccessAttempt.objects.get(username="olivia")
    deleted = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    client = Client()
    assert client.post(LOGIN, {"username": "olivia", "password": factories.PASSWORD}).status_code == 302


def test_signing_in_in_tests_with_force_login_is_unaffected(owner, client_for):
    _guess(Client(), LOGIN, "olivia")
    assert client_for(owner).get("/accounts/profile/").status_code == 200
