"""Alerts: every transition told once to owner, team and watchers, on the channels each chose."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from catalog.models import Watch
from core.choices import NotificationKind
from core.models import Alert, Notification, NotificationPreference
from core.notifications import notify
from core.tasks import post_webhook
from monitoring import freshness
from monitoring.choices import FreshnessStatus
from monitoring.freshness import claim_due, evaluate, record_ping
from monitoring.models import FreshnessCheck, FreshnessPolicy
from monitoring.tasks import check_freshness, sweep_freshness
from tests import factories
from tests.concurrency import run_at_once
from tests.monitoring.conftest import policy_for


def _overdue_policy(asset, hours=3):
    """Seen two days ago, announced fresh, deadline passed: the next evaluation is a transition to stale."""
    now = timezone.now()
    return policy_for(
        asset,
        last_seen_at=now - timedelta(days=1, hours=hours),
        announced_status=FreshnessStatus.FRESH,
        next_check_at=now - timedelta(minutes=1),
    )


@pytest.mark.django_db
def test_a_transition_tells_owner_team_and_watchers_once(dataset, owner, teammate, outsider):
    watcher = factories.user("wanda")
    Watch.objects.create(user=watcher, asset=dataset.asset)
    policy = _overdue_policy(dataset)
    assert evaluate(policy, trigger="sweep") == FreshnessStatus.STALE
    alert = Alert.objects.get()
    assert (alert.from_status, alert.to_status, alert.kind) == ("fresh", "stale", NotificationKind.FRESHNESS)
    assert alert.title == "Orders is stale"
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {"olivia", "tom", "wanda"}
    assert {message.to[0] for message in mail.outbox} == {"olivia@example.com", "tom@example.com", "wanda@example.com"}
    # The status stays stale: evaluating again says nothing new.
    evaluate(policy, trigger="sweep")
    assert Alert.objects.count() == 1
    assert Notification.objects.count() == 3


@pytest.mark.django_db
def test_recovery_is_announced_and_a_new_policy_settling_is_not(dataset):
    policy = policy_for(dataset)
    record_ping(policy, "success")  # "" → fresh: a new policy's first ping is not news
    assert not Alert.objects.exists()
    record_ping(policy, "fail")
    record_ping(policy, "success")
    assert list(Alert.objects.order_by("pk").values_list("from_status", "to_status")) == [
        ("fresh", "stale"),
        ("stale", "fresh"),
    ]
    assert Alert.objects.order_by("pk").last().title == "Orders is fresh again"


@pytest.mark.django_db
def test_two_sweepers_holding_the_same_old_state_announce_once(dataset, teammate):
    policy = _overdue_policy(dataset)
    first = FreshnessPolicy.objects.get(pk=policy.pk)
    second = FreshnessPolicy.objects.get(pk=policy.pk)  # read before the first one wrote anything
    evaluate(first, trigger="sweep")
    evaluate(second, trigger="sweep")
    assert Alert.objects.count() == 1
    assert Notification.objects.count() == 2  # olivia (owner) and tom (team): once each


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_raise_one_alert_per_transition(owner, team, teammate):
    policies = [_overdue_policy(factories.dataset(f"Table {n}", owner=owner, team=team)) for n in range(5)]

    def sweep():
        for policy in claim_due():
            evaluate(policy, trigger="sweep")

    errors = run_at_once(sweep)
    assert errors == []
    assert Alert.objects.count() == len(policies)
    assert Notification.objects.count() == 2 * len(policies)
    assert set(FreshnessPolicy.objects.values_list("announced_status", flat=True)) == {"stale"}


@pytest.mark.django_db
def test_people_choose_their_channels(dataset, owner, teammate):
    NotificationPreference.objects.create(user=owner, inbox=True, email=False)
    NotificationPreference.objects.create(user=teammate, inbox=False, email=True)
    notify([owner, teammate], kind=NotificationKind.FRESHNESS, title="Orders is stale", asset=dataset.asset)
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["olivia"]
    assert [message.to for message in mail.outbox] == [["tom@example.com"]]


@pytest.mark.django_db
def test_a_team_webhook_gets_a_slack_compatible_message(dataset, team, django_capture_on_commit_callbacks):
    team.webhook_url = "https://hooks.example.com/services/T000/B000/XXX"
    team.save()
    with mock.patch.object(post_webhook, "apply_async") as send, django_capture_on_commit_callbacks(execute=True):
        evaluate(_overdue_policy(dataset), trigger="sweep")
    (url, payload), _ = send.call_args.args[0], send.call_args.kwargs
    assert url == team.webhook_url
    assert payload["text"].startswith("*Orders is stale*")


@pytest.mark.django_db
def test_the_webhook_task_posts_the_json(http_server):
    received = []

    def respond(handler):
        received.append(handler.rfile.read(int(handler.headers["Content-Length"])))
        handler.send_response(200)
        handler.end_headers()

    url = http_server(respond)
    assert post_webhook(url, {"text": "Orders is stale"}) == 200
    assert received == [b'{"text": "Orders is stale"}']


def test_an_unreachable_webhook_is_retried_later(closed_port):
    result = post_webhook.apply(args=[f"http://127.0.0.1:{closed_port}/hook", {"text": "x"}], retries=5)
    # Eager retries run at once; after the last one the connection error is what remains.
    assert result.failed()
    assert "Connection" in type(result.result).__name__ or "Connection" in str(result.result)


@pytest.mark.django_db
def test_the_sweep_evaluates_due_heartbeats_and_leaves_the_rest(dataset, owner, team):
    due = _overdue_policy(dataset)
    later = policy_for(
        factories.dataset("Fresh one", owner=owner, team=team), next_check_at=timezone.now() + timedelta(hours=1)
    )
    assert sweep_freshness() == {"dispatched": 0, "evaluated": 1}
    due.refresh_from_db()
    later.refresh_from_db()
    assert due.announced_status == "stale" and due.next_check_at is None
    assert later.announced_status == ""


@pytest.mark.django_db
def test_one_sweep_claims_every_due_policy_a_batch_at_a_time(owner, team):
    heartbeats = [_overdue_policy(factories.dataset(f"Nightly {n}", owner=owner, team=team)) for n in range(5)]
    now = timezone.now()
    files = [
        policy_for(factories.dataset(f"File {n}", owner=owner, team=team), method="file", next_check_at=now)
        for n in range(3)
    ]
    dispatched = []

    assert freshness.sweep(dispatched.append, batch=2) == {"dispatched": 3, "evaluated": 5}

    assert sorted(pk for batch in dispatched for pk in batch) == sorted(policy.pk for policy in files)
    assert FreshnessCheck.objects.filter(policy__in=heartbeats, trigger="sweep").count() == 5
    assert Alert.objects.count() == 5
    assert freshness.sweep(dispatched.append, batch=2) == {"dispatched": 0, "evaluated": 0}


@pytest.mark.django_db
def test_a_probe_task_skips_policies_paused_or_deleted_since_the_sweep(owner, team, settings, tmp_path):
    settings.DATA_ROOT = tmp_path
    (tmp_path / "orders.csv").write_text("id\n1\n")
    probed = policy_for(factories.dataset("Orders", owner=owner, team=team), method="file", file_path="orders.csv")
    paused = policy_for(factories.dataset("Paused", owner=owner, team=team), method="file", paused=True)
    deleted = policy_for(factories.dataset("Deleted", owner=owner, team=team), method="file")
    deleted_pk = deleted.pk
    deleted.delete()

    check_freshness([probed.pk, paused.pk, deleted_pk])

    assert list(FreshnessCheck.objects.values_list("policy_id", "status")) == [(probed.pk, "fresh")]


@pytest.mark.django_db
def test_a_failed_check_now_tells_only_the_person_who_pressed_it(dataset, owner, teammate, settings, tmp_path):
    from core.choices import JobKind
    from core.models import JobRun
    from core.tasks import run_job

    settings.DATA_ROOT = tmp_path
    policy_for(dataset, method="file", file_path="missing.csv", announced_status="fresh")
    run = JobRun.objects.create(kind=JobKind.FRESHNESS_CHECK, asset=dataset.asset, requested_by=teammate)
    run_job(run.pk)
    run.refresh_from_db()
    assert run.state == "failed" and "no file at 'missing.csv'" in run.error
    job_notes = Notification.objects.filter(kind=NotificationKind.JOB)
    assert list(job_notes.values_list("recipient__username", flat=True)) == ["tom"]
    # The freshness change itself (fresh → unknown) is announced to the whole audience, once.
    assert Alert.objects.get().to_status == "unknown"


@pytest.mark.django_db
def test_old_freshness_history_is_pruned(dataset, settings):
    from monitoring.models import FreshnessCheck
    from monitoring.tasks import prune_freshness_history

    settings.FRESHNESS_HISTORY_DAYS = 30
    policy = policy_for(dataset)
    now = timezone.now()
    for days in (40, 31, 29, 1):
        FreshnessCheck.objects.create(
            policy=policy, checked_at=now - timedelta(days=days), trigger="ping", status="fresh"
        )
    assert prune_freshness_history() == 2
    assert FreshnessCheck.objects.count() == 2
