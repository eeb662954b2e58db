import pytest

from catalog.changes import record_change, snapshot
from catalog.choices import ChangeAction, Classification
from catalog.models import AssetChange
from tests import factories


@pytest.mark.django_db
def test_only_changed_fields_are_recorded_with_before_and_after(owner):
    dataset = factories.dataset("Orders", owner=owner)
    before = snapshot(dataset.asset, dataset)
    dataset.asset.description = "All orders."
    dataset.classification = Classification.CONFIDENTIAL
    change = record_change(dataset.asset, owner, before, snapshot(dataset.asset, dataset))
    assert change.changes == {
        "classification": ["Internal", "Confidential"],
        "description": ["", "All orders."],
    }
    assert change.actor == owner


@pytest.mark.django_db
def test_nothing_changed_writes_nothing_but_a_creation_is_always_recorded(owner):
    asset = factories.asset("report", "Sales", owner=owner)
    same = snapshot(asset)
    assert record_change(asset, owner, same, same) is None
    assert record_change(asset, owner, {}, same, action=ChangeAction.CREATED) is not None
    assert AssetChange.objects.filter(asset=asset).count() == 1


@pytest.mark.django_db
def test_other_apps_can_record_their_own_plain_snapshots(owner):
    asset = factories.asset("model", "Churn", owner=owner)
    change = record_change(asset, None, {"stage": "staging"}, {"stage": "production"})
    assert change.changes == {"stage": ["staging", "production"]}
    assert change.actor is None
