"""The trust API: badges, deprecations, issues, watches and notifications, with the pages' permission rules."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Watch
from core.choices import NotificationKind
from core.notifications import notify
from tests import factories
from tests.helpers import count_queries
from trust.models import DataIssue, Deprecation

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(owner, team):
    return factories.dataset("Orders", owner=owner, team=team).asset


def test_anonymous_callers_get_a_json_401(client):
    response = client.get("/api/v1/issues/")
    assert response.status_code in (401, 403) and "detail" in response.json()


def test_badges_list_and_detail(orders, owner, outsider, client_for):
    report = factories.report("Sales", owner=owner)
    factories.edge(orders, report)
    factories.data_issue(orders, outsider, severity="critical")
    data = client_for(outsider).get("/api/v1/badges/", {"kind": "report"}).json()
    assert [(row["slug"], row["level"]) for row in data["results"]] == [("sales", "do_not_use")]
    detail = client_for(outsider).get(f"/api/v1/badges/{orders.uuid}/").json()
    assert detail["label"] == "Do not use" and len(detail["rules"]) == 8


def test_the_badges_list_costs_the_same_queries_for_few_and_many_assets(owner, outsider, client_for):
    client = client_for(outsider)

    def queries(count):
        for index in range(count):
            factories.report(f"Report {count} {index}", owner=owner)
        with count_queries() as captured:
            assert client.get("/api/v1/badges/", {"limit": 100}).status_code == 200
        return len(captured)

    assert queries(1) == queries(30)


def test_report_comment_and_transition_an_issue(orders, owner, outsider, client_for):
    created = client_for(outsider).post(
        "/api/v1/issues/",
        {
            "asset": str(orders.uuid),
            "title": "Duplicated rows",
            "description": "Orders of 3 Nov twice.",
            "category": "wrong_values",
            "severity": "major",
        },
    )
    assert created.status_code == 201, created.json()
    issue = created.json()
    assert (issue["status"], issue["reported_by"], issue["slug"]) == ("open", "oscar", "orders")
    url = f"/api/v1/issues/{issue['uuid']}/"
    forbidden = client_for(outsider).post(f"{url}transition/", {"status": "resolved"}, content_type="application/json")
    assert forbidden.status_code == 403 and "detail" in forbidden.json()
    moved = client_for(owner).post(f"{url}transition/", {"status": "acknowledged", "comment": "On it."})
    assert moved.status_code == 200 and moved.json()["status"] == "acknowledged"
    illegal = client_for(owner).post(f"{url}transition/", {"status": "open"})
    assert illegal.status_code == 400 and "cannot become" in str(illegal.json())
    commented = client_for(outsider).post(f"{url}comment/", {"body": "Thanks."})
    assert commented.status_code == 201
    assert [event["body"] for event in commented.json()["events"]] == ["Reported.", "On it.", "Thanks."]
    assert client_for(outsider).post(f"{url}comment/", {"body": ""}).status_code == 400


def test_the_api_refuses_what_the_form_refuses(orders, outsider, client_for):
    response = client_for(outsider).post(
        "/api/v1/issues/",
        {"asset": str(orders.uuid), "title": "  ", "description": "x", "category": "other", "severity": "minor"},
    )
    assert response.status_code == 400 and "title" in response.json()["errors"]
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad_file = SimpleUploadedFile("x.exe", b"MZ", content_type="application/octet-stream")
    response = client_for(outsider).post(
        "/api/v1/issues/",
        {
            "asset": str(orders.uuid),
            "title": "t",
            "description": "x",
            "category": "other",
            "severity": "minor",
            "attachment": bad_file,
        },
    )
    assert response.status_code == 400 and "attachment" in response.json()["errors"]
    assert not DataIssue.objects.exists()


def test_issues_filter_like_the_page(orders, owner, outsider, client_for):
    factories.data_issue(orders, outsider, severity="critical", title="Mine")
    factories.data_issue(orders, owner, severity="minor", title="Theirs")
    titles = [row["title"] for row in client_for(outsider).get("/api/v1/issues/", {"mine": "true"}).json()["results"]]
    assert titles == ["Mine"]


def test_propose_acknowledge_and_withdraw_a_deprecation(orders, owner, outsider, client_for):
    bob = factories.user("bob")
    sales = factories.report("Sales", owner=bob).asset
    factories.edge(orders, sales)
    sunset = (timezone.localdate() + timedelta(days=20)).isoformat()
    payload = {"asset": str(orders.uuid), "reason": "Use v2.", "sunset_date": sunset}
    assert client_for(outsider).post("/api/v1/deprecations/", payload).status_code == 403
    bad = client_for(owner).post("/api/v1/deprecations/", {**payload, "sunset_date": "2020-01-01"})
    assert bad.status_code == 400 and "sunset_date" in bad.json()["errors"]
    assert not Deprecation.objects.exists()
    created = client_for(owner).post("/api/v1/deprecations/", payload)
    assert created.status_code == 201, created.json()
    url = f"/api/v1/deprecations/{created.json()['uuid']}/"
    assert [impact["asset_slug"] for impact in created.json()["impacts"]] == ["sales"]
    assert client_for(outsider).post(f"{url}acknowledge/", {"asset": str(sales.uuid)}).status_code == 403
    acknowledged = client_for(bob).post(f"{url}acknowledge/", {"asset": str(sales.uuid), "note": "Moved."})
    assert acknowledged.json()["impacts"][0]["acknowledged_by"] == "bob"
    assert client_for(bob).post(f"{url}acknowledge/", {"asset": str(sales.uuid)}).status_code == 400
    assert client_for(outsider).post(f"{url}withdraw/").status_code == 403
    withdrawn = client_for(owner).post(f"{url}withdraw/")
    assert withdrawn.json()["state"] == "withdrawn"
    assert client_for(owner).post(f"{url}withdraw/").status_code == 400


def test_watch_and_unwatch(orders, outsider, client_for):
    client = client_for(outsider)
    assert client.post("/api/v1/watches/", {"asset": str(orders.uuid)}).status_code == 201
    assert client.post("/api/v1/watches/", {"asset": str(orders.uuid)}).status_code == 201
    assert [row["slug"] for row in client.get("/api/v1/watches/").json()["results"]] == ["orders"]
    assert client.post("/api/v1/watches/", {"asset": "not-a-uuid"}).status_code == 400
    assert client.delete(f"/api/v1/watches/{orders.uuid}/").status_code == 204
    assert not Watch.objects.exists()


def test_mark_notifications_read(owner, outsider, client_for):
    mine = notify([owner], kind=NotificationKind.OTHER, title="One")[0]
    notify([owner], kind=NotificationKind.OTHER, title="Two")
    theirs = notify([outsider], kind=NotificationKind.OTHER, title="Theirs")[0]
    assert client_for(owner).post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    assert client_for(owner).post(f"/api/v1/notifications/{mine.pk}/read/").json() == {"marked_read": 1}
    assert client_for(owner).post("/api/v1/notifications/all/read/").json() == {"marked_read": 1}
    theirs.refresh_from_db()
    assert theirs.read_at is None
