"""Issue 14, finding 7 (the rest): the API is throttled per token, OpenLineage in its own scope, pings per check.

The attacker is a reader with a token of her own hammering the API, and anyone who knows a heartbeat address.
"""

import pytest
from django.test import Client

from accounts.models import ApiToken
from monitoring.choices import FreshnessMethod
from monitoring.models import FreshnessCheck
from tests import factories
from tests.helpers import early_in_a_minute

EVENT = {"eventTime": "2026-11-28T06:00:00Z", "run": {"runId": "r"}, "job": {"namespace": "a", "name": "b"}}


@pytest.fixture(autouse=True)
def early_in_a_window():
    with early_in_a_minute():
        yield


def _bearer(user, name="mine"):
    _, key = ApiToken.issue(user, name)
    return {"authorization": f"Bearer {key}"}


def _is_throttled(response, window):
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert 1 <= int(response["Retry-After"]) <= window
    assert response.json()["detail"].startswith("Too many")
    return True


@pytest.mark.django_db
def test_the_api_is_throttled_per_token(settings, outsider):
    settings.API_RATE_LIMITS = {"api": "5/min", "lineage": "3/min"}
    client, mine = Client(), _bearer(outsider)
    for _ in range(5):
        assert client.get("/api/v1/assets/", headers=mine).status_code == 200
    throttled = client.get("/api/v1/assets/", headers=mine)
    assert _is_throttled(throttled, 60)
    assert throttled.json()["detail"].startswith("Too many requests with this token; try again in")
    # Another token (a colleague's pipeline) has its own count.
    assert client.get("/api/v1/assets/", headers=_bearer(factories.user("colleague"))).status_code == 200


@pytest.mark.django_db
def test_openlineage_has_its_own_scope(settings, outsider):
    settings.API_RATE_LIMITS = {"api": "100/min", "lineage": "3/min"}
    client, mine = Client(), _bearer(outsider)
    for _ in range(3):
        response = client.post("/api/v1/lineage", EVENT, content_type="application/json", headers=mine)
        assert response.status_code == 202
    assert _is_throttled(client.post("/api/v1/lineage", EVENT, content_type="application/json", headers=mine), 60)
    # The rest of the API is still open to the same token.
    assert client.get("/api/v1/assets/", headers=mine).status_code == 200


@pytest.mark.django_db
def test_a_signed_in_browser_is_throttled_too(settings, client_for, outsider):
    settings.API_RATE_LIMITS = {"api": "2/min", "lineage": "2/min"}
    client = client_for(outsider)
    assert [client.get("/api/v1/assets/").status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.django_db
def test_pings_are_throttled_per_check_and_add_no_rows_past_the_limit(settings, owner):
    settings.PING_RATE_LIMIT = "3/min"
    policy = factories.freshness_policy(factories.pipeline("Nightly", owner=owner).asset,
                                        method=FreshnessMethod.HEARTBEAT)  # fmt: skip
    other = factories.freshness_policy(factories.pipeline("Hourly", owner=owner).asset,
                                       method=FreshnessMethod.HEARTBEAT)  # fmt: skip
    client = Client()
    for n in range(3):
        assert client.get(f"/ping/{policy.ping_key}?rid=run-{n}").status_code == 200
    rows = FreshnessCheck.objects.filter(policy=policy).count()
    for n in range(3, 20):
        assert _is_throttled(client.get(f"/ping/{policy.ping_key}?rid=run-{n}"), 60)
    assert FreshnessCheck.objects.filter(policy=policy).count() == rows
    assert "at most 3 a minute" in client.post(f"/ping/{policy.ping_key}/fail").json()["detail"]
    # Another check is not held back by this one's flood.
    assert client.get(f"/ping/{other.ping_key}").status_code == 200
