"""Issue 14, finding 10 (the rest): a job run's parameters, log, error and result are for the person who started it,
the owners (and team) of its asset and staff. A reader sees that it ran, its state and step: through the job list,
the job page, and the API (job runs, scans, training runs)."""

import pytest

from core.choices import JobKind
from core.models import JobRun
from tests import factories

SECRET_BITS = ("warehouse.internal", "loader_ro", "relation payroll.salaries", "s3://finance-exports")


@pytest.fixture
def run(owner, team):
    source = factories.source("Payroll DB", owner=owner, team=team)
    return JobRun.objects.create(
        kind=JobKind.SCHEMA_SCAN,
        asset=source.asset,
        requested_by=owner,
        state="failed",
        step="reading tables",
        params={"host": "warehouse.internal", "user": "loader_ro"},
        result={"export": "s3://finance-exports"},
        error="permission denied for relation payroll.salaries",
        log="connected to warehouse.internal as loader_ro\n",
    )


def _pages(client, run):
    return client.get("/jobs/").content.decode() + client.get(run.get_absolute_url()).content.decode()


def _api(client, run):
    paths = ("/api/v1/job-runs/", f"/api/v1/job-runs/{run.uuid}/", "/api/v1/scans/", f"/api/v1/scans/{run.pk}/")
    return " ".join(client.get(path).content.decode() for path in paths)


@pytest.mark.django_db
def test_a_reader_sees_that_it_ran_but_none_of_its_details(client_for, outsider, run):
    client = client_for(outsider)
    pages, api = _pages(client, run), _api(client, run)
    for secret in SECRET_BITS:
        assert secret not in pages, f"{secret!r} on a page"
        assert secret not in api, f"{secret!r} in the API"
    assert "reading tables" in pages and "Failed" in pages
    assert "shown to the person who started it, the owners of Payroll DB and staff" in pages
    detail = client.get(f"/api/v1/job-runs/{run.uuid}/").json()
    assert (detail["state"], detail["step"], detail["details_shown"]) == ("failed", "reading tables", False)
    assert (detail["params"], detail["result"], detail["error"], detail["log"]) == ({}, {}, "", "")


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["owner", "teammate", "staff", "starter"])
def test_the_starter_the_owners_and_staff_see_everything(client_for, owner, teammate, staff, run, who):
    person = {"owner": owner, "teammate": teammate, "staff": staff}.get(who)
    if who == "starter":
        person = factories.user("sam")
        JobRun.objects.filter(pk=run.pk).update(requested_by=person)
    client = client_for(person)
    pages, api = _pages(client, run), _api(client, run)
    for secret in SECRET_BITS[2:3]:
        assert secret in pages
    for secret in SECRET_BITS:
        assert secret in api
    assert client.get(f"/api/v1/job-runs/{run.uuid}/").json()["details_shown"] is True
