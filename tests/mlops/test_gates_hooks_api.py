"""The API of quality gates and team webhooks: read, replace, add, remove; only the owner, the team and staff change
them; bad input answered 400 with JSON; webhook addresses inside the network refused when added and when sent."""

import json

import pytest
from django.test import Client

from mlops.choices import DeliveryState
from mlops.hooks import SIGNATURE_HEADER, deliver_due, queue_deliveries, verify
from mlops.models import DeliveryHook, WebhookDelivery
from registry.models import FairnessLimit, QualityThreshold
from tests import factories
from tests.registry.helpers import model_with_card

pytestmark = pytest.mark.django_db

GATES = {
    "thresholds": [
        {"metric": "f1", "split": "test", "direction": "min", "value": 0.9},
        {"metric": "log_loss", "split": "test", "direction": "max", "value": 0.5},
    ],
    "fairness": {"sensitive_column": "segment", "max_gap": 0.1},
}


def gates_url(model):
    return f"/api/v1/models/{model.asset.slug}/gates/"


def hooks_url(model, *rest):
    return f"/api/v1/models/{model.asset.slug}/hooks/" + "".join(f"{part}/" for part in rest)


def signed_in(user):
    """A browser session of ``user`` (the pages' way in), not a token."""
    client = Client()
    client.force_login(user)
    return client


def test_the_owner_sets_gates_which_then_refuse_the_promotion_naming_the_threshold(owner):
    model, version = model_with_card(owner)  # version 1 measured f1 = 0.7 on test
    client = factories.api_client(owner)
    response = client.put(gates_url(model), GATES, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == GATES
    assert client.get(gates_url(model)).json() == GATES
    blockers = version.promotion_blockers()
    assert "quality gate: f1 on test is 0.7, needs at least 0.9" in blockers
    assert any("fairness: largest gap between segment groups is not measured" in b for b in blockers)

    # Replacing them all: fewer thresholds, no fairness limit.
    lowered = {"thresholds": [{"metric": "f1", "value": 0.6}], "fairness": None}
    response = client.put(gates_url(model), lowered, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "thresholds": [{"metric": "f1", "split": "test", "direction": "min", "value": 0.6}],
        "fairness": None,
    }
    fresh = type(version).objects.get(pk=version.pk)
    assert not any(b.startswith("quality gate") for b in fresh.promotion_blockers())


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"thresholds": [{"metric": "f1", "direction": "sideways", "value": 0.9}]}, "thresholds"),
        ({"thresholds": [{"metric": "f1", "value": "high"}]}, "thresholds"),
        ({"thresholds": [{"metric": "f1", "value": 0.9}, {"metric": "f1", "value": 0.8}]}, "thresholds"),
        ({"thresholds": [], "fairness": {"sensitive_column": "segment", "max_gap": -1}}, "fairness"),
        ({"thresholds": [], "fairness": {"max_gap": 0.1}}, "fairness"),
        ({"thresholds": "f1 >= 0.9"}, "thresholds"),
        ({}, "thresholds"),
    ],
)
def test_bad_gates_are_answered_400_with_the_field_and_nothing_changes(owner, body, field):
    model, _ = model_with_card(owner)
    client = factories.api_client(owner)
    assert client.put(gates_url(model), GATES, format="json").status_code == 200
    response = client.put(gates_url(model), body, format="json")
    assert response.status_code == 400, response.content
    assert field in json.dumps(response.json())
    assert client.get(gates_url(model)).json() == GATES


def test_a_body_that_is_not_json_is_a_400(owner):
    model, _ = model_with_card(owner)
    response = factories.api_client(owner).generic(
        "PUT", gates_url(model), b"{not json", content_type="application/json"
    )
    assert response.status_code == 400 and "detail" in response.json()


def test_an_ordinary_signed_in_user_reads_gates_but_cannot_change_them(owner, outsider, teammate):
    model, _ = model_with_card(owner)
    factories.api_client(owner).put(gates_url(model), GATES, format="json")
    for client in (signed_in(outsider), factories.api_client(outsider)):
        assert client.get(gates_url(model)).json() == GATES
        refused = client.put(gates_url(model), json.dumps({"thresholds": []}), content_type="application/json")
        assert refused.status_code == 403 and "detail" in refused.json()
    assert QualityThreshold.objects.filter(model=model).count() == 2
    assert FairnessLimit.objects.filter(model=model).exists()
    # The team may.
    response = factories.api_client(teammate).put(gates_url(model), {"thresholds": []}, format="json")
    assert response.status_code == 200 and not QualityThreshold.objects.filter(model=model).exists()


def test_a_hook_added_through_the_api_signs_with_the_secret_shown_once(owner, http_server, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]  # the test's receiver is on loopback
    received = []

    def respond(handler):
        received.append((handler.headers[SIGNATURE_HEADER], handler.rfile.read(int(handler.headers["Content-Length"]))))
        handler.send_response(204)
        handler.end_headers()

    model, _ = model_with_card(owner)
    client = factories.api_client(owner)
    url = http_server(respond) + "/deploy"
    created = client.post(hooks_url(model), {"url": url}, format="json")
    assert created.status_code == 201, created.content
    secret = created.json()["secret"]
    assert len(secret) == 64 and created.json()["url"] == url and created.json()["created_by"] == owner.username

    listed = client.get(hooks_url(model)).json()
    assert [hook["url"] for hook in listed] == [url] and "secret" not in listed[0]

    queue_deliveries(model.asset.team, "model.promoted", {"model": model.asset.slug, "version": 1})
    assert deliver_due() == 1
    header, body = received[0]
    assert verify(secret, header, body)

    hook_id = created.json()["id"]
    log = client.get(hooks_url(model, hook_id, "deliveries")).json()
    assert [(d["event"], d["state"], d["last_status_code"], d["attempts"]) for d in log] == [
        ("model.promoted", "delivered", 204, 1)
    ]
    assert client.get(hooks_url(model)).json()[0]["recent_deliveries"][0]["state"] == "delivered"

    assert client.delete(hooks_url(model, hook_id)).status_code == 204
    assert client.get(hooks_url(model)).json() == []
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://127.0.0.1:9/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("ftp://ci.example.com/hook", "http or https"),
        ("not a url", "http or https"),
    ],
)
def test_a_hook_address_the_portal_must_not_call_is_refused_with_a_400(owner, url, words):
    model, _ = model_with_card(owner)
    response = factories.api_client(owner).post(hooks_url(model), {"url": url}, format="json")
    assert response.status_code == 400, response.content
    assert words in json.dumps(response.json()) and not DeliveryHook.objects.exists()


def test_the_same_hook_twice_and_a_model_without_a_team_are_400s(owner):
    model, _ = model_with_card(owner)
    client = factories.api_client(owner)
    assert client.post(hooks_url(model), {"url": "https://ci.example.com/hook"}, format="json").status_code == 201
    again = client.post(hooks_url(model), {"url": "https://ci.example.com/hook"}, format="json")
    assert again.status_code == 400 and "already has a webhook" in again.json()["errors"]["url"][0]
    model.asset.team = None
    model.asset.save(update_fields=["team"])
    orphan = client.post(hooks_url(model), {"url": "https://ci.example.com/other"}, format="json")
    assert orphan.status_code == 400 and "team" in orphan.json()["detail"]
    assert client.get(hooks_url(model)).json() == []


def test_an_ordinary_signed_in_user_can_neither_read_add_nor_remove_hooks(owner, outsider):
    model, _ = model_with_card(owner)
    hook = DeliveryHook.objects.create(team=model.asset.team, url="https://ci.example.com/hook", created_by=owner)
    for client in (signed_in(outsider), factories.api_client(outsider)):
        assert client.get(hooks_url(model)).status_code == 403
        assert client.get(hooks_url(model, hook.pk, "deliveries")).status_code == 403
        added = client.post(hooks_url(model), json.dumps({"url": "https://evil.example.com/"}),
                            content_type="application/json")  # fmt: skip
        assert added.status_code == 403 and "detail" in added.json()
        assert client.delete(hooks_url(model, hook.pk)).status_code == 403
    assert list(DeliveryHook.objects.values_list("url", flat=True)) == ["https://ci.example.com/hook"]


def test_another_team_s_hook_is_not_found_through_this_model(owner, outsider):
    model, _ = model_with_card(owner)
    other_team = factories.team("Elsewhere")
    foreign = DeliveryHook.objects.create(team=other_team, url="https://ci.example.com/x", created_by=outsider)
    client = factories.api_client(owner)
    assert client.delete(hooks_url(model, foreign.pk)).status_code == 404
    assert DeliveryHook.objects.filter(pk=foreign.pk).exists()


def test_a_hook_pointing_inside_the_network_is_not_sent_and_not_retried(owner, http_server, settings):
    """A hook saved before the guard (or around the forms) at a loopback address: the send refuses it."""
    received = []

    def respond(handler):
        received.append(handler.path)
        handler.send_response(204)
        handler.end_headers()

    settings.OUTBOUND_ALLOWED_HOSTS = []
    model, _ = model_with_card(owner)
    DeliveryHook.objects.create(team=model.asset.team, url=http_server(respond) + "/hook", created_by=owner)
    queue_deliveries(model.asset.team, "model.promoted", {"model": model.asset.slug})
    assert deliver_due() == 0
    delivery = WebhookDelivery.objects.get()
    assert received == []
    assert delivery.state == DeliveryState.FAILED and delivery.attempts == 1
    assert delivery.last_error.startswith("Not sent:") and "loopback" in delivery.last_error
