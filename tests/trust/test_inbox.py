"""The inbox: every notification links to its subject; mark one read, or all."""

import pytest

from core.choices import NotificationKind
from core.models import Notification
from core.notifications import notify
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def notifications(owner, outsider):
    orders = factories.dataset("Orders", owner=owner).asset
    mine = notify([owner], kind=NotificationKind.ISSUE, title="New issue", url="/issues/", asset=orders)[0]
    other = notify([owner], kind=NotificationKind.REVIEW, title="Review due", asset=orders)[0]
    theirs = notify([outsider], kind=NotificationKind.OTHER, title="Not yours")[0]
    return mine, other, theirs


def test_the_inbox_lists_my_notifications_with_links_and_the_unread_count(notifications, owner, client_for):
    page = client_for(owner).get("/inbox/")
    body = page.content.decode()
    assert "New issue" in body and "Review due" in body and "Not yours" not in body
    assert page.context["unread_notifications"] == 2
    assert f'href="/inbox/{notifications[0].pk}/"' in body


def test_opening_a_notification_marks_it_read_and_goes_to_its_subject(notifications, owner, client_for):
    mine, other, _ = notifications
    response = client_for(owner).get(f"/inbox/{mine.pk}/")
    assert response["Location"] == "/issues/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    # Without a link of its own, a notification leads to its asset.
    assert client_for(owner).get(f"/inbox/{other.pk}/")["Location"] == other.asset.get_absolute_url()


def test_nobody_opens_or_marks_someone_elses_notification(notifications, owner, client_for):
    theirs = notifications[2]
    assert client_for(owner).get(f"/inbox/{theirs.pk}/").status_code == 404
    assert client_for(owner).post(f"/inbox/{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_one_read_then_all(notifications, owner, outsider, client_for):
    mine, other, theirs = notifications
    client_for(owner).post(f"/inbox/{mine.pk}/read/")
    mine.refresh_from_db()
    other.refresh_from_db()
    assert mine.read_at and other.read_at is None
    unread_only = client_for(owner).get("/inbox/", {"show": "unread"}).content.decode()
    assert "Review due" in unread_only and "New issue" not in unread_only
    client_for(owner).post("/inbox/read-all/")
    other.refresh_from_db()
    theirs.refresh_from_db()
    assert other.read_at and theirs.read_at is None


def test_a_notification_link_to_another_site_is_not_followed(owner, client_for):
    odd = notify([owner], kind=NotificationKind.OTHER, title="Odd", url="https://evil.example.com/")[0]
    assert client_for(owner).get(f"/inbox/{odd.pk}/")["Location"] == "/inbox/"


# --- grouped, filtered, marked read together (issue 17) ---------------------------------------------------------
def test_the_inbox_groups_by_asset_and_cause_and_filters_by_what_i_own_and_my_team(owner, team, client_for):
    mine = factories.dataset("Orders", owner=owner).asset
    teams = factories.dataset("Stock", owner=factories.user("sam"), team=team).asset
    elsewhere = factories.dataset("Weather", owner=factories.user("wendy")).asset
    for asset, kind, title in [
        (mine, NotificationKind.ISSUE, "Orders: rows missing"),
        (mine, NotificationKind.ISSUE, "Orders: duplicates"),
        (mine, NotificationKind.FRESHNESS, "Orders is late"),
        (teams, NotificationKind.FRESHNESS, "Stock is late"),
        (elsewhere, NotificationKind.SCHEMA_CHANGE, "Weather changed"),
    ]:
        Notification.objects.create(recipient=owner, asset=asset, kind=kind, title=title)
    client = client_for(owner)
    page = client.get("/inbox/").content.decode()
    groups = page.split('data-testid="inbox-group"')[1:]
    assert len(groups) == 4  # Orders·issues (2), Orders·freshness, Stock·freshness, Weather·schema
    issues = next(group for group in groups if "rows missing" in group)
    assert "duplicates" in issues and "Data issue" in issues and "2 unread" in issues
    assert "Choose how you are told" in page  # the link to preferences
    owned = client.get("/inbox/", {"about": "mine"}).content.decode()
    assert "Orders is late" in owned and "Stock is late" not in owned and "Weather changed" not in owned
    team_page = client.get("/inbox/", {"about": "team"}).content.decode()
    assert "Stock is late" in team_page and "Weather changed" not in team_page


def test_ticked_notifications_are_marked_read_together_and_only_mine(owner, outsider, client_for):
    first, second, _third = (Notification.objects.create(recipient=owner, title=f"N{i}") for i in range(3))
    theirs = Notification.objects.create(recipient=outsider, title="Theirs")
    response = client_for(owner).post("/inbox/read/", {"ids": [first.pk, second.pk, theirs.pk]})
    assert response.status_code == 302
    read = set(Notification.objects.filter(read_at__isnull=False).values_list("title", flat=True))
    assert read == {"N0", "N1"}
    assert ">Mark read<" not in client_for(owner).get("/inbox/").content.decode()
