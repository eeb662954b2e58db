"""Error answers and /health/ (issue 13, item 11): the database away is a 503 that says so (JSON under /api/, with
Retry-After), any other failure a 500 in the site's style or JSON, and /health/ reports database, broker, worker
and beat, briefly to anyone and in detail to staff."""

import re
from datetime import timedelta

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client
from django.utils import timezone

from accounts.authentication import BearerOrTokenAuthentication
from tests import factories
from tests.helpers import wait_until

pytestmark = pytest.mark.django_db

DOWN = OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')


def _anonymous():
    return Client(raise_request_exception=False)


def _signed_in(user):
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _fail_authentication(monkeypatch, exc):
    def authenticate(self, request):
        raise exc

    monkeypatch.setattr(BearerOrTokenAuthentication, "authenticate", authenticate)


def test_an_api_call_while_the_database_is_away_answers_json_503_with_retry_after(monkeypatch):
    _fail_authentication(monkeypatch, DOWN)
    response = _anonymous().get("/api/v1/assets/", HTTP_AUTHORIZATION="Bearer whatever")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert "temporarily unavailable" in response.json()["detail"]
    assert int(response["Retry-After"]) > 0


def test_a_page_while_the_database_is_away_shows_the_unavailable_page(owner, monkeypatch):
    from django.contrib.sessions.backends.db import SessionStore

    client = _signed_in(owner)

    def load(self):
        raise InterfaceError("connection already closed")

    monkeypatch.setattr(SessionStore, "load", load)
    response = client.get("/catalog/")
    assert response.status_code == 503
    page = response.content.decode()
    assert "The portal is temporarily unavailable" in page and "Nothing you saved before is lost" in page
    assert '<link rel="stylesheet"' in page and "Server Error" not in page
    assert int(response["Retry-After"]) > 0


def test_a_view_failing_on_the_lost_database_answers_503_even_under_debug(owner, monkeypatch, settings):
    from portal import views

    settings.DEBUG = True  # make run: Django would show its debug page

    def render(*args, **kwargs):
        raise DOWN

    monkeypatch.setattr(views, "render", render)
    response = _signed_in(owner).get("/")
    assert response.status_code == 503
    assert "temporarily unavailable" in response.content.decode()


def test_any_other_api_failure_is_json_500(monkeypatch):
    _fail_authentication(monkeypatch, RuntimeError("a bug"))
    response = _anonymous().get("/api/v1/assets/", HTTP_AUTHORIZATION="Bearer whatever")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"] and "a bug" not in response.content.decode()


def test_any_other_page_failure_is_the_site_s_500_page(owner, monkeypatch):
    from portal import views

    def render(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views, "render", render)
    response = _signed_in(owner).get("/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page and '<link rel="stylesheet"' in page


def test_the_error_pages_need_no_database(rf, django_assert_num_queries):
    from portal.errors import server_error, unavailable

    with django_assert_num_queries(0):
        assert unavailable(rf.get("/catalog/")).status_code == 503
        assert server_error(rf.get("/catalog/")).status_code == 500


# --- /health/ ----------------------------------------------------------------------------------------------------
def _beats(age=timedelta(seconds=5)):
    from portal.models import ServiceHeartbeat

    for name in (ServiceHeartbeat.WORKER, ServiceHeartbeat.BEAT):
        ServiceHeartbeat.touch(name, at=timezone.now() - age)


def test_health_is_ok_when_database_broker_worker_and_beat_answer():
    _beats()
    response = Client().get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_is_degraded_without_a_worker_heartbeat_and_tells_only_staff_why(staff, outsider):
    _beats(age=timedelta(minutes=10))
    anonymous = Client().get("/health/")
    assert anonymous.status_code == 200 and anonymous.json() == {"status": "degraded"}
    assert _signed_in(outsider).get("/health/").json() == {"status": "degraded"}
    body = _signed_in(staff).get("/health/").json()
    assert body["status"] == "degraded"
    assert set(body["checks"]) == {"database", "broker", "worker", "beat"}
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]
    # Ten minutes ago, give or take the seconds a loaded machine takes between writing the beat and reading it.
    assert not body["checks"]["worker"]["ok"] and re.search(
        r"last seen 6[01]\d s ago", body["checks"]["worker"]["detail"]
    )
    assert not body["checks"]["beat"]["ok"]


def test_health_is_degraded_when_the_broker_does_not_answer(staff, monkeypatch):
    from portal.celery import app

    _beats()
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    body = _signed_in(staff).get("/health/").json()
    assert body["status"] == "degraded"
    assert not body["checks"]["broker"]["ok"] and "ConnectionError" in body["checks"]["broker"]["detail"]


def test_the_beat_scheduler_notes_its_ticks(monkeypatch):
    from django_celery_beat.schedulers import DatabaseScheduler

    from portal.beat import PortalScheduler
    from portal.models import ServiceHeartbeat

    monkeypatch.setattr(DatabaseScheduler, "tick", lambda self, *args, **kwargs: 60.0)
    scheduler = PortalScheduler.__new__(PortalScheduler)
    assert scheduler.tick() <= 15
    assert (timezone.now() - ServiceHeartbeat.objects.get(name="beat").beat_at).total_seconds() < 5


def test_beat_schedules_the_worker_heartbeat_and_the_attachment_cleanup(settings):
    tasks = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks["portal.tasks.worker_heartbeat"] <= 60
    assert tasks["trust.tasks.remove_orphan_attachments"] <= 3600
    assert settings.CELERY_BEAT_SCHEDULER == "portal.beat:PortalScheduler"


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_touches_its_heartbeat(celery_worker):
    from portal.models import ServiceHeartbeat
    from portal.tasks import worker_heartbeat

    worker_heartbeat.delay()
    wait_until(lambda: ServiceHeartbeat.objects.filter(name="worker").exists(), timeout=20)


def test_health_for_a_token_caller_is_the_short_answer(owner):
    _beats()
    assert factories.api_client(owner).get("/health/").json() == {"status": "ok"}
