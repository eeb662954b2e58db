"""Subscriptions a person controls: digests per channel, the per-watch switch, one-click unsubscribe."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalog.models import Watch
from core.choices import NotificationKind
from core.digests import send_digests
from core.models import DigestItem, Notification, NotificationPreference
from tests import factories
from trust import downstream
from trust.choices import NoticeState
from trust.models import ProblemNotice


@pytest.fixture
def sales(db):
    alice, bob, erin = factories.user("alice"), factories.user("bob"), factories.user("erin")
    orders = factories.dataset("Orders", owner=alice).asset
    dashboard = factories.report("Executive sales dashboard", owner=bob).asset
    factories.edge(orders, dashboard)
    watch = Watch.objects.create(user=erin, asset=dashboard)
    return {"alice": alice, "bob": bob, "erin": erin, "orders": orders, "dashboard": dashboard, "watch": watch}


def fan_out_all():
    for pk in ProblemNotice.objects.filter(state=NoticeState.PENDING).values_list("pk", flat=True):
        downstream.fan_out(pk)


def next_day():
    """A moment when everyone's daily digest hour has come since the news of the test was written."""
    return timezone.now() + timedelta(days=1)


def next_week():
    return timezone.now() + timedelta(days=7)


def daily(user):
    NotificationPreference.objects.create(user=user, inbox_cadence="daily", email_cadence="daily")


def test_non_critical_news_waits_for_the_digest_and_is_sent_once(sales):
    daily(sales["erin"])
    factories.data_issue(sales["orders"], sales["alice"], severity="major", title="Totals off")
    fan_out_all()
    assert not Notification.objects.filter(recipient=sales["erin"]).exists()
    assert not [message for message in mail.outbox if message.to == ["erin@example.com"]]
    assert DigestItem.objects.filter(recipient=sales["erin"]).count() == 2  # inbox and email
    # bob chose nothing: he heard at once.
    assert Notification.objects.filter(recipient=sales["bob"], kind=NotificationKind.UPSTREAM).count() == 1

    assert send_digests("daily", now=next_day()) == 2
    assert send_digests("daily", now=next_day()) == 0
    [digest] = Notification.objects.filter(recipient=sales["erin"])
    assert digest.kind == NotificationKind.DIGEST and digest.title == "Your daily digest: 1 update"
    assert "Executive sales dashboard ← Orders: major issue 'Totals off'" in digest.body
    [email] = [message for message in mail.outbox if message.to == ["erin@example.com"]]
    assert email.subject == "Your daily digest: 1 update"
    # The digest email still lets her leave the watch the news came from.
    assert "List-Unsubscribe" in email.extra_headers


def test_critical_news_comes_at_once_whatever_the_cadence(sales):
    daily(sales["erin"])
    factories.data_issue(sales["orders"], sales["alice"], severity="critical", title="Duplicated rows")
    fan_out_all()
    assert Notification.objects.filter(recipient=sales["erin"], kind=NotificationKind.UPSTREAM).count() == 1
    assert not DigestItem.objects.exists()


def test_a_weekly_digest_is_not_sent_by_the_daily_run(sales):
    NotificationPreference.objects.create(user=sales["erin"], inbox_cadence="weekly", email=False)
    factories.data_issue(sales["orders"], sales["alice"], severity="major")
    fan_out_all()
    assert send_digests("daily", now=next_week()) == 0
    assert send_digests("weekly", now=next_week()) == 1


@pytest.mark.django_db(transaction=True)
def test_two_digest_runs_at_once_send_each_item_once():
    erin = factories.user("erin")
    daily(erin)
    for number in range(30):
        DigestItem.objects.create(recipient=erin, channel="inbox", cadence="daily", title=f"News {number}")
    barrier = threading.Barrier(2)
    counts = []

    def run():
        try:
            barrier.wait()
            counts.append(send_digests("daily", now=next_day()))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 30
    digests = Notification.objects.filter(recipient=erin, kind=NotificationKind.DIGEST)
    assert sum(int(row.title.split(": ")[1].split()[0]) for row in digests) == 30


def _digests(user):
    return Notification.objects.filter(recipient=user, kind=NotificationKind.DIGEST).count()


def test_each_person_gets_their_daily_digest_at_their_own_hour_in_their_time_zone_once(sales):
    """erin (Tokyo) reads hers at 08:00, bob (Paris) at 18:00, the hourly runs send each once at that hour."""
    from accounts.models import Profile

    Profile.objects.create(user=sales["erin"], time_zone="Asia/Tokyo")
    Profile.objects.create(user=sales["bob"], time_zone="Europe/Paris")
    NotificationPreference.objects.create(user=sales["erin"], inbox_cadence="daily", email=False, digest_hour=8)
    NotificationPreference.objects.create(user=sales["bob"], inbox_cadence="daily", email=False, digest_hour=18)
    with time_machine.travel(datetime(2026, 12, 7, 12, 0, tzinfo=UTC), tick=False):  # 21:00 in Tokyo, 13:00 in Paris
        for user in (sales["erin"], sales["bob"]):
            DigestItem.objects.create(recipient=user, channel="inbox", cadence="daily", title="Totals off")

    def run_at(hour, minute=5, day=7):
        with time_machine.travel(datetime(2026, 12, day, hour, minute, tzinfo=UTC), tick=False):
            return send_digests("daily")

    assert run_at(16) == 0  # 17:05 in Paris, 01:05 in Tokyo: nobody's hour yet
    assert run_at(17) == 1 and _digests(sales["bob"]) == 1  # 18:05 in Paris
    assert run_at(17, minute=40) == 0  # a second run in the same hour sends nothing again
    assert _digests(sales["erin"]) == 0
    assert run_at(22, minute=30) == 0  # 07:30 in Tokyo
    assert run_at(23) == 1 and _digests(sales["erin"]) == 1  # 08:05 in Tokyo
    assert run_at(23, minute=30) == 0
    assert (_digests(sales["erin"]), _digests(sales["bob"])) == (1, 1)


def test_news_that_comes_after_the_digest_waits_for_the_next_days_hour(sales):
    NotificationPreference.objects.create(user=sales["erin"], inbox_cadence="daily", email=False, digest_hour=9)
    with time_machine.travel(datetime(2026, 12, 7, 9, 30, tzinfo=UTC), tick=False):
        DigestItem.objects.create(recipient=sales["erin"], channel="inbox", cadence="daily", title="Late news")
        assert send_digests("daily") == 0
    with time_machine.travel(datetime(2026, 12, 7, 23, 0, tzinfo=UTC), tick=False):
        assert send_digests("daily") == 0
    with time_machine.travel(datetime(2026, 12, 8, 9, 0, 30, tzinfo=UTC), tick=False):
        assert send_digests("daily") == 1
        assert send_digests("daily") == 0


def test_the_weekly_digest_comes_on_the_chosen_day_and_hour(sales):
    from accounts.models import Profile

    Profile.objects.create(user=sales["erin"], time_zone="America/New_York")
    NotificationPreference.objects.create(
        user=sales["erin"], inbox_cadence="weekly", email=False, digest_hour=17, digest_weekday=4
    )
    with time_machine.travel(datetime(2026, 12, 7, 12, 0, tzinfo=UTC), tick=False):  # a Monday
        DigestItem.objects.create(recipient=sales["erin"], channel="inbox", cadence="weekly", title="Totals off")
    for day, hour, expected in [(8, 22, 0), (11, 21, 0), (11, 22, 1), (11, 23, 0), (18, 22, 0)]:
        # Friday 11 December, 17:00 in New York is 22:00 UTC.
        with time_machine.travel(datetime(2026, 12, day, hour, 5, tzinfo=UTC), tick=False):
            assert send_digests("weekly") == expected, (day, hour)
    assert _digests(sales["erin"]) == 1


def test_the_preferences_page_saves_each_channels_cadence(sales):
    client = Client()
    client.force_login(sales["erin"])
    response = client.post(
        reverse("core:preferences"),
        {"inbox": "on", "inbox_cadence": "weekly", "email": "on", "email_cadence": "daily"},
    )
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(user=sales["erin"])
    assert (preference.inbox_cadence, preference.email_cadence) == ("weekly", "daily")
    response = client.post(
        reverse("core:preferences"),
        {"inbox": "on", "inbox_cadence": "weekly", "email": "on", "digest_hour": "18", "digest_weekday": "4"},
    )
    assert response.status_code == 302
    preference.refresh_from_db()
    assert (preference.digest_hour, preference.digest_weekday, preference.email_cadence) == (18, 4, "daily")
    response = client.post(reverse("core:preferences"), {"inbox": "on", "digest_hour": "25"})
    assert response.status_code == 200 and "Select a valid choice. 25 is not one of" in response.content.decode()
    response = client.post(reverse("core:preferences"), {"inbox": "on", "inbox_cadence": "hourly"})
    assert response.status_code == 200 and "hourly" in response.content.decode()


def _link(email):
    return email.extra_headers["List-Unsubscribe"].strip("<>")


def test_the_unsubscribe_link_works_without_signing_in_and_stops_only_its_watch(sales):
    other = factories.report("Store replenishment report", owner=sales["bob"]).asset
    factories.edge(sales["orders"], other)
    kept = Watch.objects.create(user=sales["erin"], asset=other)
    bob_watch = Watch.objects.create(user=sales["bob"], asset=sales["dashboard"])
    factories.data_issue(sales["orders"], sales["alice"], severity="critical", title="Duplicated rows")
    fan_out_all()
    [email] = [message for message in mail.outbox if message.to == ["erin@example.com"]]
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = _link(email)
    assert link in email.body
    path = link.removeprefix("http://127.0.0.1:8000")

    anonymous = Client(enforce_csrf_checks=True)
    page = anonymous.get(path)
    assert page.status_code == 200 and "Stop watching Executive sales dashboard" in page.content.decode()
    assert Watch.objects.filter(pk=sales["watch"].pk).exists()  # a mail scanner opening the link changes nothing
    # The one-click POST a mail client sends (RFC 8058): no session, no CSRF token.
    done = anonymous.post(path, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "You no longer watch Executive sales dashboard" in done.content.decode()
    assert not Watch.objects.filter(pk=sales["watch"].pk).exists()
    assert Watch.objects.filter(pk=kept.pk).exists() and Watch.objects.filter(pk=bob_watch.pk).exists()
    # Used again, it changes nothing more.
    assert anonymous.post(path).status_code == 200
    assert Watch.objects.filter(user=sales["erin"]).count() == 1


def test_a_forged_or_altered_unsubscribe_link_is_refused(sales):
    from trust.unsubscribe import token_for

    client = Client()
    watch = sales["watch"]
    token = token_for(watch.pk, watch.user_id, watch.asset_id)
    assert client.post(reverse("trust:unsubscribe", kwargs={"token": token[:-2] + "xx"})).status_code == 404
    assert client.post(reverse("trust:unsubscribe", kwargs={"token": "not-a-token"})).status_code == 404
    # A genuine link names one person's watch: it cannot be pointed at another watch.
    bob_watch = Watch.objects.create(user=sales["bob"], asset=sales["dashboard"])
    borrowed = token_for(bob_watch.pk, watch.user_id, watch.asset_id)
    client.post(reverse("trust:unsubscribe", kwargs={"token": borrowed}))
    assert Watch.objects.count() == 2


def test_a_person_turns_problems_upstream_off_for_one_watch(sales):
    client = Client()
    client.force_login(sales["erin"])
    page = client.get(reverse("trust:watch_list"))
    assert "Executive sales dashboard" in page.content.decode()
    url = reverse("trust:watch_upstream", kwargs={"pk": sales["watch"].pk})
    assert client.post(url, {"include_upstream": "off"}).status_code == 302
    sales["watch"].refresh_from_db()
    assert sales["watch"].include_upstream is False
    assert client.post(url, {"include_upstream": "maybe"}).status_code == 302
    sales["watch"].refresh_from_db()
    assert sales["watch"].include_upstream is False


def test_nobody_switches_another_persons_watch(sales):
    client = Client()
    client.force_login(sales["bob"])
    url = reverse("trust:watch_upstream", kwargs={"pk": sales["watch"].pk})
    assert client.post(url, {"include_upstream": "off"}).status_code == 404
    sales["watch"].refresh_from_db()
    assert sales["watch"].include_upstream is True


@pytest.fixture
def posted(monkeypatch):
    """Webhook posts, as the worker would receive them (the send on commit, captured)."""
    sent = []
    monkeypatch.setattr(
        "core.notifications.send", lambda task, url, payload, **options: sent.append((url, payload["text"]))
    )
    return sent


def test_a_teams_webhook_gets_non_critical_news_in_its_digest_and_critical_news_at_once(
    sales, posted, django_capture_on_commit_callbacks
):
    team = factories.team("Sales analytics")
    team.webhook_url = "https://chat.example.com/hooks/sales"
    team.members.add(sales["bob"])
    team.save()
    sales["dashboard"].team = team
    sales["dashboard"].save(update_fields=["team"])
    client = Client()
    client.force_login(sales["bob"])
    assert "Webhook of Sales analytics" in client.get(reverse("core:preferences")).content.decode()
    url = reverse("accounts:team_webhook_cadence", kwargs={"slug": team.slug})
    assert client.post(url, {"webhook_cadence": "daily"}).status_code == 302
    team.refresh_from_db()
    assert team.webhook_cadence == "daily"

    with django_capture_on_commit_callbacks(execute=True):
        factories.data_issue(sales["orders"], sales["alice"], severity="major", title="Totals off")
        fan_out_all()
    assert not [text for _, text in posted if "Totals off" in text]
    with django_capture_on_commit_callbacks(execute=True):
        assert send_digests("daily", now=next_day()) >= 1
        assert send_digests("daily", now=next_day()) == 0
    [digest] = [text for hook, text in posted if hook == team.webhook_url]
    assert "Sales analytics's daily digest: 1 update" in digest and "Totals off" in digest

    with django_capture_on_commit_callbacks(execute=True):
        factories.data_issue(sales["orders"], sales["alice"], severity="critical", title="Duplicated rows")
        fan_out_all()
    assert [text for hook, text in posted if "Duplicated rows" in text and hook == team.webhook_url]


def test_only_a_teams_members_choose_its_webhook_cadence(sales):
    team = factories.team("Sales analytics")
    client = Client()
    client.force_login(sales["erin"])
    url = reverse("accounts:team_webhook_cadence", kwargs={"slug": team.slug})
    assert client.post(url, {"webhook_cadence": "weekly"}).status_code == 404
    team.refresh_from_db()
    assert team.webhook_cadence == "immediate"
