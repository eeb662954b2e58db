"""A long paste in the browser (issue 13, item 8): the limit is shown as you type, the browser does not cut the text,
the server refuses it with a field error and the whole text is still in the form."""

import pytest
from playwright.sync_api import expect

from registry.models import ModelCard
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOO_LONG = "x" * 60_000  # the limit of a card section is 50,000 characters


def test_a_paste_over_a_card_section_s_limit_is_counted_refused_and_kept(page, live_server, sign_in, page_errors):
    owner = factories.user("olga")
    churn = factories.registered_model("Churn predictor", owner=owner)
    sign_in(page, owner)
    page.goto(f"{live_server.url}/models/{churn.asset.slug}/card/edit/")
    section = page.locator("#id_validation")
    expect(page.locator("#id_validation + .char-count")).to_have_text("0 / 50,000 characters")
    # As a paste lands: one input event with the whole text.
    section.evaluate("(field, text) => { field.value = text; field.dispatchEvent(new Event('input')); }", TOO_LONG)
    expect(page.locator("#id_validation + .char-count")).to_contain_text("10,000 too many")
    page.get_by_role("button", name="Save card").click()
    expect(page.locator("#id_validation ~ .errorlist")).to_contain_text("at most 50000 characters")
    assert len(page.locator("#id_validation").input_value()) == 60_000
    assert ModelCard.objects.get(model=churn).validation == ""
    assert page_errors == []
