"""A large paste loses nothing (issue 13, item 8): every limited field states its limit, over-limit text gets a field
error with the text kept, a request too large to read gets a page that says so, nothing is cut short."""

import json
from datetime import date, timedelta

import pytest
from django.contrib.messages import get_messages

from registry.models import ModelCard
from tests import factories
from trust.models import Deprecation, DeprecationImpact

pytestmark = pytest.mark.django_db

THREE_MB = "A long pasted validation report. " * (3 * 1024 * 1024 // 33)


@pytest.fixture
def churn(owner, team):
    return factories.registered_model("Churn predictor", owner=owner, team=team)


def test_three_megabytes_pasted_into_a_card_section_get_a_field_error_and_the_text_is_kept(churn, owner, client_for):
    card, _ = ModelCard.objects.get_or_create(model=churn)
    form = {name: "" for name in ModelCard.TEXT_FIELDS}
    form.update(base_revision=card.revision, description="What it does.", validation=THREE_MB)
    response = client_for(owner).post(f"/models/{churn.asset.slug}/card/edit/", form)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["validation"]
    assert "at most 50000 characters" in errors["validation"][0].replace(",", "")
    page = response.content.decode()
    # The whole text is back in the form to shorten, not a bare error page.
    assert THREE_MB in page
    card.refresh_from_db()
    assert card.validation == "" and card.description == ""


def test_a_request_too_large_to_read_gets_a_page_that_says_what_happened(churn, owner, client_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    card, _ = ModelCard.objects.get_or_create(model=churn)
    response = client_for(owner).post(
        f"/models/{churn.asset.slug}/card/edit/", {"base_revision": card.revision, "validation": THREE_MB}
    )
    assert response.status_code == 413
    page = response.content.decode()
    assert "too large" in page and "more than 1 MB" in page and "Back" in page and "still in the form" in page
    assert '<link rel="stylesheet"' in page  # the site's style, not Django's bare text


def test_a_request_too_large_under_the_api_is_answered_in_json(rf):
    from django.core.exceptions import RequestDataTooBig

    from portal.errors import bad_request

    response = bad_request(rf.post("/api/v1/datasets/"), RequestDataTooBig("too big"))
    assert response.status_code == 413
    assert "larger than" in json.loads(response.content)["detail"]


@pytest.mark.parametrize(
    ("url", "field", "limit"),
    [
        ("/assets/dataset/orders/report-problem/", "title", 200),
        ("/assets/dataset/orders/report-problem/", "affected_columns", 500),
        ("/models/churn-predictor/edit/", "summary", 300),
        ("/models/churn-predictor/card/edit/", "validation", 50_000),
    ],
)
def test_every_limited_field_states_its_limit_and_carries_it(churn, owner, team, client_for, url, field, limit):
    factories.dataset("Orders", owner=owner, team=team)
    response = client_for(owner).get(url)
    assert response.status_code == 200
    bound = response.context["form"][field]
    assert f"Up to {limit:,} characters." in str(bound.help_text)
    assert f'maxlength="{limit}"' in str(bound)
    assert f"Up to {limit:,} characters." in response.content.decode()


@pytest.mark.parametrize("url", ["/models/churn-predictor/gates/", "/models/churn-predictor/card/edit/"])
def test_the_quality_gates_state_their_limits_on_their_page_and_in_the_card_editor(churn, owner, client_for, url):
    response = client_for(owner).get(url)
    assert response.status_code == 200
    gates = response.context["gates" if "card" in url else "form"]
    for field, limit in (("thresholds", 5_000), ("sensitive_column", 200)):
        assert f"Up to {limit:,} characters." in str(gates[field].help_text)
        assert f'maxlength="{limit}"' in str(gates[field])
    page = response.content.decode()
    assert "Up to 5,000 characters." in page and "Up to 200 characters." in page


def test_an_issue_title_over_its_limit_is_refused_with_the_text_kept(owner, team, outsider, client_for):
    orders = factories.dataset("Orders", owner=owner, team=team).asset
    title = "Revenue doubled " * 20  # 320 characters
    response = client_for(outsider).post(
        f"/assets/dataset/{orders.slug}/report-problem/",
        {"title": title, "description": "Twice.", "category": "wrong_values", "severity": "minor"},
    )
    assert response.status_code == 400
    assert "at most 200 characters" in response.context["form"].errors["title"][0]
    assert response.context["form"]["title"].value() == title


def test_an_acknowledgement_note_over_its_limit_records_nothing_rather_than_dropping_the_note(owner, team, client_for):
    bob = factories.user("bob")
    legacy = factories.dataset("Legacy orders", owner=owner, team=team).asset
    daily = factories.dataset("Daily sales", owner=bob).asset
    factories.edge(legacy, daily)
    deprecation = Deprecation.propose(legacy, by=owner, reason="Replaced.", sunset_date=date.today() + timedelta(90))
    response = client_for(bob).post(
        f"/deprecations/{deprecation.uuid}/acknowledge/dataset/{daily.slug}/", {"note": "x" * 501}
    )
    assert response.status_code == 302
    impact = DeprecationImpact.objects.get(deprecation=deprecation, asset=daily)
    assert impact.acknowledged_at is None
    said = " ".join(str(message) for message in get_messages(response.wsgi_request))
    assert "Nothing recorded" in said and "500 characters" in said
