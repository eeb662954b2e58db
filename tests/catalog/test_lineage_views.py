import csv
import io
import itertools

import pytest

from catalog.choices import AssetKind
from catalog.graph import NODE_HEIGHT, layout
from catalog.lineage import walk
from catalog.models import Asset, AssetChange, LineageEdge
from catalog.views import GRAPH_NODES, PAGE_SIZE
from tests import factories
from tests.helpers import body, count_queries


def chain(*names, owner=None):
    nodes = [factories.asset(AssetKind.DATASET, name, owner=owner) for name in names]
    for up, down in itertools.pairwise(nodes):
        factories.edge(up, down)
    return nodes


@pytest.mark.django_db
def test_the_graph_shows_hops_both_ways_and_respects_the_depth(client_for, outsider):
    chain("a", "b", "c", "d", "e", "f")
    client = client_for(outsider)
    html = client.get("/catalog/dataset/c/lineage/").content.decode()
    for slug in ("a", "b", "c", "d", "e", "f"):
        assert f'data-testid="node-{slug}"' in html
    one_hop = client.get("/catalog/dataset/c/lineage/?depth=1").content.decode()
    assert 'data-testid="node-a"' not in one_hop and 'data-testid="node-f"' not in one_hop
    assert client.get("/catalog/dataset/c/lineage/?depth=999").context["depth"] == 10
    assert client.get("/catalog/dataset/c/lineage/?depth=abc").context["depth"] == 3


@pytest.mark.django_db
def test_the_impact_table_lists_everything_downstream_with_owners_and_exports_as_csv(client_for, owner, team):
    _, orders = chain("raw", "orders", owner=owner)
    report = factories.report("Sales dashboard", owner=factories.user("rita"), team=team)
    factories.edge(orders, report)
    client = client_for(owner)
    impact = client.get("/catalog/dataset/raw/lineage/").context["impact"]
    assert [(row.name, row.hops) for row in impact] == [("orders", 1), ("Sales dashboard", 2)]
    response = client.get("/catalog/dataset/raw/impact.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body(response).decode())))
    assert rows[0][:6] == ["hops", "kind", "name", "owner", "owner email", "team"]
    assert rows[2][:6] == ["2", "Report", "Sales dashboard", "rita", "rita@example.com", "Data Platform"]


@pytest.mark.django_db
def test_the_lineage_view_costs_the_same_for_10_or_1000_neighbours(client_for, outsider):
    """Session, user, asset, walk up, walk down, the assets with owners, the edges between them."""
    client = client_for(outsider)
    for name, count in (("small", 10), ("big", 1000)):
        centre = factories.asset(AssetKind.DATASET, name)
        others = Asset.objects.bulk_create(
            Asset(kind=AssetKind.REPORT, name=f"{name} {i}", slug=f"{name}-{i}") for i in range(count)
        )
        LineageEdge.objects.bulk_create(LineageEdge(upstream=centre, downstream=other) for other in others)

    def queries(url):
        with count_queries() as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    assert queries("/catalog/dataset/small/lineage/") == queries("/catalog/dataset/big/lineage/")


@pytest.mark.django_db
def test_a_hub_s_impact_is_paged_nearest_first_and_the_graph_draws_only_the_nearest(client_for, outsider):
    hub = factories.asset(AssetKind.DATASET, "hub")
    reports = Asset.objects.bulk_create(
        Asset(kind=AssetKind.REPORT, name=f"Report {i:03}", slug=f"report-{i:03}") for i in range(130)
    )
    LineageEdge.objects.bulk_create(LineageEdge(upstream=hub, downstream=report) for report in reports)
    mid, _ = chain("mid", "far")
    factories.edge(hub, mid)
    client = client_for(outsider)

    first = client.get("/catalog/dataset/hub/lineage/")
    rows = first.context["impact"]
    assert [(row.name, row.hops) for row in rows[:3]] == [("mid", 1), ("Report 000", 1), ("Report 001", 1)]
    assert len(rows) == PAGE_SIZE
    html = first.content.decode()
    assert html.count('data-testid="node-') == 1 + GRAPH_NODES
    assert 'data-testid="node-far"' not in html
    assert "132 downstream" in html
    last = client.get("/catalog/dataset/hub/lineage/?page=3").context["impact"]
    assert [(row.name, row.hops) for row in last[-2:]] == [("Report 129", 1), ("far", 2)]
    for page in ("999", "abc", "-1"):
        assert client.get(f"/catalog/dataset/hub/lineage/?page={page}").status_code == 200

    exported = list(csv.reader(io.StringIO(body(client.get("/catalog/dataset/hub/impact.csv")).decode())))
    assert len(exported) == 1 + 132
    assert exported[1][:3] == ["1", "Dataset", "mid"]
    assert exported[-1][:3] == ["2", "Dataset", "far"]
    assert exported[-1][-1] == "http://testserver/catalog/dataset/far/"


@pytest.mark.django_db
def test_two_hundred_nodes_never_overlap(owner):
    centre = factories.asset(AssetKind.DATASET, "centre")
    others = Asset.objects.bulk_create(
        Asset(kind=AssetKind.REPORT, name=f"Report {i}", slug=f"report-{i}") for i in range(200)
    )
    downstream = {other.pk: 1 + i % 3 for i, other in enumerate(others)}
    positions = layout(centre, {}, downstream, {asset.pk: asset for asset in others})
    assert len(positions) == 201
    assert len(set(positions.values())) == 201
    for x in {x for x, _ in positions.values()}:
        ys = sorted(y for px, y in positions.values() if px == x)
        assert all(b - a >= NODE_HEIGHT for a, b in itertools.pairwise(ys))


@pytest.mark.django_db
def test_an_owner_adds_and_removes_lineage_by_hand_and_both_histories_say_so(client_for, owner):
    orders = factories.dataset("Orders", owner=owner)
    report = factories.report("Sales", owner=factories.user("rita"))
    client = client_for(owner)
    client.post("/catalog/dataset/orders/lineage/add/", {"direction": "down", "other": report.asset.uuid})
    assert walk([orders.pk], "down") == {report.pk: 1}
    assert AssetChange.objects.filter(asset=report.asset, action="lineage", actor=owner).exists()
    again = client.post(
        "/catalog/dataset/orders/lineage/add/", {"direction": "down", "other": report.asset.uuid}, follow=True
    )
    assert "already feeds" in again.content.decode()
    client.post("/catalog/dataset/orders/lineage/remove/", {"direction": "down", "other": report.asset.uuid})
    assert not LineageEdge.objects.exists()


@pytest.mark.django_db
def test_the_outsider_cannot_change_lineage(client_for, owner, outsider):
    orders = factories.dataset("Orders", owner=owner)
    report = factories.report("Sales", owner=outsider)
    factories.edge(orders, report)
    client = client_for(outsider)
    assert (
        client.post(
            "/catalog/dataset/orders/lineage/remove/", {"direction": "down", "other": report.asset.uuid}
        ).status_code
        == 403
    )
    assert (
        client.post("/catalog/dataset/orders/lineage/add/", {"direction": "up", "other": report.asset.uuid}).status_code
        == 403
    )
    assert LineageEdge.objects.count() == 1


@pytest.mark.django_db
def test_lineage_is_added_by_typing_the_other_assets_name_or_picking_a_suggestion(client_for, owner):
    orders = factories.dataset("Orders", owner=owner)
    daily = factories.dataset("Daily sales", owner=owner)
    report = factories.report("Sales dashboard", owner=factories.user("rita"))
    client = client_for(owner)
    client.post("/catalog/dataset/orders/lineage/add/", {"direction": "down", "other": "daily sales"})
    client.post("/catalog/dataset/orders/lineage/add/", {"direction": "down", "other": "report/sales-dashboard"})
    assert walk([orders.pk], "down", 1) == {daily.pk: 1, report.pk: 1}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("Nothing like it", "No asset called “Nothing like it”"),
        ("Twin", "Several assets are called “Twin”"),
        ("dataset/orders", "An asset cannot feed itself."),
        ("dataset/gone", "No asset called “dataset/gone”"),
    ],
)
def test_a_name_that_names_no_single_other_asset_is_refused_with_the_reason(client_for, owner, typed, message):
    factories.dataset("Orders", owner=owner)
    factories.dataset("Twin", owner=owner)
    factories.report("Twin", owner=owner)
    factories.dataset("Gone", owner=owner, lifecycle="retired")
    page = client_for(owner).post(
        "/catalog/dataset/orders/lineage/add/", {"direction": "down", "other": typed}, follow=True
    )
    assert message in page.content.decode()
    assert not LineageEdge.objects.exists()


@pytest.mark.django_db
def test_suggestions_list_names_containing_what_was_typed_those_starting_with_it_first(client_for, outsider):
    for name in ("Big orders", "Orders", "Orders daily", "Returns"):
        factories.dataset(name)
    factories.dataset("Orders archive", lifecycle="retired")
    html = client_for(outsider).get("/catalog/suggest/", {"other": "order"}).content.decode()
    options = [line.split(">")[1].split("<")[0] for line in html.split("<option")[1:]]
    assert options == ["Dataset: Orders", "Dataset: Orders daily", "Dataset: Big orders"]
    assert 'value="dataset/orders-daily"' in html
    assert "<option" not in client_for(outsider).get("/catalog/suggest/", {"other": "o"}).content.decode()


def test_suggestions_for_several_assets_keep_those_typed_before_the_last_comma(client_for, outsider):
    factories.dataset("Orders daily")
    factories.dataset("Returns")
    typed = "dataset/returns,  Orders da"
    html = client_for(outsider).get("/catalog/suggest/", {"field": "x", "x": typed, "several": "1"}).content.decode()
    assert 'value="dataset/returns, dataset/orders-daily"' in html
    single = client_for(outsider).get("/catalog/suggest/", {"field": "x", "x": "Orders da"}).content.decode()
    assert 'value="dataset/orders-daily"' in single


@pytest.mark.django_db
def test_an_assets_page_costs_the_same_queries_with_10_or_300_other_assets_in_the_catalog(client_for, owner):
    factories.dataset("Orders", owner=owner)
    client = client_for(owner)

    def queries():
        with count_queries() as captured:
            assert client.get("/catalog/dataset/orders/").status_code == 200
        return len(captured)

    Asset.objects.bulk_create(Asset(kind=AssetKind.REPORT, name=f"Report {n}", slug=f"report-{n}") for n in range(10))
    few = queries()
    Asset.objects.bulk_create(Asset(kind=AssetKind.REPORT, name=f"Other {n}", slug=f"other-{n}") for n in range(290))
    many = queries()
    assert many == few
    assert "Other 7" not in client.get("/catalog/dataset/orders/").content.decode()
