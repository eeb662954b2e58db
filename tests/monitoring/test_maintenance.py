"""Maintenance windows and snoozes: no alerts while one runs, the badge says so, only owners set them."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Watch
from core.models import Alert, Notification
from monitoring import maintenance
from monitoring.freshness import evaluate
from monitoring.models import MaintenanceWindow
from tests import factories
from trust import downstream
from trust.badges import compute_badges
from trust.choices import NoticeState, TrustLevel
from trust.models import ProblemNotice


@pytest.fixture
def orders(owner):
    return factories.dataset("Orders", owner=owner).asset


def turn_late(policy):
    evaluate(policy, trigger="sweep")
    policy.last_seen_at = timezone.now() - timedelta(days=1, minutes=30)
    evaluate(policy, trigger="sweep", observed=["last_seen_at"])


def test_a_snoozed_freshness_check_raises_no_alert_and_the_badge_says_until_when(orders, owner):
    policy = factories.freshness_policy(orders, last_seen_at=timezone.now() - timedelta(hours=1))
    window = maintenance.snooze(orders, by=owner, reason="Warehouse migration", hours=6)
    turn_late(policy)
    assert not Alert.objects.exists()
    assert not Notification.objects.filter(recipient=owner).exists()
    badge = compute_badges([orders])[orders.pk]
    [verdict] = [verdict for verdict in badge.verdicts if verdict.rule == "maintenance"]
    until = timezone.localtime(window.ends_at)
    assert verdict.level == TrustLevel.CAUTION
    assert verdict.reason == f"In maintenance until {until:%d %b %Y %H:%M}: Warehouse migration"
    # The badge is recomputed when the window ends.
    assert badge.expires_at <= window.ends_at


def test_alerts_resume_once_the_window_is_ended(orders, owner):
    policy = factories.freshness_policy(orders, last_seen_at=timezone.now() - timedelta(hours=1))
    window = maintenance.snooze(orders, by=owner, reason="Upgrade", hours=6)
    maintenance.end(window, by=owner)
    turn_late(policy)
    assert Alert.objects.get().title == "Orders is late"
    verdicts = compute_badges([orders])[orders.pk].verdicts
    assert [verdict.reason for verdict in verdicts if verdict.rule == "maintenance"] == ["No maintenance is going on."]


def test_a_window_on_the_freshness_check_only_does_not_silence_the_asset(orders, owner):
    maintenance.snooze(orders, by=owner, reason="Slow source", hours=2, freshness_only=True)
    assert maintenance.silenced(orders.pk, freshness=True)
    assert not maintenance.silenced(orders.pk)


def test_a_problem_on_an_asset_in_maintenance_tells_nobody_downstream(orders, owner):
    erin = factories.user("erin")
    dashboard = factories.report("Executive sales dashboard", owner=owner).asset
    factories.edge(orders, dashboard)
    Watch.objects.create(user=erin, asset=dashboard)
    maintenance.schedule(orders, by=owner, reason="Reload", ends_at=timezone.now() + timedelta(hours=3))
    notice = downstream.problem_started(orders, "issue", "x", "critical issue 'Duplicated rows'", critical=True)
    assert notice.state == NoticeState.SILENCED
    assert downstream.fan_out(notice.pk) is None
    cleared = downstream.problem_cleared(orders, "issue", "x")
    assert cleared.state == NoticeState.SILENCED
    assert not Notification.objects.filter(recipient=erin).exists()
    assert ProblemNotice.objects.filter(state=NoticeState.PENDING).count() == 0


def test_a_future_window_starts_silencing_at_its_start(orders, owner):
    start = timezone.now() + timedelta(hours=1)
    maintenance.schedule(orders, by=owner, reason="Tonight", starts_at=start, ends_at=start + timedelta(hours=2))
    assert not maintenance.silenced(orders.pk)
    assert maintenance.silenced(orders.pk, now=start + timedelta(minutes=5))
    assert compute_badges([orders])[orders.pk].expires_at <= start


def test_the_owner_sets_a_window_on_the_page_and_it_is_recorded(client, orders, owner):
    client.force_login(owner)
    url = reverse("monitoring:maintenance", kwargs={"uuid": orders.uuid})
    end = timezone.localtime() + timedelta(hours=4)
    response = client.post(url, {"ends_at": end.strftime("%Y-%m-%dT%H:%M"), "reason": "Warehouse migration"})
    assert response.status_code == 302
    window = MaintenanceWindow.objects.get()
    assert (window.set_by, window.reason, window.freshness_only) == (owner, "Warehouse migration", False)
    page = client.get(url).content.decode()
    assert "Warehouse migration" in page and "End now" in page


def test_bad_input_is_refused_with_a_message_and_the_text_kept(client, orders, owner):
    client.force_login(owner)
    url = reverse("monitoring:maintenance", kwargs={"uuid": orders.uuid})
    past = timezone.localtime() - timedelta(hours=4)
    response = client.post(url, {"ends_at": past.strftime("%Y-%m-%dT%H:%M"), "reason": "Kept reason"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "The end must come after the start." in page and "Kept reason" in page
    assert not MaintenanceWindow.objects.exists()


def test_an_outsider_can_neither_set_nor_end_a_window(client, orders, owner, outsider):
    window = maintenance.snooze(orders, by=owner, reason="Upgrade", hours=2)
    client.force_login(outsider)
    url = reverse("monitoring:maintenance", kwargs={"uuid": orders.uuid})
    end = timezone.localtime() + timedelta(hours=4)
    assert client.post(url, {"ends_at": end.strftime("%Y-%m-%dT%H:%M"), "reason": "Mine"}).status_code == 403
    assert client.post(reverse("monitoring:maintenance_end", kwargs={"pk": window.pk})).status_code == 403
    assert "End now" not in client.get(url).content.decode()
    window.refresh_from_db()
    assert window.ended_at is None and MaintenanceWindow.objects.count() == 1
