"""The embeddable badge: SVG and JSON for signed-in users, and the secret link that reveals nothing else."""

import json

import pytest
from django.test import Client

from tests import factories
from trust.models import BadgeLink

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(owner, outsider):
    """A report fed by a dataset that has a critical open issue: Do not use."""
    made = factories.report("Executive sales", owner=owner, description="Revenue for the leadership team.")
    orders = factories.dataset("Secret merger orders", owner=owner)
    factories.edge(orders, made)
    factories.data_issue(orders, outsider, severity="critical", title="Acquisition totals leaked into EU rows")
    return made.asset


def test_signed_in_users_get_the_svg_badge(report, client_for, outsider):
    response = client_for(outsider).get(f"/badges/report/{report.slug}.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    body = response.content.decode()
    assert body.startswith("<svg") and "trust: Do not use" in body and "<script" not in body


def test_signed_in_users_get_the_level_and_every_reason_as_json(report, client_for, outsider):
    data = client_for(outsider).get(f"/badges/report/{report.slug}.json").json()
    assert (data["level"], data["label"]) == ("do_not_use", "Do not use")
    issues = next(rule for rule in data["rules"] if rule["rule"] == "issues")
    assert issues["reason"] == "1 critical issue open upstream on Secret merger orders."
    assert len(data["rules"]) == 8


def test_without_signing_in_the_named_badge_says_nothing_not_even_whether_the_asset_exists(report):
    anonymous = Client()
    for path in (f"/badges/report/{report.slug}.svg", f"/badges/report/{report.slug}.json", "/badges/report/nope.svg"):
        response = anonymous.get(path)
        assert response.status_code == 401
        assert "Do not use" not in response.content.decode()


def test_an_unknown_asset_is_404_for_signed_in_users(client_for, outsider):
    assert client_for(outsider).get("/badges/report/nope.svg").status_code == 404


def test_the_secret_link_shows_the_badge_without_signing_in_and_nothing_else(report, owner):
    link = BadgeLink.rotate(report, by=owner)
    anonymous = Client()
    svg = anonymous.get(f"/badges/s/{link.token}.svg")
    assert svg.status_code == 200 and "Do not use" in svg.content.decode()
    response = anonymous.get(f"/badges/s/{link.token}.json")
    data = response.json()
    assert data["level"] == "do_not_use"
    assert {rule["rule"]: rule["passed"] for rule in data["rules"]}["issues"] is False
    # No reasons: they would name people, issues and other assets.
    text = json.dumps(data) + svg.content.decode()
    for secret in ("Secret merger orders", "Acquisition", "olivia", "Executive sales", report.slug, str(report.uuid)):
        assert secret not in text
    assert all("reason" not in rule for rule in data["rules"])
    assert response["Access-Control-Allow-Origin"] == "*"


def test_the_secret_link_opens_no_other_page(report, owner):
    link = BadgeLink.rotate(report, by=owner)
    anonymous = Client()
    for path in (
        f"/badges/report/{report.slug}.json",
        report.get_absolute_url(),
        "/issues/",
        f"/assets/report/{report.slug}/badge/",
        f"/api/v1/badges/{report.uuid}/",
        f"/badges/s/{link.token}/",
        f"/badges/s/{link.token}.html",
    ):
        response = anonymous.get(path, {"token": link.token})
        assert response.status_code in (302, 401, 403, 404), path
        assert "Do not use" not in response.content.decode()


def test_a_wrong_or_rotated_token_is_404(report, owner):
    old = BadgeLink.rotate(report, by=owner).token
    new = BadgeLink.rotate(report, by=owner).token
    anonymous = Client()
    assert anonymous.get(f"/badges/s/{old}.svg").status_code == 404
    assert anonymous.get("/badges/s/guess.svg").status_code == 404
    assert anonymous.get(f"/badges/s/{new}.svg").status_code == 200


def test_only_people_who_may_change_the_asset_see_or_make_the_secret_link(report, owner, outsider, client_for):
    link = BadgeLink.rotate(report, by=owner)
    page = client_for(outsider).get(f"/assets/report/{report.slug}/badge/")
    assert page.status_code == 200 and link.token not in page.content.decode()
    assert client_for(outsider).post(f"/assets/report/{report.slug}/badge/").status_code == 403
    assert BadgeLink.objects.get(asset=report).token == link.token
    page = client_for(owner).get(f"/assets/report/{report.slug}/badge/")
    assert link.token in page.content.decode()
    client_for(owner).post(f"/assets/report/{report.slug}/badge/")
    assert BadgeLink.objects.get(asset=report).token != link.token
