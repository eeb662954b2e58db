"""The data-issue state machine, routing and notifications, and the acknowledgement deadline alert."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.models import Notification
from tests import factories
from trust.choices import IssueStatus
from trust.models import DataIssue, IssueEvent

pytestmark = pytest.mark.django_db

S = IssueStatus
LEGAL = [
    (S.OPEN, S.ACKNOWLEDGED),
    (S.OPEN, S.IN_PROGRESS),
    (S.OPEN, S.RESOLVED),
    (S.OPEN, S.WONT_FIX),
    (S.OPEN, S.DUPLICATE),
    (S.ACKNOWLEDGED, S.IN_PROGRESS),
    (S.ACKNOWLEDGED, S.RESOLVED),
    (S.ACKNOWLEDGED, S.WONT_FIX),
    (S.ACKNOWLEDGED, S.DUPLICATE),
    (S.IN_PROGRESS, S.RESOLVED),
    (S.IN_PROGRESS, S.WONT_FIX),
    (S.IN_PROGRESS, S.DUPLICATE),
    (S.RESOLVED, S.OPEN),
    (S.WONT_FIX, S.OPEN),
    (S.DUPLICATE, S.OPEN),
]
ILLEGAL = [(old, new) for old in S for new in S if (old, new) not in LEGAL]


@pytest.fixture
def orders(owner, team):
    return factories.dataset("Orders", owner=owner, team=team).asset


def _issue_in(status, orders, reporter):
    issue = factories.data_issue(orders, reporter)
    DataIssue.objects.filter(pk=issue.pk).update(status=status)
    issue.refresh_from_db()
    return issue


@pytest.mark.parametrize(("old", "new"), LEGAL)
def test_every_legal_transition_moves_the_issue_and_records_it(old, new, orders, owner, outsider):
    issue = _issue_in(old, orders, outsider)
    original = factories.data_issue(orders, outsider) if new == S.DUPLICATE else None
    issue.transition(new, by=owner, comment="Looking.", duplicate_of=original)
    issue.refresh_from_db()
    assert issue.status == new
    assert (issue.closed_at is not None) == (new in DataIssue.CLOSED_STATES)
    assert issue.acknowledged_at is not None or new == S.OPEN
    event = issue.events.last()
    assert (event.from_status, event.to_status, event.body, event.author) == (old, new, "Looking.", owner)


@pytest.mark.parametrize(("old", "new"), ILLEGAL)
def test_every_illegal_transition_is_refused_and_changes_nothing(old, new, orders, owner, outsider):
    issue = _issue_in(old, orders, outsider)
    events = issue.events.count()
    with pytest.raises(ValidationError):
        issue.transition(new, by=owner)
    issue.refresh_from_db()
    assert issue.status == old and issue.events.count() == events


def test_an_unknown_status_is_refused(orders, owner, outsider):
    issue = factories.data_issue(orders, outsider)
    with pytest.raises(ValidationError, match="cannot become"):
        issue.transition("closed-forever", by=owner)


def test_a_duplicate_must_name_the_other_issue(orders, owner, outsider):
    issue = factories.data_issue(orders, outsider)
    with pytest.raises(ValidationError, match="which other issue"):
        issue.transition(S.DUPLICATE, by=owner)
    with pytest.raises(ValidationError):
        issue.transition(S.DUPLICATE, by=owner, duplicate_of=issue)


def test_only_people_who_may_change_the_asset_move_its_issues(orders, teammate, outsider, staff):
    issue = factories.data_issue(orders, outsider)
    with pytest.raises(PermissionDenied):
        issue.transition(S.RESOLVED, by=outsider)
    issue.refresh_from_db()
    assert issue.status == S.OPEN
    issue.transition(S.ACKNOWLEDGED, by=teammate)
    issue.transition(S.RESOLVED, by=staff)


def test_a_stale_copy_cannot_overwrite_a_newer_status(orders, owner, teammate, outsider):
    issue = factories.data_issue(orders, outsider)
    stale = DataIssue.objects.get(pk=issue.pk)
    issue.transition(S.WONT_FIX, by=owner)
    with pytest.raises(ValidationError, match="meanwhile"):
        stale.transition(S.ACKNOWLEDGED, by=teammate)
    issue.refresh_from_db()
    assert issue.status == S.WONT_FIX


def test_a_new_issue_goes_to_the_owner_the_team_and_watchers_and_each_change_reaches_the_reporter(
    orders, owner, teammate, outsider
):
    watcher = factories.user("wendy")
    orders.watches.create(user=watcher)
    issue = factories.data_issue(orders, outsider, severity="critical", title="Empty since Monday")
    inboxes = {n.recipient.username for n in Notification.objects.filter(title__contains="Empty since Monday")}
    assert inboxes == {"olivia", "tom", "wendy"}
    assert Notification.objects.filter(recipient=outsider).count() == 0
    issue.transition(S.ACKNOWLEDGED, by=owner, comment="On it.")
    latest = Notification.objects.filter(recipient=outsider).get()
    assert latest.title == "Orders: “Empty since Monday” is now acknowledged"
    assert latest.body == "On it." and latest.url == issue.get_absolute_url()
    assert Notification.objects.filter(recipient=watcher).count() == 2
    assert not Notification.objects.filter(recipient=owner, title__contains="now acknowledged").exists()
    issue.comment(by=watcher, body="Also missing in the web funnel.")
    assert Notification.objects.filter(recipient=outsider, title__startswith="New comment").count() == 1
    assert IssueEvent.objects.filter(issue=issue, to_status="").count() == 1


def test_a_comment_needs_words(orders, outsider):
    issue = factories.data_issue(orders, outsider)
    with pytest.raises(ValidationError):
        issue.comment(by=outsider, body="   ")


@pytest.mark.parametrize(("severity", "hours"), [("critical", 4), ("major", 24), ("minor", 72)])
def test_the_acknowledgement_deadline_comes_from_the_severity(severity, hours, orders, outsider):
    with time_machine.travel("2026-11-02 09:00Z", tick=False):
        issue = factories.data_issue(orders, outsider, severity=severity)
    assert issue.acknowledge_by == timezone.now().replace(2026, 11, 2, 9, 0, 0, 0) + timedelta(hours=hours)


def test_an_issue_not_acknowledged_in_time_alerts_the_owners_team_once(orders, owner, teammate, outsider):
    with time_machine.travel("2026-11-02 09:00Z", tick=False):
        late = factories.data_issue(orders, outsider, severity="critical", title="Empty since Monday")
        answered = factories.data_issue(orders, outsider, severity="critical", title="Wrong currency")
        answered.transition(S.ACKNOWLEDGED, by=owner)
        relaxed = factories.data_issue(orders, outsider, severity="minor", title="Typo")
    with time_machine.travel("2026-11-02 12:59Z", tick=False):
        assert DataIssue.alert_unacknowledged() == 0
    with time_machine.travel("2026-11-02 13:01Z", tick=False):
        assert DataIssue.alert_unacknowledged() == 1
        assert DataIssue.alert_unacknowledged() == 0
    alerts = Notification.objects.filter(title__startswith="Not acknowledged in time")
    assert {alert.recipient.username for alert in alerts} == {"olivia", "tom"}
    assert {alert.url for alert in alerts} == {late.get_absolute_url()}
    relaxed.refresh_from_db()
    assert relaxed.acknowledge_alert_at is None


def test_without_a_team_only_the_owner_is_alerted_not_teamless_watchers(owner, outsider):
    stores = factories.dataset("Stores", owner=owner).asset
    stores.watches.create(user=factories.user("wendy"))
    with time_machine.travel("2026-11-02 09:00Z", tick=False):
        factories.data_issue(stores, outsider, severity="critical")
    with time_machine.travel("2026-11-03 09:00Z", tick=False):
        assert DataIssue.alert_unacknowledged() == 1
    alerts = Notification.objects.filter(title__startswith="Not acknowledged in time")
    assert [alert.recipient.username for alert in alerts] == ["olivia"]


def test_a_backlog_of_unacknowledged_issues_is_alerted_a_batch_per_run_oldest_deadline_first(orders, outsider):
    with time_machine.travel("2026-11-02 09:00Z", tick=False):
        oldest = factories.data_issue(orders, outsider, severity="critical")
        newer = factories.data_issue(orders, outsider, severity="major")
    with time_machine.travel("2026-11-05 09:00Z", tick=False):
        assert DataIssue.alert_unacknowledged(limit=1) == 1
        oldest.refresh_from_db()
        newer.refresh_from_db()
        assert oldest.acknowledge_alert_at is not None and newer.acknowledge_alert_at is None
        assert DataIssue.alert_unacknowledged(limit=1) == 1
        assert DataIssue.alert_unacknowledged(limit=1) == 0
