"""Forms say each problem once, summarised at the top with links to the fields, and keep what was typed
(issue 17)."""

import pytest

from tests import factories

pytestmark = pytest.mark.django_db


def test_an_empty_required_field_gets_one_error_not_two(client_for, owner):
    factories.dataset("Orders", owner=owner)
    empty = {"title": "Rows missing", "description": "", "category": "", "severity": ""}
    page = client_for(owner).post("/assets/dataset/orders/report-problem/", empty)
    html = page.content.decode()
    assert page.status_code == 400
    # Before: "This field is required." and "Say what is wrong, so the owner can find it." under one field.
    assert html.count("Say what is wrong, so the owner can find it.") == 2  # under the field and in the summary
    field_errors = html.split('id="id_description"', 1)[0].rsplit("<div", 1)[-1]
    assert "This field is required." not in field_errors


def test_the_summary_links_each_problem_to_its_field(client_for, owner):
    factories.dataset("Orders", owner=owner)
    html = (
        client_for(owner)
        .post("/assets/dataset/orders/report-problem/", {"title": "Rows missing", "description": "", "category": ""})
        .content.decode()
    )
    summary = html.split('data-testid="error-summary"', 1)[1].split("</div>", 1)[0]
    assert '<a href="#id_description">' in summary and '<a href="#id_category">' in summary
    assert 'value="Rows missing"' in html  # nothing typed is lost
