"""A reader's home (issue 15): someone who owns nothing sees what they watch and depend on, with badges, anything
with a problem first."""

import re

import pytest

from catalog.models import Watch
from tests import factories
from trust.models import Dependency

pytestmark = pytest.mark.django_db


def _rows(html):
    section = html[html.index('data-testid="what-you-use"') :]
    return re.findall(
        r'data-testid="used-row">.*?<a href="[^"]+">([^<]+)</a>.*?data-testid="trust-badge">([^<]+)<', section, re.S
    )


def test_the_home_of_someone_who_owns_nothing_shows_what_they_use_problems_first(owner, client_for):
    erin = factories.user("erin")
    fine = factories.trusted_asset(owner, "Customers")
    orders = factories.dataset("Orders", owner=owner, description="All orders.")
    dashboard = factories.report("Executive sales dashboard", owner=owner).asset
    factories.edge(orders, dashboard)
    factories.data_issue(orders, owner, severity="critical", title="Duplicated rows")
    Watch.objects.create(user=erin, asset=fine.asset)
    Watch.objects.create(user=erin, asset=dashboard)
    Dependency.declare(orders.asset, by=erin, consumer=erin)
    factories.dataset("Unrelated", owner=owner)

    html = client_for(erin).get("/").content.decode()
    rows = _rows(html)
    names = [name for name, _ in rows]
    assert set(names) == {"Customers", "Executive sales dashboard", "Orders"}
    # The two with a critical issue (on it, upstream) before the one that only lacks a check.
    assert [level for _, level in rows][:2] == ["Do not use", "Do not use"]
    assert names[-1] == "Customers"
    assert "1 critical issue open upstream on Orders." in html
    assert "depend on it" in html and "watch" in html
    assert "Unrelated" not in html.split('data-testid="what-you-use"')[1].split("Recently changed")[0]


def test_a_reader_who_uses_nothing_is_told_how_to_fill_their_home(client_for):
    page = client_for(factories.user("newcomer")).get("/").content.decode()
    assert "You own nothing and use nothing yet." in page


def test_a_team_dependency_counts_for_its_members(owner, client_for):
    analysts = factories.team("Analysts")
    erin, carl = factories.user("erin", teams=[analysts]), factories.user("carl", teams=[analysts])
    orders = factories.dataset("Orders", owner=owner)
    Dependency.declare(orders.asset, by=erin, consumer=analysts)
    assert [name for name, _ in _rows(client_for(carl).get("/").content.decode())] == ["Orders"]


def test_a_reader_watching_many_sees_every_problem_first_and_the_count_of_the_rest(owner, client_for, monkeypatch):
    from portal import views

    monkeypatch.setattr(views, "USED_SHOWN", 3)
    erin = factories.user("erin")
    for index in range(5):
        Watch.objects.create(user=erin, asset=factories.dataset(f"Fine {index}", owner=owner).asset)
    broken = factories.dataset("Broken", owner=owner)
    factories.data_issue(broken, owner, severity="critical", title="Empty")
    Watch.objects.create(user=erin, asset=broken.asset)
    html = client_for(erin).get("/").content.decode()
    rows = _rows(html)
    assert len(rows) == 3 and rows[0] == ("Broken", "Do not use")
    assert "And 3 more, all listed on" in html
