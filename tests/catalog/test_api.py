import pytest

from catalog.choices import AssetKind, SourceKind
from catalog.models import Asset, AssetChange, Dataset, LineageEdge, Tag
from core.choices import JobKind
from core.models import JobRun
from tests import factories
from tests.helpers import count_queries


@pytest.fixture
def source(owner, team):
    return factories.source("Warehouse", owner=owner, team=team)


@pytest.mark.django_db
def test_create_a_dataset_through_the_api_with_tags_and_history(owner, source):
    response = factories.api_client(owner).post(
        "/api/v1/datasets/",
        {"name": "Daily sales", "source": "warehouse", "qualified_name": "sales.daily", "tags": ["Gold"],
         "classification": "confidential", "retention_days": 30, "retention_action": "delete"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["slug"], body["owner"], body["tags"], body["retention_rule"]) == (
        "daily-sales",
        "olivia",
        ["gold"],
        "Kept for 30 days, then deleted.",
    )
    assert AssetChange.objects.get(asset__slug="daily-sales").action == "created"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "", "qualified_name": "x"}, "name"),
        ({"name": "x" * 201, "qualified_name": "x"}, "name"),
        ({"name": "Dup", "qualified_name": "sales.orders"}, "__all__"),
        ({"name": "Kept", "qualified_name": "y", "retention_days": 5}, "retention_action"),
    ],
)
def test_the_api_refuses_what_the_form_refuses_with_a_json_400(owner, source, payload, field):
    factories.dataset("Orders", source_=source, qualified_name="sales.orders")
    before = Asset.objects.count()
    response = factories.api_client(owner).post("/api/v1/datasets/", {"source": "warehouse", **payload}, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Asset.objects.count() == before


@pytest.mark.django_db
def test_a_source_with_a_password_in_its_settings_is_refused(owner):
    response = factories.api_client(owner).post(
        "/api/v1/sources/",
        {"name": "CRM", "source_kind": "mysql", "connection": {"host": "crm", "password": "x"}},
        format="json",
    )
    assert response.status_code == 400
    assert "Do not store secrets" in str(response.json()["errors"]["connection"])


@pytest.mark.django_db
def test_the_outsider_cannot_update_or_delete_through_the_api(outsider, owner, source):
    factories.dataset("Orders", source_=source, owner=owner)
    api = factories.api_client(outsider)
    assert api.patch("/api/v1/datasets/orders/", {"description": "mine"}, format="json").status_code == 403
    assert api.delete("/api/v1/datasets/orders/").status_code == 403
    assert api.delete("/api/v1/sources/warehouse/").status_code == 403
    assert Asset.objects.get(slug="orders").description == ""


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["owner", "teammate", "staff"])
def test_editors_update_and_delete_through_the_api(request, owner, source, who):
    factories.report("Sales", owner=owner, team=source.asset.team)
    api = factories.api_client(request.getfixturevalue(who))
    response = api.patch("/api/v1/reports/sales/", {"audience": "Board", "description": "*Weekly*"}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["audience"], response.json()["description"]) == ("Board", "*Weekly*")
    assert AssetChange.objects.get(asset__slug="sales").changes["audience"] == ["", "Board"]
    assert api.delete("/api/v1/reports/sales/").status_code == 204
    assert not Asset.objects.filter(slug="sales").exists()


@pytest.mark.django_db
def test_a_stale_update_is_a_409_and_changes_nothing(owner, source):
    factories.pipeline("Orders ETL", owner=owner)
    api = factories.api_client(owner)
    read = api.get("/api/v1/pipelines/orders-etl/").json()
    assert api.patch("/api/v1/pipelines/orders-etl/", {"schedule": "hourly"}, format="json").status_code == 200
    stale = api.patch(
        "/api/v1/pipelines/orders-etl/", {"schedule": "daily", "updated_at": read["updated_at"]}, format="json"
    )
    assert stale.status_code == 409
    assert api.get("/api/v1/pipelines/orders-etl/").json()["schedule"] == "hourly"


@pytest.mark.django_db
def test_a_source_with_datasets_cannot_be_deleted(owner, source):
    factories.dataset("Orders", source_=source)
    response = factories.api_client(owner).delete("/api/v1/sources/warehouse/")
    assert response.status_code == 400 and "still has datasets" in response.json()["detail"]


@pytest.mark.django_db
def test_impact_costs_the_same_queries_for_three_or_thirty_tagged_assets_downstream(owner):
    gold = Tag.objects.create(name="gold")
    api = factories.api_client(owner)

    def queries(name, count):
        centre = factories.asset(AssetKind.DATASET, name)
        for n in range(count):
            report = factories.asset(AssetKind.REPORT, f"{name} report {n}")
            report.tags.add(gold)
            factories.edge(centre, report)
        api.get(f"/api/v1/assets/{centre.uuid}/impact/")  # the token's "last used" is written once a minute
        with count_queries() as captured:
            impact = api.get(f"/api/v1/assets/{centre.uuid}/impact/").json()
        assert impact["count"] == count and impact["results"][0]["tags"] == ["gold"]
        return len(captured)

    assert queries("few", 3) == queries("many", 30)


@pytest.mark.django_db
def test_a_hubs_impact_comes_a_page_at_a_time_nearest_first_and_its_lineage_the_nearest_each_way(owner):
    hub = factories.dataset("Hub", owner=owner)
    near = [factories.dataset(f"Near {n}", owner=owner) for n in range(3)]
    for dataset in near:
        factories.edge(hub, dataset)
    for n in range(4):
        factories.edge(near[0], factories.report(f"Far {n}", owner=owner))
    api = factories.api_client(owner)
    first = api.get(f"/api/v1/assets/{hub.asset.uuid}/impact/?limit=4").json()
    assert first["count"] == 7 and first["previous"] is None
    assert [(row["name"], row["hops"]) for row in first["results"]] == [
        ("Near 0", 1), ("Near 1", 1), ("Near 2", 1), ("Far 0", 2)
    ]  # fmt: skip
    second = api.get(first["next"]).json()
    assert [row["name"] for row in second["results"]] == ["Far 1", "Far 2", "Far 3"] and second["next"] is None
    lineage = api.get(f"/api/v1/assets/{hub.asset.uuid}/lineage/?limit=2&depth=2").json()
    assert lineage["downstream_count"] == 7 and lineage["upstream_count"] == 0
    assert [row["name"] for row in lineage["downstream"]] == ["Near 0", "Near 1"]


@pytest.mark.django_db
def test_lineage_and_impact_per_asset(owner, outsider):
    orders = factories.dataset("Orders", owner=owner)
    report = factories.report("Sales", owner=outsider)
    api = factories.api_client(owner)
    added = api.post(
        f"/api/v1/assets/{orders.asset.uuid}/lineage/", {"direction": "down", "other": str(report.asset.uuid)}
    )
    assert added.status_code == 201
    assert (
        api.post(
            f"/api/v1/assets/{orders.asset.uuid}/lineage/", {"direction": "down", "other": str(report.asset.uuid)}
        ).status_code
        == 400
    )
    lineage = api.get(f"/api/v1/assets/{report.asset.uuid}/lineage/?depth=2").json()
    assert [(row["slug"], row["hops"]) for row in lineage["upstream"]] == [("orders", 1)]
    assert lineage["upstream_count"] == 1 and lineage["downstream_count"] == 0
    impact = api.get(f"/api/v1/assets/{orders.asset.uuid}/impact/").json()
    assert [(row["slug"], row["owner"], row["hops"]) for row in impact["results"]] == [("sales", "oscar", 1)]
    assert api.get(f"/api/v1/assets/{orders.asset.uuid}/impact/?depth=x").status_code == 400
    refused = api.get(f"/api/v1/assets/{orders.asset.uuid}/lineage/?limit=many")
    assert refused.status_code == 400 and refused.json()["errors"] == {"limit": "A whole number from 1 to 500."}
    denied = factories.api_client(outsider).delete(f"/api/v1/assets/{orders.asset.uuid}/lineage/{report.asset.uuid}/")
    assert denied.status_code == 403
    assert api.delete(f"/api/v1/assets/{orders.asset.uuid}/lineage/{report.asset.uuid}/").status_code == 204
    assert not LineageEdge.objects.exists()
    assert api.delete(f"/api/v1/assets/{orders.asset.uuid}/lineage/{report.asset.uuid}/").status_code == 404


@pytest.mark.django_db
def test_scans_are_requested_by_editors_and_listed(owner, outsider, settings, tmp_path):
    settings.DATA_ROOT = tmp_path
    factories.source("Shop", SourceKind.SQLITE, {"path": "shop.sqlite3"}, owner=owner)
    factories.source("CRM", SourceKind.MYSQL, owner=owner)
    assert factories.api_client(outsider).post("/api/v1/scans/", {"source": "shop"}).status_code == 403
    assert factories.api_client(owner).post("/api/v1/scans/", {"source": "crm"}).status_code == 400
    response = factories.api_client(owner).post("/api/v1/scans/", {"source": "shop"})
    assert response.status_code == 202 and response.json()["state"] == "queued"
    assert JobRun.objects.get().kind == JobKind.SCHEMA_SCAN
    listed = factories.api_client(outsider).get("/api/v1/scans/?source=shop").json()
    assert [run["source"] for run in listed["results"]] == ["shop"]


@pytest.mark.django_db
def test_the_dataset_list_filters_and_costs_the_same_for_10_or_100_rows(owner, source):
    api = factories.api_client(owner)
    api.get("/api/v1/datasets/")  # the token's first use is recorded once; later reads do not write
    for index in range(10):
        factories.dataset(f"Set {index}", source_=source, columns=[("id", "int")], owner=owner)

    def count():
        with count_queries() as queries:
            assert api.get("/api/v1/datasets/?source=warehouse&owner=olivia").status_code == 200
        return len(queries)

    ten = count()
    for index in range(10, 100):
        factories.dataset(f"Set {index}", source_=source, columns=[("id", "int")], owner=owner)
    assert count() == ten
    assert Dataset.objects.count() == 100
    assert api.get("/api/v1/datasets/?classification=restricted").json()["count"] == 0
    assert api.get("/api/v1/assets/?kind=dataset&sort=-name").json()["results"][0]["name"] == "Set 99"


@pytest.mark.django_db
def test_the_dataset_list_asked_for_columns_shows_each_with_its_profile(owner, source):
    orders = factories.dataset("Orders", source_=source, columns=[("id", "bigint"), ("email", "text")], owner=owner)
    orders.columns.filter(name="email").update(
        is_pii=True, nullable=False, null_fraction=0.25, distinct_count=1200, min_value="a@x.io", max_value="z@x.io"
    )
    (listed,) = factories.api_client(owner).get("/api/v1/datasets/?fields=columns").json()["results"]
    assert listed["columns"] == [
        {"name": "id", "data_type": "bigint", "description": "", "nullable": True, "is_pii": False,
         "example_value": "", "position": 0, "null_fraction": None, "distinct_count": None, "min_value": "",
         "max_value": ""},
        {"name": "email", "data_type": "text", "description": "", "nullable": False, "is_pii": True,
         "example_value": "", "position": 1, "null_fraction": 0.25, "distinct_count": 1200, "min_value": "a@x.io",
         "max_value": "z@x.io"},
    ]  # fmt: skip


@pytest.mark.django_db
def test_reading_needs_a_signed_in_user(client):
    assert client.get("/api/v1/datasets/").status_code in (401, 403)
    assert factories.asset(AssetKind.REPORT, "x")


@pytest.mark.django_db
def test_a_dataset_list_leaves_the_columns_out_unless_asked_and_a_detail_always_has_them(owner, source):
    factories.dataset("Orders", source_=source, owner=owner, columns=[("order_id", "bigint"), ("total", "numeric")])
    api = factories.api_client(owner)
    [row] = api.get("/api/v1/datasets/").json()["results"]
    assert row["slug"] == "orders" and "columns" not in row
    [row] = api.get("/api/v1/datasets/?fields=columns").json()["results"]
    assert [column["name"] for column in row["columns"]] == ["order_id", "total"]
    detail = api.get("/api/v1/datasets/orders/").json()
    assert [column["name"] for column in detail["columns"]] == ["order_id", "total"]
