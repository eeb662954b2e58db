"""Problems upstream reach the people downstream: who is told, what the message says, once per transition."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone

from catalog.models import Watch
from core.choices import NotificationKind
from core.models import Notification
from monitoring.freshness import evaluate
from tests import factories
from tests.helpers import tell_deprecations
from trust import downstream
from trust.choices import IssueStatus, NoticeState
from trust.models import Deprecation, ProblemDelivery, ProblemNotice, UpstreamProblem


@pytest.fixture
def sales(db):
    """Orders (alice) → Daily sales (bob) → Executive sales dashboard (bob), watched by erin; bob also owns 40
    reports built on Daily sales."""
    alice, bob, erin = factories.user("alice"), factories.user("bob"), factories.user("erin")
    orders = factories.dataset("Orders", owner=alice).asset
    daily = factories.dataset("Daily sales", owner=bob).asset
    dashboard = factories.report("Executive sales dashboard", owner=bob).asset
    factories.edge(orders, daily)
    factories.edge(daily, dashboard)
    reports = [factories.report(f"Store report {n:02}", owner=bob).asset for n in range(40)]
    for report in reports:
        factories.edge(daily, report)
    Watch.objects.create(user=erin, asset=dashboard)
    return {"alice": alice, "bob": bob, "erin": erin, "orders": orders, "daily": daily, "dashboard": dashboard}


def upstream_news(user):
    return list(Notification.objects.filter(recipient=user, kind=NotificationKind.UPSTREAM).order_by("pk"))


def fan_out_all():
    """What the worker does with the notices sent on commit."""
    for pk in ProblemNotice.objects.filter(state=NoticeState.PENDING).values_list("pk", flat=True):
        downstream.fan_out(pk)


def test_a_critical_issue_reaches_watchers_and_owners_downstream_with_the_path(
    sales, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        issue = factories.data_issue(sales["orders"], sales["alice"], severity="critical", title="Duplicated rows")
    # Nothing is sent in the request: the notice waits for the worker.
    assert upstream_news(sales["erin"]) == []
    fan_out_all()

    [erin_news] = upstream_news(sales["erin"])
    assert erin_news.title == "Executive sales dashboard ← Daily sales ← Orders: critical issue 'Duplicated rows'"
    assert "http://" in erin_news.body and sales["dashboard"].get_absolute_url() in erin_news.body
    assert erin_news.url == issue.get_absolute_url()
    # bob owns 42 affected assets (Daily sales, the dashboard, 40 reports): one message listing them.
    [bob_news] = upstream_news(sales["bob"])
    assert bob_news.title == "Orders: critical issue 'Duplicated rows', upstream of 42 of your assets"
    assert "Daily sales ← Orders: critical issue 'Duplicated rows'" in bob_news.body
    assert "… and 22 more of yours downstream." in bob_news.body
    # alice reported it on her own asset: nothing upstream of her.
    assert upstream_news(sales["alice"]) == []
    emails = [message for message in mail.outbox if message.to == ["erin@example.com"]]
    assert [message.subject for message in emails][-1] == erin_news.title


def test_resolving_the_issue_sends_the_all_clear_once(sales, django_capture_on_commit_callbacks):
    issue = factories.data_issue(sales["orders"], sales["alice"], severity="critical", title="Duplicated rows")
    fan_out_all()
    issue.transition(IssueStatus.RESOLVED, by=sales["alice"])
    fan_out_all()
    fan_out_all()
    erin_news = upstream_news(sales["erin"])
    bob_news = upstream_news(sales["bob"])
    assert len(erin_news) == len(bob_news) == 2
    path = "Executive sales dashboard ← Daily sales ← Orders"
    assert erin_news[1].title == f"{path}: all clear, critical issue 'Duplicated rows' is over"
    assert bob_news[1].title == (
        "Orders: all clear, critical issue 'Duplicated rows' is over, upstream of 42 of your assets"
    )


def test_a_minor_issue_tells_nobody_downstream(sales):
    factories.data_issue(sales["orders"], sales["alice"], severity="minor")
    assert not UpstreamProblem.objects.exists()


def test_a_watcher_who_turned_problems_upstream_off_is_not_told(sales):
    Watch.objects.filter(user=sales["erin"]).update(include_upstream=False)
    factories.data_issue(sales["orders"], sales["alice"], severity="critical")
    fan_out_all()
    assert upstream_news(sales["erin"]) == []
    assert len(upstream_news(sales["bob"])) == 1


def test_announcing_an_open_cause_again_tells_nobody_twice(sales):
    first = downstream.problem_started(sales["orders"], "quality", "check-7", "quality check 'row count' fails")
    again = downstream.problem_started(sales["orders"], "quality", "check-7", "quality check 'row count' fails")
    assert first is not None and again is None
    fan_out_all()
    downstream.fan_out(first.pk)
    assert len(upstream_news(sales["erin"])) == 1


def _critical_problem_one_hop_up():
    """Orders (alice) → Executive sales dashboard (bob, watched by erin); the notice of a critical problem on
    Orders, for two people."""
    alice, bob, erin = factories.user("alice"), factories.user("bob"), factories.user("erin")
    orders = factories.dataset("Orders", owner=alice).asset
    dashboard = factories.report("Executive sales dashboard", owner=bob).asset
    factories.edge(orders, dashboard)
    Watch.objects.create(user=erin, asset=dashboard)
    notice = downstream.problem_started(orders, "issue", "x", "critical issue 'Duplicated rows'", critical=True)
    return notice


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_tell_each_person_once(monkeypatch):
    # The two sweeps below are the only ones: the notice is not also handed to the suite's background worker, which
    # would otherwise race them (and win, under load).
    monkeypatch.setattr(downstream, "_send", lambda notice_id: None)
    notice = _critical_problem_one_hop_up()
    barrier = threading.Barrier(2)
    results = []

    def sweep():
        try:
            barrier.wait()
            results.append(downstream.fan_out(notice.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str) == [2, None]
    assert Notification.objects.filter(kind=NotificationKind.UPSTREAM).count() == 2
    assert ProblemDelivery.objects.count() == 2
    assert ProblemNotice.objects.get().state == NoticeState.SENT


@pytest.mark.django_db(transaction=True)
def test_a_worker_stalled_past_its_lease_and_the_one_taking_over_tell_each_person_once(monkeypatch):
    """Worker A stalls in the middle of a batch (its messages written, not yet committed) until its lease has run
    out; worker B finds the notice lost and would take it over. Before, B's batch read no deliveries (A's were not
    committed), its own were dropped as conflicts, and it sent its messages anyway: everyone twice."""
    monkeypatch.setattr(downstream, "_send", lambda notice_id: None)  # only the two workers below
    notice = _critical_problem_one_hop_up()
    stalled, resume = threading.Event(), threading.Event()
    real_deliver = downstream.deliver

    def deliver(messages, **options):
        if threading.current_thread().name == "A":
            stalled.set()
            resume.wait(timeout=20)
        return real_deliver(messages, **options)

    monkeypatch.setattr(downstream, "deliver", deliver)
    results = {}

    def work(name):
        try:
            results[name] = downstream.fan_out(notice.pk)
        finally:
            connection.close()

    first = threading.Thread(target=work, args=("A",), name="A")
    first.start()
    assert stalled.wait(timeout=20)
    with time_machine.travel(timezone.now() + ProblemNotice.LEASE + timedelta(minutes=1)):
        second = threading.Thread(target=work, args=("B",), name="B")
        second.start()
        second.join(timeout=2)  # B waits on A's batch (or, before, on A's uncommitted deliveries)
        resume.set()
        first.join(timeout=30)
        second.join(timeout=30)
    assert results == {"A": 2, "B": None}
    assert Notification.objects.filter(kind=NotificationKind.UPSTREAM).count() == 2
    assert ProblemNotice.objects.get().state == NoticeState.SENT


def test_a_notice_whose_worker_was_lost_is_finished_without_telling_anyone_twice(sales):
    notice = downstream.problem_started(sales["orders"], "issue", "x", "critical issue 'Duplicated rows'")
    # A first worker told erin, then died before it finished.
    downstream.claim(notice.pk)
    downstream.deliver(
        [downstream.Message(sales["erin"], "told", "told")], kind=NotificationKind.UPSTREAM, asset=sales["orders"]
    )
    ProblemDelivery.objects.create(notice=notice, user=sales["erin"])
    ProblemNotice.objects.filter(pk=notice.pk).update(claimed_at=timezone.now() - timedelta(hours=1))
    assert downstream.relay() == 1
    downstream.fan_out(notice.pk)
    assert len(upstream_news(sales["erin"])) == 1
    assert len(upstream_news(sales["bob"])) == 1


def test_a_freshness_check_turning_late_and_fresh_again(sales):
    policy = factories.freshness_policy(sales["orders"], last_seen_at=timezone.now() - timedelta(hours=1))
    evaluate(policy, trigger="sweep")
    policy.last_seen_at = timezone.now() - timedelta(days=1, minutes=30)
    evaluate(policy, trigger="sweep", observed=["last_seen_at"])
    fan_out_all()
    [late] = upstream_news(sales["erin"])
    assert late.title == "Executive sales dashboard ← Daily sales ← Orders: Orders is late"
    assert [message.subject for message in mail.outbox if message.to == ["erin@example.com"]] == [late.title]
    [grouped] = upstream_news(sales["bob"])
    assert grouped.title == "Orders: Orders is late, upstream of 42 of your assets"
    policy.last_seen_at = timezone.now()
    evaluate(policy, trigger="ping", observed=["last_seen_at"])
    fan_out_all()
    assert "all clear" in upstream_news(sales["erin"])[-1].title
    assert len(upstream_news(sales["bob"])) == 2


def test_a_deprecation_and_its_withdrawal_reach_each_person_downstream_once_with_the_path(sales):
    sunset = timezone.localdate() + timedelta(days=30)
    deprecation = Deprecation.propose(
        sales["orders"], by=sales["alice"], reason="Moving to orders v2.", sunset_date=sunset,
    )  # fmt: skip
    fan_out_all()
    tell_deprecations()
    # The deprecation's own message (reason, what is affected, what to do) is the one erin and bob get: the fan-out
    # does not say it a second time.
    assert upstream_news(sales["erin"]) == upstream_news(sales["bob"]) == []
    [told] = Notification.objects.filter(recipient=sales["erin"], kind="deprecation")
    path = "Executive sales dashboard ← Daily sales ← Orders"
    assert told.title == f"{path}: deprecated, to be retired on {sunset:%d %b %Y}"
    assert "Reason: Moving to orders v2." in told.body
    assert told.title in [message.subject for message in mail.outbox if message.to == ["erin@example.com"]]
    # bob owns 42 assets downstream: one message listing them with their paths.
    [grouped] = Notification.objects.filter(recipient=sales["bob"], kind="deprecation")
    assert grouped.title == f"Orders: deprecated, to be retired on {sunset:%d %b %Y}, upstream of 42 of your assets"
    assert f"Daily sales ← Orders: deprecated, to be retired on {sunset:%d %b %Y}" in grouped.body
    assert f"{path}: deprecated" in grouped.body
    assert "… and 22 more of yours downstream." in grouped.body
    deprecation.withdraw(by=sales["alice"])
    fan_out_all()
    tell_deprecations()
    news = Notification.objects.filter(recipient=sales["erin"], kind="deprecation").order_by("pk")
    assert [row.title for row in news][1:] == [f"{path}: deprecation withdrawn, it stays in use"]
    assert Notification.objects.filter(recipient=sales["bob"], kind="deprecation").count() == 2
    assert upstream_news(sales["erin"]) == []


def test_a_breaking_schema_change_is_told_once_and_an_added_column_is_not(sales):
    from catalog.scanning import FoundColumn, apply_schema

    dataset = sales["orders"].dataset
    apply_schema(dataset, [FoundColumn("id", "integer"), FoundColumn("amount", "numeric")], "scan")
    apply_schema(
        dataset, [FoundColumn("id", "integer"), FoundColumn("amount", "numeric"), FoundColumn("x", "text")], "scan"
    )
    fan_out_all()
    assert upstream_news(sales["erin"]) == []
    apply_schema(dataset, [FoundColumn("id", "integer"), FoundColumn("x", "text")], "scan")
    fan_out_all()
    [news] = upstream_news(sales["erin"])
    assert "breaking schema change on Orders: removed amount" in news.title


def test_a_breaking_schema_change_unknown_column_by_column_reaches_each_person_downstream_once(sales):
    """Without column lineage everything downstream is affected: the dataset's own people get the catalog's notice,
    the people downstream one message each, with the path (not also the catalog's notice)."""
    from catalog.scanning import FoundColumn, apply_schema

    dataset = sales["orders"].dataset
    apply_schema(dataset, [FoundColumn("id", "integer"), FoundColumn("amount", "numeric")], "scan")
    apply_schema(dataset, [FoundColumn("id", "integer")], "scan")
    fan_out_all()
    bob_news = list(Notification.objects.filter(recipient=sales["bob"]))
    assert len(bob_news) == 1, [row.title for row in bob_news]
    title = "Orders: breaking schema change on Orders: removed amount, upstream of 42 of your assets"
    assert bob_news[0].title == title
    [alice_news] = Notification.objects.filter(recipient=sales["alice"])
    assert alice_news.kind == NotificationKind.SCHEMA_CHANGE
    assert "Downstream: 42 assets" in alice_news.body


def test_paths_follow_a_shortest_route(sales):
    parents = downstream.downstream_paths(sales["orders"].pk)
    assert parents[sales["dashboard"].pk] == sales["daily"].pk
    assert parents[sales["daily"].pk] == sales["orders"].pk
    assert len(parents) == 42


def test_an_owner_leaving_reads_not_assessed_and_is_no_alarm_downstream(db):
    """Issue 15's badge rules (merged after this test was written): an owner who left makes the badge Unknown (not
    assessed), no longer "Use with caution"; only problem levels are told downstream, so nobody is alarmed. The
    drop told downstream for a reason of the asset's own is left to the models' validation rule (Use with caution
    for a version in use without evaluation), the only own rule still at a problem level."""
    from trust.badges import refresh_badges, refresh_stale

    alice, erin = factories.user("alice"), factories.user("erin")
    orders = factories.trusted_asset(alice, "Orders").asset
    factories.freshness_policy(orders, last_seen_at=timezone.now() - timedelta(hours=1))
    dashboard = factories.report("Executive sales dashboard", owner=factories.user("bob")).asset
    factories.edge(orders, dashboard)
    Watch.objects.create(user=erin, asset=dashboard)
    assert refresh_badges([orders])[orders.pk].level == "trusted"

    alice.is_active = False
    alice.save()  # announces people_changed: her assets' badges are marked stale
    refresh_stale()
    fan_out_all()
    assert refresh_badges([orders])[orders.pk].level == "unknown"
    assert upstream_news(erin) == []  # not assessed is no alarm downstream


def test_a_badge_dropping_because_of_a_problem_upstream_is_not_told_twice(sales):
    from trust.badges import refresh_badges, refresh_stale

    refresh_badges([sales["orders"], sales["daily"], sales["dashboard"]])
    factories.data_issue(sales["orders"], sales["alice"], severity="critical", title="Duplicated rows")
    refresh_stale()
    fan_out_all()
    # The issue is told; the badges it dropped downstream are not news of their own.
    assert len(upstream_news(sales["erin"])) == 1
    assert not UpstreamProblem.objects.filter(cause_kind="badge").exists()


def test_a_model_drifting_after_go_live_is_told_downstream_and_healthy_again_clears_it(sales):
    """The model monitoring's event (issue 19) reaches the people of what is built on the model's predictions."""
    from mlops.events import send_monitoring_changed
    from trust.models import StoredBadge

    model = factories.registered_model("Churn predictor", owner=sales["alice"]).asset
    factories.edge(model, sales["daily"])
    StoredBadge.objects.create(asset=model, level="trusted", verdicts=[])
    send_monitoring_changed(model.pk, "healthy", "drifting", "feature drift on tenure")
    assert StoredBadge.objects.get(asset=model).stale  # its badge reads the monitoring status
    fan_out_all()
    [news] = upstream_news(sales["erin"])
    assert news.title == (
        "Executive sales dashboard ← Daily sales ← Churn predictor: "
        "Churn predictor is drifting: feature drift on tenure"
    )
    send_monitoring_changed(model.pk, "drifting", "healthy")
    fan_out_all()
    assert "all clear" in upstream_news(sales["erin"])[-1].title
