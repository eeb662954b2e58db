import pytest
from rest_framework.test import APIClient

from tests import factories


@pytest.fixture
def api(owner):
    client = APIClient()
    client.force_authenticate(owner)
    return client


@pytest.mark.django_db
def test_every_object_carries_its_slug(api, owner):
    factories.dataset("Orders", owner=owner)
    body = api.get("/api/v1/datasets/").json()
    assert body["count"] == 1
    assert body["results"][0]["slug"] == "orders"
    assert api.get("/api/v1/datasets/orders/").json()["asset"]["owner"] == "olivia"


@pytest.mark.django_db
def test_unknown_objects_and_bad_filters_answer_json_not_html(api):
    missing = api.get("/api/v1/datasets/no-such-thing/")
    assert missing.status_code == 404
    assert missing.json()["detail"]
    bad_filter = api.get("/api/v1/assets/?kind=spaceship")
    assert bad_filter.status_code == 400
    assert "kind" in bad_filter.json()["errors"]


@pytest.mark.django_db
def test_the_openapi_schema_and_docs_are_served(api, client_for, owner):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/datasets/" in paths and "/api/v1/models/{model_slug}/versions/" in paths
    # Each app's routes are entered behind a lookahead (portal.urls): the documented paths are the ones callers type.
    assert [path for path in paths if "{var}" in path] == []
    docs = client_for(owner).get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    assert "cdn" not in docs.lower()


def test_health_answers_without_signing_in(client, db):
    # A fresh database has seen no worker or beat yet: the web serves, background work is not proven (degraded).
    response = client.get("/health/")
    assert response.status_code == 200 and response.json() == {"status": "degraded"}


@pytest.mark.django_db
def test_the_schema_is_for_signed_in_callers(api):
    assert APIClient().get("/api/schema/").status_code == 401
    assert api.get("/api/schema/").status_code == 200


@pytest.mark.django_db
def test_a_page_never_holds_more_than_500_objects(api, owner):
    for index in range(3):
        factories.dataset(f"Table {index}", owner=owner)
    body = api.get("/api/v1/assets/?limit=100000&offset=1").json()
    # The "previous" link carries the limit actually applied: the ceiling, not what was asked.
    assert "limit=500" in body["previous"]
    assert len(body["results"]) == body["count"] - 1


def test_health_does_not_tell_anonymous_callers_why_the_database_failed(client, db, monkeypatch):
    from types import SimpleNamespace

    from portal import health

    def broken():
        raise RuntimeError("could not connect to server at db.internal as user portal")

    # Only the health view's handle on the database breaks; the test's own connection stays whole.
    monkeypatch.setattr(health, "connection", SimpleNamespace(cursor=broken))
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json() == {"status": "error"}
