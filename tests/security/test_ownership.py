"""Finding 9: owners and teams are not assigned freely. One rule (catalog.access.ownership_errors) for the catalog's
and the registry's pages and API: you name yourself or nobody as owner, and one of your teams or none, unless you are
staff; what stays as it was is always allowed."""

import pytest

from catalog.models import Asset, Report
from registry.services import register_model
from tests import factories

pytestmark = pytest.mark.django_db


def _json(client):
    client.defaults["HTTP_ACCEPT"] = "application/json"
    return client


@pytest.fixture
def alice(team):
    return factories.user("alice", teams=[team])


def test_a_reader_cannot_create_a_report_owned_by_someone_else_in_a_team_she_is_not_in(
    outsider, alice, team, client_for
):
    api = _json(client_for(outsider))
    payload = {"name": "Payroll", "url": "https://bi.example.com/payroll", "owner": alice.username}
    assert api.post("/api/v1/reports/", payload, "application/json").status_code == 403
    assert (
        api.post("/api/v1/reports/", {**payload, "owner": None, "team": team.slug}, "application/json").status_code
        == 403
    )
    page = client_for(outsider).post(
        "/catalog/new/report/",
        {
            "name": "Payroll",
            "owner": alice.pk,
            "team": team.pk,
            "lifecycle": "active",
            "detail-url": "https://x.example/",
        },
    )
    assert page.status_code == 200
    errors = page.context["asset_form"].errors
    assert "yourself" in " ".join(errors["owner"]) and "team you belong to" in " ".join(errors["team"])
    assert not Asset.objects.filter(name="Payroll").exists()
    # Herself, or nobody, in no team: allowed.
    mine = api.post("/api/v1/reports/", {**payload, "owner": outsider.username}, "application/json")
    assert mine.status_code == 201, mine.json()
    assert Report.objects.get(asset__name="Payroll").asset.owner == outsider


def test_an_owner_cannot_move_her_asset_into_a_team_she_is_not_in(owner, team, client_for):
    other = factories.team("Finance")
    report = factories.report("Sales", owner=owner, team=team)
    api = _json(client_for(owner))
    moved = api.patch(f"/api/v1/reports/{report.asset.slug}/", {"team": other.slug}, "application/json")
    assert moved.status_code == 403
    given = api.patch(f"/api/v1/reports/{report.asset.slug}/", {"owner": "alice"}, "application/json")
    assert given.status_code in (400, 403)
    report.asset.refresh_from_db()
    assert (report.asset.owner, report.asset.team) == (owner, team)


def test_a_teammate_editing_keeps_the_owner_and_team_as_they_are(owner, teammate, team, client_for):
    report = factories.report("Sales", owner=owner, team=team)
    api = _json(client_for(teammate))
    saved = api.patch(
        f"/api/v1/reports/{report.asset.slug}/",
        {"description": "Daily.", "owner": owner.username, "team": team.slug},
        "application/json",
    )
    assert saved.status_code == 200, saved.json()


def test_a_model_owner_cannot_move_it_to_a_team_she_is_not_in_by_api_or_page(owner, team, client_for):
    other = factories.team("Finance")
    model = register_model("Churn", owner=owner, team=team)
    api = _json(client_for(owner))
    # Registering for that team was already refused; moving there is refused the same way.
    assert api.post("/api/v1/models/", {"name": "Basket", "team": other.slug}, "application/json").status_code == 403
    assert api.patch(f"/api/v1/models/{model.asset.slug}/", {"team": other.slug}, "application/json").status_code == 403
    page = client_for(owner).post(f"/models/{model.asset.slug}/edit/", {"name": "Churn", "team": other.pk})
    assert page.status_code == 200 and "team you belong to" in " ".join(page.context["form"].errors["team"])
    model.asset.refresh_from_db()
    assert model.asset.team == team


def test_staff_may_give_assets_to_anyone_and_any_team(staff, alice, team, client_for):
    api = _json(client_for(staff))
    created = api.post(
        "/api/v1/reports/",
        {"name": "Payroll", "url": "https://bi.example.com/payroll", "owner": alice.username, "team": team.slug},
        "application/json",
    )
    assert created.status_code == 201, created.json()
