"""Review reminders before the date and overdue alerts after it, each sent once."""

from datetime import date

import pytest
import time_machine

from core.models import Notification
from tests import factories
from tests.concurrency import run_at_once
from trust.models import Review, ReviewNotice

pytestmark = pytest.mark.django_db


def test_the_owner_and_team_are_reminded_a_week_before_and_alerted_once_overdue(owner, teammate, team, outsider):
    orders = factories.dataset("Orders", owner=owner, team=team, next_review_date=date(2026, 11, 20)).asset
    orders.watches.create(user=outsider)
    with time_machine.travel("2026-11-12 09:00Z", tick=False):
        assert ReviewNotice.send_due() == 0
    with time_machine.travel("2026-11-13 09:00Z", tick=False):
        assert ReviewNotice.send_due() == 1
        assert ReviewNotice.send_due() == 0
    reminders = Notification.objects.filter(title__startswith="Review due soon: Orders on 20 Nov 2026")
    assert {n.recipient.username for n in reminders} == {"olivia", "tom"}
    with time_machine.travel("2026-11-20 09:00Z", tick=False):
        assert ReviewNotice.send_due() == 0
    with time_machine.travel("2026-11-21 09:00Z", tick=False):
        assert ReviewNotice.send_due() == 1
    with time_machine.travel("2026-11-25 09:00Z", tick=False):
        assert ReviewNotice.send_due() == 0
    assert Notification.objects.filter(title__startswith="Review overdue: Orders").count() == 2
    assert not Notification.objects.filter(recipient=outsider).exists()


def test_marking_reviewed_moves_the_date_so_the_next_cycle_reminds_again(owner):
    orders = factories.dataset("Orders", owner=owner, review_interval_days=30, next_review_date=date(2026, 11, 20))
    with time_machine.travel("2026-11-21 09:00Z", tick=False):
        ReviewNotice.send_due()
        Review.mark_reviewed(orders.asset, by=owner)
        assert ReviewNotice.send_due() == 0
    orders.asset.refresh_from_db()
    assert orders.asset.next_review_date == date(2026, 12, 21)
    with time_machine.travel("2026-12-15 09:00Z", tick=False):
        assert ReviewNotice.send_due() == 1


def test_retired_assets_are_not_reminded(owner):
    factories.dataset("Gone", owner=owner, next_review_date=date(2026, 11, 1), lifecycle="retired")
    with time_machine.travel("2026-11-21 09:00Z", tick=False):
        assert ReviewNotice.send_due() == 0


def test_a_review_notice_for_an_asset_without_a_team_goes_to_its_owner_only(owner, outsider):
    orders = factories.dataset("Orders", owner=owner, next_review_date=date(2026, 11, 20)).asset
    orders.watches.create(user=outsider)
    with time_machine.travel("2026-11-21 09:00Z", tick=False):
        assert ReviewNotice.send_due() == 1
    assert [n.recipient.username for n in Notification.objects.all()] == ["olivia"]


def test_a_backlog_of_due_reviews_is_worked_off_a_batch_per_run_earliest_first(owner):
    for day in (20, 19, 18):
        factories.dataset(f"Table {day}", owner=owner, next_review_date=date(2026, 11, day))
    with time_machine.travel("2026-11-25 09:00Z", tick=False):
        assert ReviewNotice.send_due(limit=2) == 2
        assert set(ReviewNotice.objects.values_list("due_date__day", flat=True)) == {18, 19}
        assert ReviewNotice.send_due(limit=2) == 1
        assert ReviewNotice.send_due(limit=2) == 0
    assert Notification.objects.filter(title__startswith="Review overdue").count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_each_notice_once(owner, teammate, team):
    for n in range(6):
        factories.dataset(f"Table {n}", owner=owner, team=team, next_review_date=date(2026, 11, 20))
    sent = []

    def sweep():
        with time_machine.travel("2026-11-21 09:00Z", tick=False):
            sent.append(ReviewNotice.send_due(limit=4))

    errors = run_at_once(sweep)
    assert errors == []
    with time_machine.travel("2026-11-21 09:00Z", tick=False):
        assert sum(sent) + ReviewNotice.send_due() == 6
    assert ReviewNotice.objects.count() == 6
    # Each overdue table is told once, to its owner and its team member, whichever sweep took it.
    assert Notification.objects.filter(title__startswith="Review overdue").count() == 2 * 6
