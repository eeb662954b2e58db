"""The registry announces each change once: an edit of a model's facts marks its badge stale one time, whatever
door it came through (the page, the API)."""

import pytest

from catalog import events as catalog_events
from registry import events as registry_events
from tests.registry.helpers import model_with_card
from trust.models import StoredBadge

pytestmark = pytest.mark.django_db


@pytest.fixture
def announcements():
    """Every asset_changed and card_changed sent, as (event, ids)."""
    heard = []

    def asset_changed(sender, asset_ids, **kwargs):
        heard.append(("asset_changed", sorted(asset_ids)))

    def card_changed(sender, model_ids, **kwargs):
        heard.append(("card_changed", sorted(model_ids)))

    catalog_events.asset_changed.connect(asset_changed, dispatch_uid="test-heard-asset")
    registry_events.card_changed.connect(card_changed, dispatch_uid="test-heard-card")
    yield heard
    catalog_events.asset_changed.disconnect(dispatch_uid="test-heard-asset")
    registry_events.card_changed.disconnect(dispatch_uid="test-heard-card")


def _generation(model):
    return StoredBadge.objects.get(asset_id=model.pk).generation


def _facts(model, **changes):
    return {
        "name": model.asset.name,
        "team": model.asset.team_id,
        "summary": model.summary,
        "goal": model.goal,
        "users_description": model.users_description,
        "developers": [user.pk for user in model.developers.all()],
        **changes,
    }


def test_saving_a_models_facts_on_its_page_marks_its_badge_stale_once(client_for, owner, announcements):
    model, _ = model_with_card(owner, complete=False)
    StoredBadge.invalidate([model.pk])
    before = _generation(model)
    announcements.clear()

    response = client_for(owner).post(f"/models/{model.asset.slug}/edit/", _facts(model, summary="Who leaves soon."))

    assert response.status_code == 302
    assert announcements == [("asset_changed", [model.pk])]
    assert _generation(model) == before + 1


def test_patching_a_model_through_the_api_marks_its_badge_stale_once(client_for, owner, announcements):
    model, _ = model_with_card(owner, complete=False)
    StoredBadge.invalidate([model.pk])
    before = _generation(model)
    announcements.clear()

    response = client_for(owner).patch(
        f"/api/v1/models/{model.asset.slug}/", {"summary": "Who leaves soon."}, "application/json"
    )

    assert response.status_code == 200, response.content
    assert announcements == [("asset_changed", [model.pk])]
    assert _generation(model) == before + 1
