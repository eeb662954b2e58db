"""Reporting a problem, the issue page and the issues list, as people use them in the browser."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.models import Notification
from tests import factories
from tests.helpers import count_queries
from trust.models import DataIssue

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(owner, team):
    made = factories.dataset("Orders", owner=owner, team=team)
    return made.asset


def _form(**overrides):
    fields = {
        "title": "Revenue doubled on 3 November",
        "description": "Every order of 3 November appears twice.",
        "category": "wrong_values",
        "severity": "critical",
        "affected_columns": "amount_eur",
        "affected_from": "2026-11-03",
        "affected_until": "2026-11-03",
    }
    return {**fields, **overrides}


def _png(size=(4, 4)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, format="PNG")
    return SimpleUploadedFile("screenshot.png", buffer.getvalue(), content_type="image/png")


def test_reporting_a_problem_files_it_routes_it_and_shows_it(orders, owner, outsider, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    response = client_for(outsider).post(
        f"/assets/dataset/{orders.slug}/report-problem/", {**_form(), "attachment": _png()}
    )
    issue = DataIssue.objects.get()
    assert response.status_code == 302 and response["Location"] == issue.get_absolute_url()
    assert (issue.reported_by, issue.asset, issue.severity, issue.status) == (outsider, orders, "critical", "open")
    assert issue.attachment.name.endswith(".png")
    assert Notification.objects.filter(recipient=owner, url=issue.get_absolute_url()).exists()
    page = client_for(owner).get(issue.get_absolute_url()).content.decode()
    assert "Revenue doubled on 3 November" in page and "Acknowledge" in page
    download = client_for(owner).get(f"{issue.get_absolute_url()}attachment/")
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        # One error per field, the specific one (issue 17): not "This field is required." beside it.
        ({"title": ""}, "title", "Give the problem a short title."),
        ({"title": "   "}, "title", "Give the problem a short title."),
        ({"description": ""}, "description", "Say what is wrong, so the owner can find it."),
        ({"severity": "apocalyptic"}, "severity", "Select a valid choice."),
        ({"affected_until": "2026-11-01"}, "affected_until", "before its start"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_keeping_what_was_typed(
    orders, outsider, client_for, change, field, message
):
    response = client_for(outsider).post(f"/assets/dataset/{orders.slug}/report-problem/", _form(**change))
    assert response.status_code == 400
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    assert len(form.errors[field]) == 1  # one error per field
    assert "Every order of 3 November appears twice." in response.content.decode() or field == "description"
    assert not DataIssue.objects.exists() and not Notification.objects.exists()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("dump.exe", b"MZ\x90\x00", content_type="application/octet-stream"), "not accepted"),
        (SimpleUploadedFile("notes.html", b"<script>alert(1)</script>", content_type="text/html"), "not accepted"),
        (
            SimpleUploadedFile("fake.png", b"<script>alert(1)</script>", content_type="image/png"),
            "not a readable image",
        ),
        (SimpleUploadedFile("sample.csv", b"\xff\xfe\x00binary\x00", content_type="text/csv"), "not readable text"),
    ],
)
def test_a_disallowed_attachment_is_refused_and_nothing_saved(orders, outsider, client_for, upload, message):
    response = client_for(outsider).post(
        f"/assets/dataset/{orders.slug}/report-problem/", {**_form(), "attachment": upload}
    )
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors["attachment"])
    assert not DataIssue.objects.exists()


def test_an_oversize_attachment_is_refused_with_the_limit(orders, outsider, client_for, settings):
    settings.TRUST_ATTACHMENT_MAX_BYTES = 2048
    big = SimpleUploadedFile("sample.csv", b"a,b\n" + b"1,2\n" * 1000, content_type="text/csv")
    response = client_for(outsider).post(
        f"/assets/dataset/{orders.slug}/report-problem/", {**_form(), "attachment": big}
    )
    assert response.status_code == 400
    message = " ".join(response.context["form"].errors["attachment"]).replace("\xa0", " ")
    assert "The file is 3.9 KB; attachments are limited to 2.0 KB." in message
    assert not DataIssue.objects.exists()


def test_the_form_suggests_open_issues_on_the_asset_and_upstream_before_filing(orders, owner, outsider, client_for):
    raw = factories.dataset("Raw orders", owner=owner).asset
    elsewhere = factories.dataset("Stores", owner=owner).asset
    factories.edge(raw, orders)
    factories.data_issue(orders, outsider, title="Totals off on Mondays")
    factories.data_issue(raw, outsider, title="Tills send duplicates")
    closed = factories.data_issue(orders, outsider, title="Old closed one")
    closed.transition("resolved", by=owner)
    factories.data_issue(elsewhere, outsider, title="Unrelated store problem")
    page = client_for(outsider).get(f"/assets/dataset/{orders.slug}/report-problem/")
    suggestions = [issue.title for issue in page.context["suggestions"]]
    assert suggestions == ["Totals off on Mondays", "Tills send duplicates"]
    assert "upstream, on Raw orders" in page.content.decode()


def test_the_owner_moves_the_issue_from_its_page_and_an_outsider_cannot(orders, owner, outsider, client_for):
    issue = factories.data_issue(orders, outsider)
    url = f"{issue.get_absolute_url()}transition/"
    assert client_for(outsider).post(url, {"status": "resolved"}).status_code == 403
    issue.refresh_from_db()
    assert issue.status == "open"
    response = client_for(owner).post(url, {"status": "acknowledged", "comment": "Looking into it."})
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.status == "acknowledged"
    refused = client_for(owner).post(url, {"status": "open"})
    assert refused.status_code == 400 and "cannot become" in refused.content.decode()


def test_anyone_signed_in_can_comment_but_not_with_nothing(orders, owner, outsider, client_for):
    issue = factories.data_issue(orders, outsider)
    assert client_for(owner).post(f"{issue.get_absolute_url()}comment/", {"body": ""}).status_code == 400
    client_for(owner).post(f"{issue.get_absolute_url()}comment/", {"body": "Fixed in tonight's load."})
    assert issue.events.filter(body="Fixed in tonight's load.").exists()
    assert Notification.objects.filter(recipient=outsider, title__startswith="New comment").exists()


def test_the_issues_list_filters_by_status_severity_category_reporter_and_ownership(
    orders, owner, outsider, client_for
):
    someone = factories.user("sam")
    theirs = factories.dataset("Stores", owner=someone).asset
    factories.data_issue(orders, outsider, severity="critical", title="Mine critical")
    factories.data_issue(theirs, outsider, severity="minor", title="Mine on theirs", category="access")
    factories.data_issue(orders, someone, severity="major", title="Sam's on Olivia's")
    resolved = factories.data_issue(theirs, someone, severity="major", title="Resolved one")
    resolved.transition("resolved", by=someone)

    def titles(user, **query):
        return {issue.title for issue in client_for(user).get("/issues/", query).context["page"]}

    assert titles(outsider) == {"Mine critical", "Mine on theirs", "Sam's on Olivia's"}
    assert titles(outsider, state="") == {"Mine critical", "Mine on theirs", "Sam's on Olivia's", "Resolved one"}
    assert titles(outsider, mine="true") == {"Mine critical", "Mine on theirs"}
    assert titles(owner, my_assets="true", state="") == {"Mine critical", "Sam's on Olivia's"}
    assert titles(outsider, severity="critical") == {"Mine critical"}
    assert titles(outsider, category="access") == {"Mine on theirs"}
    assert titles(outsider, status="resolved") == {"Resolved one"}


def _list_queries(count, owner, reporter, client):
    asset = factories.dataset(f"Set {count}", owner=owner).asset
    for _ in range(count):
        factories.data_issue(asset, reporter)
    with count_queries() as queries:
        client.get("/issues/", {"state": ""})
    return len(queries)


def test_the_issues_list_costs_the_same_queries_for_few_and_many_issues(owner, outsider, client_for):
    client = client_for(outsider)
    assert _list_queries(1, owner, outsider, client) == _list_queries(60, owner, outsider, client)


def test_as_the_title_is_typed_open_issues_with_the_same_words_come_first(orders, owner, outsider, client_for):
    factories.data_issue(orders, outsider, title="Totals off on Mondays")
    factories.data_issue(orders, outsider, title="Revenue doubled for November orders")
    response = client_for(outsider).get(
        f"/assets/dataset/{orders.slug}/report-problem/", {"title": "november revenue"}, HTTP_HX_REQUEST="true"
    )
    assert response.templates[0].name == "trust/partials/issue_suggestions.html"
    suggestions = response.context["suggestions"]
    assert [(issue.title, issue.similar) for issue in suggestions] == [
        ("Revenue doubled for November orders", 2),
        ("Totals off on Mondays", 0),
    ]
    assert response.content.decode().count("Looks similar") == 1
