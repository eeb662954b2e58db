"""``asset_for_user``: the one getter every app's views use, answering the asset and ``can_edit`` in one query."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory

from catalog.access import asset_for_user
from catalog.choices import AssetKind
from tests import factories
from tests.helpers import assert_num_queries

pytestmark = pytest.mark.django_db


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


@pytest.fixture
def orders(owner, team):
    return factories.dataset("Orders", owner=owner, team=team).asset


@pytest.mark.parametrize("persona", ["owner", "teammate", "staff"])
def test_the_owner_a_teammate_and_staff_may_edit(orders, persona, request):
    user = request.getfixturevalue(persona)
    with assert_num_queries(1):  # the asset with owner, team and dataset joined, and can_edit
        asset, can_edit = asset_for_user(_request(user), AssetKind.DATASET, "orders")
        assert asset.owner.username == "olivia" and asset.team.name == "Data Platform"
        assert asset.dataset.source.asset.kind == AssetKind.SOURCE
    assert asset == orders and can_edit is True


def test_an_outsider_may_read_but_not_edit(orders, outsider):
    with assert_num_queries(1):  # the same query: the team membership is an EXISTS inside it
        asset, can_edit = asset_for_user(_request(outsider), AssetKind.DATASET, "orders")
    assert asset == orders and can_edit is False
    with pytest.raises(PermissionDenied):
        asset_for_user(_request(outsider), AssetKind.DATASET, "orders", edit=True)


def test_an_asset_without_a_team_is_the_owners_alone(owner, teammate):
    factories.report("Sales", owner=owner)
    assert asset_for_user(_request(owner), AssetKind.REPORT, "sales")[1] is True
    assert asset_for_user(_request(teammate), AssetKind.REPORT, "sales")[1] is False


def test_anonymous_may_not_edit(orders):
    assert asset_for_user(_request(AnonymousUser()), AssetKind.DATASET, "orders")[1] is False


def test_an_unknown_slug_or_the_wrong_kind_is_404(orders, owner):
    with pytest.raises(Http404):
        asset_for_user(_request(owner), AssetKind.DATASET, "no-such-thing")
    with pytest.raises(Http404):
        asset_for_user(_request(owner), AssetKind.REPORT, "orders")


def test_pages_addressed_by_uuid_use_it_too(orders, teammate, outsider):
    assert asset_for_user(_request(teammate), uuid=orders.uuid) == (orders, True)
    assert asset_for_user(_request(outsider), uuid=orders.uuid) == (orders, False)
