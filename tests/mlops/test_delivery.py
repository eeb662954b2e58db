"""A promotion moves MLflow's champion alias and sends signed webhooks, retried with backoff, logged per hook."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from core.choices import JobKind, JobState
from core.models import JobRun
from core.tasks import run_job
from mlops.choices import DeliveryState
from mlops.hooks import SIGNATURE_HEADER, deliver_due, verify
from mlops.models import DeliveryHook, WebhookDelivery
from tests.mlops.conftest import promote

pytestmark = pytest.mark.django_db


def test_promotion_sets_the_champion_alias_read_back_with_the_mlflow_client(trained, owner, teammate, mlflow_store):
    model, version = trained
    promote(model, version, owner, teammate)
    run = JobRun.objects.get(kind=JobKind.MLFLOW_ALIAS)
    run_job(run.pk)
    run.refresh_from_db()
    assert run.state == JobState.SUCCEEDED, run.error
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_store, registry_uri=mlflow_store)
    name = run.result["mlflow_name"]
    champion = client.get_model_version_by_alias(name, "champion")
    assert champion.run_id == version.mlflow_run_id
    assert client.get_registered_model(name).aliases == {"champion": champion.version}
    version.refresh_from_db()
    assert version.mlflow_aliases == ["champion"] and version.mlflow_version == int(champion.version)


def test_a_signed_webhook_reaches_the_receiver_which_checks_the_signature(trained, owner, teammate, team,
                                                                          http_server, settings):  # fmt: skip
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]  # the receiver is on loopback, which the guard refuses otherwise
    received = []

    def respond(handler):
        body = handler.rfile.read(int(handler.headers["Content-Length"]))
        received.append((handler.headers[SIGNATURE_HEADER], body))
        handler.send_response(204)
        handler.end_headers()

    url = http_server(respond)
    hook = DeliveryHook.objects.create(team=team, url=url, created_by=owner)
    model, version = trained
    promote(model, version, owner, teammate)
    assert deliver_due() == 1
    header, body = received[0]
    assert verify(hook.secret, header, body)  # what the receiver does
    assert not verify("another secret", header, body)
    assert not verify(hook.secret, header, body.replace(b"model.promoted", b"model.retired"))
    assert not verify(hook.secret, header, body, now=timezone.now().timestamp() + 3600)  # replayed an hour later
    payload = json.loads(body)
    assert payload["event"] == "model.promoted" and payload["version"] == version.version
    assert payload["model"] == model.asset.slug and payload["alias"] == "champion"
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.DELIVERED and delivery.last_status_code == 204 and delivery.attempts == 1


def test_a_failing_receiver_is_retried_with_backoff_then_given_up(trained, owner, teammate, team, http_server,
                                                                  settings):  # fmt: skip
    settings.MLOPS_WEBHOOK_ATTEMPTS = 3
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]

    def respond(handler):
        handler.send_response(503)
        handler.end_headers()

    DeliveryHook.objects.create(team=team, url=http_server(respond), created_by=owner)
    model, version = trained
    promote(model, version, owner, teammate)
    waits = []
    for _ in range(3):
        delivery = WebhookDelivery.objects.get()
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        before = timezone.now()
        assert deliver_due() == 0
        delivery.refresh_from_db()
        waits.append(round((delivery.next_attempt_at - before).total_seconds()))
    assert delivery.state == DeliveryState.FAILED and delivery.attempts == 3 and delivery.last_error == "HTTP 503"
    assert waits[0] == 30 and waits[1] == 60  # doubling; the third attempt was the last
    assert deliver_due() == 0  # given up: never sent again
