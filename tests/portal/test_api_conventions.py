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
    assert "/api/v1/datasets/" in schema.json()["paths"]
    docs = client_for(owner).get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    assert "cdn" not in docs.lower()


def test_health_answers_without_signing_in(client, db):
    assert client.get("/health/").json() == {"status": "ok"}
