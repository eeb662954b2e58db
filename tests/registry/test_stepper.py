"""The promotion stepper on the version page says where a version is, what is missing and what to do next
(issue 17)."""

import pytest

from registry.choices import ChecklistItem, Stage
from registry.services import request_promotion
from tests.registry.helpers import model_with_card, tick_everything

pytestmark = pytest.mark.django_db


def _current(html):
    return html.split('aria-current="step"', 1)[1].split("</li>", 1)[0]


def test_a_new_version_is_told_to_start_validation_with_that_as_its_button(client_for, owner):
    _, version = model_with_card(owner)
    html = client_for(owner).get(version.get_absolute_url()).content.decode()
    assert "Under development" in _current(html)
    step = html.split('data-testid="step-next"', 1)[1].split("</section>", 1)[0]
    assert "Start validation" in step and "moved to validation" in step


def test_in_validation_the_stepper_names_every_unticked_item_then_offers_the_request(client_for, owner, teammate):
    model, version = model_with_card(owner)
    version.change_stage(Stage.STAGING, owner)
    client = client_for(owner)
    html = client.get(version.get_absolute_url()).content.decode()
    assert "Checklist" in _current(html)
    missing = html.split('data-testid="step-missing"', 1)[1].split("</ul>", 1)[0]
    assert all(item.label in missing for item in ChecklistItem)
    tick_everything(version, owner)
    html = client.get(version.get_absolute_url()).content.decode()
    assert "Request" in _current(html) and "Request promotion to “in use”" in html
    request_promotion(model, version, owner)
    html = client_for(teammate).get(version.get_absolute_url()).content.decode()
    assert "Approval" in _current(html) and "Review the request" in html


def test_an_outsider_sees_the_steps_but_no_action(client_for, owner, outsider):
    _, version = model_with_card(owner)
    html = client_for(outsider).get(version.get_absolute_url()).content.decode()
    assert "Under development" in _current(html) and "Start validation" not in html
