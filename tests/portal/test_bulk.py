"""core.bulk.insert_many: one statement for rows that differ in a column or two."""

import pytest

from core.bulk import insert_many
from tests import factories
from trust.models import Deprecation, StoredBadge

pytestmark = pytest.mark.django_db


def test_rows_get_the_varying_columns_the_fixed_ones_and_the_defaults_and_conflicts_are_skipped(owner):
    assets = [factories.dataset(f"Table {n}", owner=owner).asset for n in range(3)]
    StoredBadge.objects.create(asset=assets[0], level="trusted", generation=7)
    ids = [asset.pk for asset in assets]
    insert_many(StoredBadge, {"asset_id": ids}, {"stale": True, "generation": 1}, ignore_conflicts=True)
    rows = {row.asset_id: row for row in StoredBadge.objects.all()}
    kept = rows[assets[0].pk]
    assert (kept.level, kept.generation, kept.stale) == ("trusted", 7, False)
    for asset in assets[1:]:
        row = rows[asset.pk]
        assert (row.stale, row.generation, row.level, row.verdicts, row.computed_at) == (True, 1, "", [], None)


def test_a_default_that_differs_per_row_must_be_given(owner):
    with pytest.raises(ValueError, match="uuid"):
        insert_many(Deprecation, {"asset_id": [factories.dataset("Orders", owner=owner).asset.pk]})


def test_columns_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="one value per row"):
        insert_many(StoredBadge, {"asset_id": [1, 2], "generation": [1]})
