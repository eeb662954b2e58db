"""One date and time format for the whole site, in the viewer's time zone (issue 17)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.test import Client
from django.utils import timezone

from accounts.models import Profile
from core.moments import relative
from tests import factories

pytestmark = pytest.mark.django_db


def render(text, **context):
    return Template("{% load portal_tags %}" + text).render(Context(context))


def test_when_reads_in_words_with_the_exact_time_on_hover():
    three_hours_ago = timezone.now() - timedelta(hours=3, minutes=5)
    html = render("{{ moment|when }}", moment=three_hours_ago)
    assert ">3 h ago</time>" in html
    assert f'title="{three_hours_ago:%-d %b %Y}, ' in html  # the absolute time on hover, in the site's format


def test_relative_words_past_and_future():
    now = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    assert relative(now - timedelta(seconds=20), now) == "just now"
    assert relative(now - timedelta(minutes=12), now) == "12 min ago"
    assert relative(now - timedelta(days=2, hours=3), now) == "2 d ago"
    assert relative(now + timedelta(hours=5), now) == "in 5 h"


def test_at_is_one_format_in_the_active_time_zone():
    moment = datetime(2026, 12, 6, 21, 19, tzinfo=UTC)
    assert render("{{ moment|at }}", moment=moment) == "6 Dec 2026, 21:19 UTC"
    with timezone.override("Europe/Paris"):
        assert render("{{ moment|at }}", moment=moment) == "6 Dec 2026, 22:19 CET"
    assert render("{{ moment|at }}", moment=None) == "—"


def test_a_person_sets_their_time_zone_and_every_page_uses_it(owner, client_for):
    model = factories.registered_model("Churn", owner=owner)
    version = factories.model_version(model, version=1)
    type(version).objects.filter(pk=version.pk).update(created_at=datetime(2026, 12, 6, 21, 19, tzinfo=UTC))
    client = client_for(owner)
    response = client.post("/accounts/time-zone/", {"time_zone": "Asia/Tokyo"})
    assert response.status_code == 302
    assert Profile.objects.get(user=owner).time_zone == "Asia/Tokyo"
    page = client.get(version.get_absolute_url()).content.decode()
    assert "7 Dec 2026, 06:19 JST" in page
    # Nowhere the old mixed formats: Django's locale default and the hand-written ISO one.
    assert "p.m." not in page and "a.m." not in page and "2026-12-06" not in page
    # Signing in again keeps it (it lives on the profile; the session only carries it).
    other = Client()
    other.force_login(owner)
    assert "7 Dec 2026, 06:19 JST" in other.get(version.get_absolute_url()).content.decode()


def test_an_unknown_time_zone_is_refused_with_a_message(owner, client_for):
    client = client_for(owner)
    response = client.post("/accounts/time-zone/", {"time_zone": "Mars/Olympus"}, follow=True)
    assert "Choose a time zone from the list." in response.content.decode()
    assert not Profile.objects.filter(user=owner).exists()


def test_without_a_setting_the_site_time_zone_is_used(owner, client_for, settings):
    model = factories.registered_model("Churn", owner=owner)
    version = factories.model_version(model, version=1)
    type(version).objects.filter(pk=version.pk).update(created_at=datetime(2026, 12, 6, 21, 19, tzinfo=UTC))
    assert "6 Dec 2026, 21:19 UTC" in client_for(owner).get(version.get_absolute_url()).content.decode()
