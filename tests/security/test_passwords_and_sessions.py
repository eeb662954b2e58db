"""Finding 12 (OWASP ASVS level 1): passwords of at least 12 characters checked by Django's validators, a password
change page, a reset by email, and sessions that end when idle."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories

pytestmark = pytest.mark.django_db

NEW = "correct-horse-battery-staple"


def _can_sign_in(username, password):
    return Client().post("/accounts/login/", {"username": username, "password": password}).status_code == 302


def test_the_profile_links_to_a_password_change_that_wants_twelve_characters(owner, client_for):
    client = client_for(owner)
    assert 'href="/accounts/password/"' in client.get("/accounts/profile/").content.decode()
    for weak, why in [("short-pass1", "at least 12 characters"), ("123456789012", "entirely numeric"),
                      ("password1234", "too common"), ("olivia@example1", "too similar")]:  # fmt: skip
        response = client.post(
            "/accounts/password/",
            {"old_password": factories.PASSWORD, "new_password1": weak, "new_password2": weak},
        )
        assert response.status_code == 200 and why in response.content.decode(), weak
    wrong_old = client.post("/accounts/password/", {"old_password": "nope", "new_password1": NEW, "new_password2": NEW})
    assert wrong_old.status_code == 200 and "incorrectly" in wrong_old.content.decode()
    done = client.post(
        "/accounts/password/", {"old_password": factories.PASSWORD, "new_password1": NEW, "new_password2": NEW}
    )
    assert done.status_code == 302 and done["Location"] == "/accounts/profile/"
    assert client.get("/accounts/profile/").status_code == 200  # this session stays signed in
    assert _can_sign_in("olivia", NEW) and not _can_sign_in("olivia", factories.PASSWORD)


def test_a_forgotten_password_is_reset_through_a_one_time_link_by_email(owner, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    anonymous = Client()
    login = anonymous.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password/reset/"' in login
    sent = anonymous.post("/accounts/password/reset/", {"email": "olivia@example.com"})
    assert sent.status_code == 302 and sent["Location"] == "/accounts/password/reset/sent/"
    (message,) = mail.outbox
    assert message.to == ["olivia@example.com"] and "olivia" in message.body
    link = re.search(r"https://portal\.example\.com(/accounts/password/reset/\S+/)", message.body).group(1)
    form_page = anonymous.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    assert anonymous.post(set_url, {"new_password1": "short", "new_password2": "short"}).status_code == 200
    done = anonymous.post(set_url, {"new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302 and done["Location"] == "/accounts/password/reset/done/"
    assert _can_sign_in("olivia", NEW)
    # The link works once.
    assert "no longer works" in Client().get(link, follow=True).content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_email(db):
    response = Client().post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox == []


def test_a_session_ends_after_thirty_idle_minutes_but_not_while_in_use(owner):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = Client()
        client.force_login(owner)
        assert client.get("/accounts/profile/").status_code == 200
        # In use: a request every 20 minutes keeps the session for an hour.
        for _ in range(3):
            clock.shift(timedelta(minutes=20))
            assert client.get("/accounts/profile/").status_code == 200
        # Idle for 31 minutes: signed out.
        clock.shift(timedelta(minutes=31))
        response = client.get("/accounts/profile/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_idle_timeout_adds_no_write_to_each_request(owner):
    client = Client()
    client.force_login(owner)
    client.get("/accounts/profile/")
    with CaptureQueriesContext(connection) as captured:
        client.get("/accounts/profile/")
    assert [query["sql"] for query in captured.captured_queries if query["sql"].startswith("UPDATE")] == []
