import pytest

from catalog.choices import AssetKind, Classification, Lifecycle
from catalog.models import Asset, Dataset, Tag
from tests import factories
from tests.helpers import count_queries


@pytest.mark.django_db
def test_filters_by_kind_owner_team_tag_status_and_classification(client_for, owner, team, outsider):
    orders = factories.dataset("Orders", owner=owner, team=team)
    orders.asset.tags.add(Tag.objects.create(name="gold"))
    Dataset.objects.filter(pk=orders.pk).update(classification=Classification.CONFIDENTIAL)
    factories.dataset("Leads", owner=outsider)
    factories.report("Sales", owner=owner)
    factories.asset(AssetKind.DATASET, "Old orders", lifecycle=Lifecycle.RETIRED)
    client = client_for(outsider)

    def names(query):
        return [asset.name for asset in client.get(f"/catalog/?{query}").context["page"]]

    assert "Old orders" not in names("")
    assert names("kind=report") == ["Sales"]
    assert names("kind=dataset&owner=olivia") == ["Orders"]
    assert names("team=data-platform&kind=dataset") == ["Orders"]
    assert names("tag=gold") == ["Orders"]
    assert names("classification=confidential") == ["Orders"]
    assert names("lifecycle=retired") == ["Old orders"]


@pytest.mark.django_db
def test_an_asset_with_several_tags_is_listed_and_counted_once(client_for, outsider):
    orders = factories.dataset("Orders")
    orders.asset.tags.add(Tag.objects.create(name="gold"), Tag.objects.create(name="finance"))
    factories.dataset("Leads").asset.tags.add(Tag.objects.get(name="gold"))
    page = client_for(outsider).get("/catalog/?tag=gold&q=orders").context["page"]
    assert [asset.name for asset in page] == ["Orders"]
    assert page.paginator.count == 1


@pytest.mark.django_db
def test_sorting_and_pagination(client_for, outsider):
    for index in range(60):
        factories.asset(AssetKind.DATASET, f"Dataset {index:02d}")
    client = client_for(outsider)
    first = client.get("/catalog/?sort=-name").context["page"]
    assert first[0].name == "Dataset 59" and len(first) == 50
    second = client.get("/catalog/?sort=-name&page=2")
    assert [asset.name for asset in second.context["page"]][-1] == "Dataset 00"
    assert "?sort=-name&page=1" in second.content.decode()


@pytest.mark.django_db
def test_an_unknown_filter_value_is_a_form_error_not_a_crash(client_for, outsider):
    response = client_for(outsider).get("/catalog/?kind=planet&sort=nonsense")
    assert response.status_code == 200


def _queries(client, url):
    with count_queries() as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_the_list_page_costs_the_same_for_10_or_1000_assets(client_for, outsider, owner, team):
    """Session, user, filter choices (owners, teams, tags), count, the page with owner and team, its tags."""
    client = client_for(outsider)
    tag = Tag.objects.create(name="gold")
    rows = Asset.objects.bulk_create(
        Asset(kind=AssetKind.REPORT, name=f"Report {i}", slug=f"report-{i}", owner=owner, team=team) for i in range(10)
    )
    for asset in rows:
        asset.tags.add(tag)
    ten = _queries(client, "/catalog/reports/")
    rows = Asset.objects.bulk_create(
        Asset(kind=AssetKind.REPORT, name=f"More {i}", slug=f"more-{i}", owner=owner, team=team) for i in range(990)
    )
    Asset.tags.through.objects.bulk_create(Asset.tags.through(asset_id=a.pk, tag_id=tag.pk) for a in rows)
    assert _queries(client, "/catalog/reports/") == ten
