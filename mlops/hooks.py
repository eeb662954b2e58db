"""The CI/CD hook: when a version goes into use, MLflow's alias follows it and the team's webhooks hear of it.

A webhook body is JSON; its signature is ``HMAC-SHA256(secret, f"{timestamp}.{body}")`` in hex, sent as
``X-Portal-Signature: t=<timestamp>,v1=<hex>`` (the Stripe scheme): a receiver recomputes it and refuses a stale
timestamp, so a captured request cannot be replayed later. Each delivery is a row (the outbox and its log); the
sender claims an attempt with a compare-and-set on ``next_attempt_at`` and retries with doubling waits.
"""

import hashlib
import hmac
import json
import logging
import time
from datetime import timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import outbound
from core.background import send
from mlops.choices import DeliveryState
from mlops.models import DeliveryHook, WebhookDelivery

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Portal-Signature"
TOLERANCE_SECONDS = 300


def sign(secret, timestamp, body):
    """The hex HMAC-SHA256 of ``"{timestamp}.{body}"`` (``body`` as bytes) under ``secret``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify(secret, header, body, now=None, tolerance=TOLERANCE_SECONDS):
    """What a receiver does: True when ``header`` signs ``body`` with ``secret`` and is recent enough."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), parts.get("v1", ""))


def queue_deliveries(team, event, payload):
    """One delivery per active hook of ``team``, sent once the surrounding transaction commits."""
    if team is None:
        return []
    rows = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(hook=hook, event=event, payload=payload) for hook in team.delivery_hooks.filter(active=True)
    )
    if rows:
        from mlops.tasks import deliver_due_webhooks

        transaction.on_commit(lambda: send(deliver_due_webhooks))
    return rows


def backoff(attempts):
    """The wait after the ``attempts``-th failed attempt: 30 s, 60 s, 120 s … (``MLOPS_WEBHOOK_BACKOFF_SECONDS``)."""
    return timedelta(seconds=settings.MLOPS_WEBHOOK_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0))


def attempt(delivery):
    """Post one delivery once; record the outcome and when to try again. Returns True when it was delivered."""
    now = timezone.now()
    # Claim this attempt: another sender that read the same row finds next_attempt_at moved and skips it.
    claimed = WebhookDelivery.objects.filter(
        pk=delivery.pk, state=DeliveryState.PENDING, next_attempt_at=delivery.next_attempt_at
    ).update(next_attempt_at=now + timedelta(minutes=5), attempts=delivery.attempts + 1)
    if claimed != 1:
        return False
    delivery.attempts += 1
    body = json.dumps({"event": delivery.event, "delivery": delivery.pk, **delivery.payload}, sort_keys=True).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: f"t={timestamp},v1={sign(delivery.hook.secret, timestamp, body)}",
        "X-Portal-Event": delivery.event,
    }
    code, error, refused = None, "", False
    try:
        # Through the SSRF guard: an address inside the portal's network (unless staff allow it) is refused, on the
        # very address connected to, and never retried.
        with outbound.session() as http:
            response = http.post(delivery.hook.url, data=body, headers=headers, timeout=10, allow_redirects=False)
            response.close()
        code = response.status_code
        if code >= 300:
            error = f"HTTP {code}"
    except outbound.OutboundRefused as exc:
        error, refused = f"Not sent: {exc}"[:500], True
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    fields = {"last_status_code": code, "last_error": error}
    if not error:
        fields.update(state=DeliveryState.DELIVERED, delivered_at=timezone.now())
    elif refused or delivery.attempts >= settings.MLOPS_WEBHOOK_ATTEMPTS:
        fields.update(state=DeliveryState.FAILED)
    else:
        fields.update(next_attempt_at=timezone.now() + backoff(delivery.attempts))
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    return not error


def deliver_due(limit=100):
    """Attempt every pending delivery whose time has come; returns how many were delivered."""
    due = WebhookDelivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=timezone.now())
    return sum(attempt(delivery) for delivery in due.select_related("hook").order_by("next_attempt_at")[:limit])


def hooks_of(team):
    return DeliveryHook.objects.filter(team=team)
