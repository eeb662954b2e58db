"""The administration pages of the rows issue 15 and its wave added: staff open and search each list, nobody else
reaches them, and history rows (deliveries, results, outboxes) are read only even for staff."""

import pytest
from django.apps import apps
from django.contrib import admin

from tests import factories

pytestmark = pytest.mark.django_db

# (app, model): every row kind the wave added that staff need to look at.
PAGES = [
    ("trust", "Dependency"),
    ("trust", "ChangeRequest"),
    ("trust", "RequirementsReview"),
    ("trust", "UpstreamProblem"),
    ("trust", "ProblemNotice"),
    ("trust", "ProblemDelivery"),
    ("trust", "StoredBadge"),
    ("monitoring", "MaintenanceWindow"),
    ("quality", "QualityCheck"),
    ("quality", "CheckResult"),
    ("quality", "FreshnessObservation"),
    ("quality", "DbtNode"),
    ("mlops", "Prediction"),
    ("mlops", "Outcome"),
    ("mlops", "MonitoringResult"),
    ("core", "DigestItem"),
    ("core", "NotificationPreference"),
]
HISTORY = [
    ("trust", "UpstreamProblem"),
    ("trust", "ProblemNotice"),
    ("trust", "ProblemDelivery"),
    ("core", "DigestItem"),
]


def _url(app, model, page=""):
    return f"/admin/{app}/{model.lower()}/{page}"


@pytest.fixture
def rows(owner):
    """One row of each kind that the lists show, so each column and its joins are rendered."""
    from core.models import DigestItem
    from monitoring.maintenance import snooze
    from trust import downstream
    from trust.models import ChangeRequest, Dependency

    orders = factories.dataset("Orders", owner=owner, columns=[("id", "bigint")]).asset
    report = factories.report("Board pack", owner=factories.user("bob")).asset
    factories.edge(orders, report)
    reader = factories.user("erin")
    Dependency.declare(orders, by=reader, consumer=reader, columns=["id"])
    ChangeRequest.objects.create(asset=orders, title="Add region", wanted="A region column", requested_by=reader)
    notice = downstream.problem_started(orders, "issue", "x", "critical issue 'Duplicated rows'", critical=True)
    downstream.fan_out(notice.pk)
    snooze(orders, by=owner, reason="Migrating the warehouse", hours=2)
    DigestItem.objects.create(recipient=reader, channel="inbox", cadence="daily", title="Totals off")
    return orders


@pytest.mark.parametrize(("app", "model"), PAGES)
def test_staff_open_and_search_each_list(app, model, rows, staff, client_for):
    assert admin.site.is_registered(apps.get_model(app, model)), f"{app}.{model} has no admin page"
    client = client_for(staff)
    assert client.get(_url(app, model)).status_code == 200
    assert client.get(_url(app, model), {"q": "Orders"}).status_code == 200


@pytest.mark.parametrize(("app", "model"), PAGES)
def test_people_who_are_not_staff_are_sent_to_sign_in(app, model, outsider, owner, client_for):
    for person in (outsider, owner):
        response = client_for(person).get(_url(app, model))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize(("app", "model"), HISTORY)
def test_history_rows_are_read_only_even_for_staff(app, model, rows, staff, client_for):
    client = client_for(staff)
    assert client.get(_url(app, model, "add/")).status_code == 403
    row = apps.get_model(app, model).objects.first()
    assert row is not None
    page = client.get(_url(app, model, f"{row.pk}/change/"))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(_url(app, model, f"{row.pk}/delete/"), {"post": "yes"}).status_code == 403
    assert apps.get_model(app, model).objects.filter(pk=row.pk).exists()
