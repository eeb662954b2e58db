"""An asset's address is reversed once per kind and filled in with the slug: it must stay what ``reverse`` gives,
under any script prefix (a portal served below /data/, say)."""

import pytest
from django.urls import clear_script_prefix, reverse, set_script_prefix

from catalog.choices import AssetKind
from catalog.models import Asset


@pytest.mark.parametrize("prefix", ["/", "/data/"])
def test_the_address_of_every_kind_is_what_reverse_gives(prefix):
    set_script_prefix(prefix)
    try:
        for kind in AssetKind.values:
            asset = Asset(kind=kind, slug="orders_daily-2")
            expected = reverse("catalog:asset_detail", kwargs={"kind": kind, "slug": "orders_daily-2"})
            assert asset.get_absolute_url() == expected and expected.startswith(prefix)
    finally:
        clear_script_prefix()
