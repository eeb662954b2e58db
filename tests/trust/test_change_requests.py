"""Change requests: asked beside "Report a problem", routed to the owner, moved through their states (every legal
and illegal move), the requester and watchers told at each step; the list page's filters; the requirements review
and its reminder."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from catalog.models import Watch
from core.choices import NotificationKind
from core.models import Notification
from tests import factories
from trust.choices import ChangeRequestStatus as S
from trust.models import ChangeRequest, RequirementsReview, ReviewNotice

pytestmark = pytest.mark.django_db

LEGAL = [
    (S.PROPOSED, S.ACCEPTED),
    (S.PROPOSED, S.DECLINED),
    (S.ACCEPTED, S.IN_PROGRESS),
    (S.ACCEPTED, S.DECLINED),
    (S.IN_PROGRESS, S.DELIVERED),
    (S.IN_PROGRESS, S.DECLINED),
]
ILLEGAL = [(a, b) for a in S for b in S if (a, b) not in LEGAL]
PATH = {S.PROPOSED: [], S.ACCEPTED: [S.ACCEPTED], S.IN_PROGRESS: [S.ACCEPTED, S.IN_PROGRESS]}
PATH[S.DELIVERED] = [*PATH[S.IN_PROGRESS], S.DELIVERED]
PATH[S.DECLINED] = [S.DECLINED]


@pytest.fixture
def dashboard(owner, team):
    return factories.report("Executive sales dashboard", owner=owner, team=team).asset


@pytest.fixture
def erin(db):
    return factories.user("erin")


def _request(asset, by):
    return ChangeRequest.propose(asset, by=by, title="Add margin", wanted="A margin column.", why="Pricing review.")


def _move_to(change, status, by):
    for step in PATH[status]:
        change.transition(step, by=by, comment="Because." if step == S.DECLINED else "")
    return change


def test_request_a_change_sits_beside_report_a_problem_on_reports_datasets_and_models(owner, dashboard, client_for):
    dataset = factories.dataset("Orders", owner=owner).asset
    model = factories.registered_model("Churn", owner=owner).asset
    pipeline = factories.pipeline("Nightly", owner=owner).asset
    client = client_for(factories.user("reader"))
    for asset in (dashboard, dataset, model):
        page = client.get(asset.get_absolute_url(), follow=True).content.decode()  # a model's is the registry's page
        assert "Report a problem" in page and "Request a change" in page, asset.kind
    assert "Request a change" not in client.get(pipeline.get_absolute_url()).content.decode()


def test_a_reader_requests_a_change_and_the_owner_is_told(dashboard, owner, erin, client_for):
    response = client_for(erin).post(
        f"/assets/report/{dashboard.slug}/request-change/",
        {"title": "Add margin", "wanted": "A margin column by region.", "why": "For the pricing review."},
    )
    change = ChangeRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == change.get_absolute_url()
    assert (change.requested_by, change.status) == (erin, S.PROPOSED)
    notice = Notification.objects.get(recipient=owner)
    assert notice.kind == NotificationKind.CHANGE_REQUEST
    assert notice.title == "Change requested on Executive sales dashboard: Add margin"


def test_a_request_without_why_is_refused_and_the_form_keeps_what_was_typed(dashboard, erin, client_for):
    response = client_for(erin).post(
        f"/assets/report/{dashboard.slug}/request-change/", {"title": "Add margin", "wanted": "Kept words", "why": " "}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Say why: what it would let you do, and for whom." in text and "Kept words" in text
    api = factories.api_client(erin).post(
        "/api/v1/change-requests/",
        {"asset": str(dashboard.uuid), "title": "x", "wanted": "y", "why": " "},
        content_type="application/json",
    )
    assert api.status_code == 400 and "why" in api.json()["errors"]
    assert not ChangeRequest.objects.exists()


@pytest.mark.parametrize(("start", "to"), LEGAL, ids=[f"{a}->{b}" for a, b in LEGAL])
def test_every_legal_transition_tells_the_requester_and_the_watchers(start, to, dashboard, owner, erin):
    watcher = factories.user("walter")
    Watch.objects.create(user=watcher, asset=dashboard)
    change = _move_to(_request(dashboard, erin), start, owner)
    Notification.objects.all().delete()
    change.transition(to, by=owner, comment="Not now: the pricing team is moving." if to == S.DECLINED else "")
    change.refresh_from_db()
    assert change.status == to
    assert change.events.last().to_status == to
    expected = f"Executive sales dashboard: your request “Add margin” is now {S(to).label.lower()}"
    for person in (erin, watcher):
        assert list(Notification.objects.filter(recipient=person).values_list("title", flat=True)) == [expected]
    assert not Notification.objects.filter(recipient=owner).exists()  # the one who moved it
    if to == S.DECLINED:
        assert change.decline_reason == "Not now: the pricing team is moving."
        assert change.closed_at is not None


@pytest.mark.parametrize(("start", "to"), ILLEGAL, ids=[f"{a}->{b}" for a, b in ILLEGAL])
def test_every_illegal_transition_is_refused_with_a_clear_message(start, to, dashboard, owner, erin):
    change = _move_to(_request(dashboard, erin), start, owner)
    with pytest.raises(ValidationError) as refused:
        change.transition(to, by=owner, comment="Because.")
    message = refused.value.message_dict["status"][0]
    assert message.startswith(
        f"A change request that is {S(start).label.lower()} cannot become “{S(to).label.lower()}”"
    )
    assert "it can become" in message
    change.refresh_from_db()
    assert change.status == start


def test_declining_needs_a_reason(dashboard, owner, erin, client_for):
    change = _request(dashboard, erin)
    response = client_for(owner).post(f"{change.get_absolute_url()}transition/", {"status": "declined", "comment": ""})
    assert response.status_code == 400
    assert "Say why you decline" in response.content.decode()
    change.refresh_from_db()
    assert change.status == S.PROPOSED


def test_an_illegal_move_through_the_page_and_the_api_is_refused_with_the_message(dashboard, owner, erin, client_for):
    change = _request(dashboard, erin)
    page = client_for(owner).post(f"{change.get_absolute_url()}transition/", {"status": "delivered"})
    assert page.status_code == 400
    assert "A change request that is proposed cannot become “delivered”" in page.content.decode()
    api = factories.api_client(owner).post(
        f"/api/v1/change-requests/{change.uuid}/transition/", {"status": "delivered"}, content_type="application/json"
    )
    assert api.status_code == 400 and "cannot become" in api.content.decode()


def test_the_outsider_and_the_requester_cannot_move_it(dashboard, owner, erin, outsider, client_for):
    change = _request(dashboard, erin)
    for person in (outsider, erin):
        with pytest.raises(PermissionDenied):
            change.transition(S.ACCEPTED, by=person)
        assert (
            client_for(person).post(f"{change.get_absolute_url()}transition/", {"status": "accepted"}).status_code
            == 403
        )
        api = factories.api_client(person).post(
            f"/api/v1/change-requests/{change.uuid}/transition/",
            {"status": "accepted"},
            content_type="application/json",
        )
        assert api.status_code == 403
    change.refresh_from_db()
    assert change.status == S.PROPOSED


def test_the_teammate_may_move_it(dashboard, teammate, erin):
    change = _request(dashboard, erin)
    change.transition(S.ACCEPTED, by=teammate)
    assert change.status == S.ACCEPTED


def test_the_list_page_and_the_api_share_the_filters(dashboard, owner, erin, client_for):
    dataset = factories.dataset("Orders", owner=owner).asset
    first = _request(dashboard, erin)
    ChangeRequest.propose(dataset, by=owner, title="Add a region", wanted="Region.", why="Maps.")
    _move_to(first, S.DELIVERED, owner)
    client = client_for(erin)
    assert "Add margin" not in client.get("/requests/").content.decode()  # open ones by default
    closed = client.get("/requests/?state=closed").content.decode()
    assert "Add margin" in closed and "Add a region" not in closed
    mine = client.get("/requests/?state=&mine=true").content.decode()
    assert "Add margin" in mine and "Add a region" not in mine
    datasets = client.get("/requests/?state=&kind=dataset").content.decode()
    assert "Add a region" in datasets and "Add margin" not in datasets
    api = factories.api_client(erin).get("/api/v1/change-requests/?kind=dataset").json()
    assert [row["title"] for row in api["results"]] == ["Add a region"]


# --- the requirements review ----------------------------------------------------------------------------------
def test_the_requirements_review_lists_open_requests_and_schedules_the_next(dashboard, owner, erin, client_for):
    _request(dashboard, erin)
    client = client_for(owner)
    page = client.get(f"/assets/report/{dashboard.slug}/requirements-review/").content.decode()
    assert "Add margin" in page
    response = client.post(
        f"/assets/report/{dashboard.slug}/requirements-review/", {"comment": "Talked to sales.", "interval_days": 30}
    )
    assert response.status_code == 302
    review = RequirementsReview.objects.get(asset=dashboard)
    assert review.next_review_date == timezone.localdate() + timedelta(days=30) and review.open_requests == 1
    assert client_for(erin).get(f"/assets/report/{dashboard.slug}/requirements-review/").status_code == 403


def test_the_requirements_review_is_reminded_once_with_the_open_requests(dashboard, owner, teammate, erin):
    RequirementsReview.record(dashboard, by=owner, interval_days=30)
    _request(dashboard, erin)
    Notification.objects.all().delete()
    today = timezone.localdate()
    assert RequirementsReview.send_due(today=today) == 0  # not due for weeks
    soon = today + timedelta(days=25)
    assert RequirementsReview.send_due(today=soon) == 1
    assert RequirementsReview.send_due(today=soon) == 0  # once per due date
    notice = Notification.objects.get(recipient=owner)
    assert notice.title.startswith("Requirements review due soon: Executive sales dashboard")
    assert "Add margin (proposed)" in notice.body
    assert Notification.objects.filter(recipient=teammate).count() == 1
    assert not Notification.objects.filter(recipient=erin).exists()
    late = today + timedelta(days=31)
    assert RequirementsReview.send_due(today=late) == 1
    assert (
        Notification.objects.filter(recipient=owner)
        .order_by("pk")
        .last()
        .title.startswith("Requirements review overdue")
    )
    assert ReviewNotice.objects.filter(asset=dashboard).count() == 2


def test_the_daily_review_task_sends_requirements_reminders_too(dashboard, owner):
    from trust.tasks import send_review_notices

    RequirementsReview.record(dashboard, by=owner, interval_days=1)
    assert send_review_notices() == 1
    assert Notification.objects.filter(recipient=owner, title__startswith="Requirements review").exists()
