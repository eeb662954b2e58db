"""The inbox: every notification links to its subject; mark one read, or all."""

import pytest

from core.choices import NotificationKind
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
