"""Importing what a real dbt run wrote (tests/fixtures/dbt_project, run by conftest.dbt_project)."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from accounts.models import ApiToken
from catalog.choices import AssetKind, Lifecycle, LineageOrigin
from catalog.models import Asset, AssetChange, ColumnLineage, Dataset, LineageEdge
from quality.choices import CheckStatus
from quality.models import CheckResult, FreshnessObservation, QualityCheck
from tests import factories
from trust.badges import compute_badges
from trust.choices import TrustLevel

pytestmark = pytest.mark.django_db


def import_dbt(project, source):
    out = io.StringIO()
    call_command("import_dbt", str(project / "target"), "--source", source.asset.slug, stdout=out)
    return out.getvalue()


def dataset(name):
    return Dataset.objects.select_related("asset__owner", "asset__team").get(asset__name=name)


def test_models_sources_and_seeds_become_datasets_with_columns_types_owners_and_tags(dbt_project, warehouse):
    output = import_dbt(dbt_project, warehouse)

    orders = dataset("stg_orders")
    assert orders.source == warehouse
    assert orders.qualified_name.endswith(".stg_orders") and orders.qualified_name.count(".") == 2
    assert orders.format == "view"
    assert orders.asset.owner.username == "alice"
    assert {tag.name for tag in orders.asset.tags.all()} == {"staging"}
    marts = dataset("customer_orders")
    assert marts.asset.team.name == "analytics" and marts.asset.owner is None
    assert marts.asset.description == "Orders per customer, for **finance**."
    columns = {column.name: column for column in marts.columns.all()}
    assert list(columns) == ["customer_id", "first_name", "email", "order_count", "total_amount"]
    assert columns["total_amount"].data_type == "double precision"
    assert columns["order_count"].data_type == "bigint"
    assert columns["order_count"].description == "How many orders."
    source_table = dataset("raw.orders")
    assert source_table.asset.description == "Orders as they are placed."
    # The unknown owner is reported, not invented.
    assert "Unknown owner, not assigned: stg_customers: nobody-we-know" in output
    assert dataset("stg_customers").asset.owner is None


def test_depends_on_becomes_lineage_and_the_exposure_a_report(dbt_project, warehouse):
    import_dbt(dbt_project, warehouse)

    def upstream_of(name):
        return set(
            LineageEdge.objects.filter(downstream__name=name, origin=LineageOrigin.DBT).values_list(
                "upstream__name", flat=True
            )
        )

    assert upstream_of("customer_orders") == {"stg_customers", "stg_orders"}
    assert upstream_of("stg_orders") == {"raw.orders"}
    report = Asset.objects.select_related("report", "owner").get(kind=AssetKind.REPORT, name="Weekly revenue")
    assert report.report.url == "https://bi.example.com/dashboards/weekly-revenue"
    assert report.owner.username == "alice"  # by the exposure owner's e-mail
    assert upstream_of("Weekly revenue") == {"customer_orders"}
    # Same-named columns of a model and its parents: column lineage.
    email = ColumnLineage.objects.get(downstream__dataset__asset__name="customer_emails", downstream__name="email")
    assert (email.upstream.dataset.asset.name, email.upstream.name) == ("stg_customers", "email")


def test_tests_become_checks_with_their_run_and_the_failure_drives_the_badges(dbt_project, warehouse):
    import_dbt(dbt_project, warehouse)

    failing = QualityCheck.objects.get(check_type="accepted_values")
    assert (failing.asset.name, failing.column, failing.severity) == ("stg_orders", "status", "error")
    assert failing.last_status == CheckStatus.FAIL and failing.last_failures == 1
    assert "not in" in failing.sql
    assert CheckResult.objects.filter(quality_check=failing).count() == 1
    warning = QualityCheck.objects.get(asset__name="customer_orders", column="email")
    assert warning.last_status == CheckStatus.WARN and warning.severity == "warn"
    assert QualityCheck.objects.filter(last_status=CheckStatus.PASS).count() == 5

    orders, report = Asset.objects.get(name="stg_orders"), Asset.objects.get(name="Weekly revenue")
    emails = Asset.objects.get(name="customer_emails")
    badges = compute_badges([orders, report, emails])
    assert badges[orders.pk].level == TrustLevel.DO_NOT_USE
    reason = next(v.reason for v in badges[orders.pk].verdicts if v.rule == "quality")
    assert "accepted_values_stg_orders_status" in reason and "on column status" in reason
    assert f"/quality/dataset/{orders.slug}/#check-{failing.pk}" in reason
    downstream = next(v for v in badges[report.pk].verdicts if v.rule == "quality")
    assert downstream.level == TrustLevel.DO_NOT_USE and "of stg_orders (upstream)" in downstream.reason
    own = next(v for v in badges[emails.pk].verdicts if v.rule == "quality")
    assert own.level == TrustLevel.TRUSTED and "No data quality checks are recorded" in own.reason


def test_source_freshness_becomes_observations(dbt_project, warehouse):
    import_dbt(dbt_project, warehouse)

    observation = FreshnessObservation.objects.get(asset__name="raw.orders")
    assert observation.status == "pass"
    assert observation.max_loaded_at.isoformat().startswith("2026-11-04T12:00")
    assert dataset("raw.orders").last_updated_at == observation.max_loaded_at


def test_reimport_changes_nothing(dbt_project, warehouse):
    import_dbt(dbt_project, warehouse)
    counts = [model.objects.count() for model in (Asset, AssetChange, LineageEdge, QualityCheck, CheckResult)]
    counts.append(FreshnessObservation.objects.count())

    output = import_dbt(dbt_project, warehouse)

    after = [model.objects.count() for model in (Asset, AssetChange, LineageEdge, QualityCheck, CheckResult)]
    assert [*after, FreshnessObservation.objects.count()] == counts
    assert "0 datasets created, 0 updated" in output


def _without(manifest, names):
    gone = {uid for uid, node in manifest["nodes"].items() if node["name"] in names}
    gone |= {uid for uid, node in manifest["nodes"].items() if node.get("attached_node") in gone}
    manifest["nodes"] = {uid: node for uid, node in manifest["nodes"].items() if uid not in gone}
    manifest["exposures"] = {}
    return manifest


def test_what_vanished_from_the_manifest_is_retired_not_deleted_and_comes_back(dbt_project, warehouse, tmp_path):
    import_dbt(dbt_project, warehouse)
    target = tmp_path / "target"
    target.mkdir()
    manifest = json.loads((dbt_project / "target" / "manifest.json").read_text())
    (target / "manifest.json").write_text(json.dumps(_without(manifest, {"customer_orders"})))

    call_command("import_dbt", str(target), "--source", warehouse.asset.slug, stdout=io.StringIO())

    marts = Asset.objects.get(name="customer_orders")
    assert marts.lifecycle == Lifecycle.RETIRED
    assert Asset.objects.get(name="Weekly revenue").lifecycle == Lifecycle.RETIRED
    assert not QualityCheck.objects.filter(asset=marts, gone=False).exists()
    assert QualityCheck.objects.filter(asset=marts, gone=True).count() == 2
    assert marts.changes.filter(changes__dbt=["in the dbt project", "gone from dbt"]).exists()

    import_dbt(dbt_project, warehouse)
    assert Asset.objects.get(name="customer_orders").lifecycle == Lifecycle.ACTIVE
    assert QualityCheck.objects.filter(asset=marts, gone=False).count() == 2


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda m: "{not json", "manifest.json is not valid JSON"),
        (lambda m: {**m, "metadata": {**m["metadata"], "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v3.json"}},
         "schema version https://schemas.getdbt.com/dbt/manifest/v3.json"),
        (lambda m: {**m, "nodes": []}, "'nodes' must be an object"),
        (lambda m: {**m, "nodes": {**m["nodes"], "model.shop.broken": {"resource_type": "model", "name": "x"}}},
         "node model.shop.broken has no 'database'"),
    ],
)  # fmt: skip
def test_a_malformed_artifact_is_refused_with_the_reason_and_changes_nothing(
    dbt_project, warehouse, client, change, reason
):
    manifest = change(json.loads((dbt_project / "target" / "manifest.json").read_text()))
    body = manifest if isinstance(manifest, str) else json.dumps(manifest)
    before = Asset.objects.count()
    _, key = ApiToken.issue(warehouse.asset.owner, "dbt in CI")

    response = client.post(
        "/api/v1/integrations/dbt/",
        {"source": warehouse.asset.slug, "manifest.json": io.BytesIO(body.encode())},
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )

    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert Asset.objects.count() == before


def test_the_command_refuses_a_folder_without_a_manifest(warehouse, tmp_path):
    with pytest.raises(CommandError, match=r"manifest\.json is required"):
        call_command("import_dbt", str(tmp_path), "--source", warehouse.asset.slug)


def _post(client, project, source, token=None):
    names = ("manifest.json", "catalog.json", "run_results.json", "sources.json")
    files = {name: io.BytesIO((project / "target" / name).read_bytes()) for name in names}
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post("/api/v1/integrations/dbt/", {"source": source.asset.slug, **files}, **headers)


def test_the_api_imports_for_the_sources_owner_with_a_token(dbt_project, warehouse, client):
    _, key = ApiToken.issue(warehouse.asset.owner, "dbt in CI")

    response = _post(client, dbt_project, warehouse, token=key)

    assert response.status_code == 200, response.content
    body = response.json()
    assert "stg_orders" in " ".join(body["created"]) and body["failing"] == [
        "accepted_values_stg_orders_status__placed__shipped__completed",
        "not_null_customer_orders_email",
    ]
    assert body["unknown_owners"] == ["stg_customers: nobody-we-know"]


def test_the_api_refuses_someone_who_may_not_edit_the_source(dbt_project, warehouse, client):
    outsider = factories.user("mallory")
    _, key = ApiToken.issue(outsider, "mine")
    before = Asset.objects.count()

    response = _post(client, dbt_project, warehouse, token=key)
    anonymous = _post(client, dbt_project, warehouse)

    assert response.status_code == 403 and "may edit this data source" in response.json()["detail"]
    assert anonymous.status_code in (401, 403)
    assert Asset.objects.count() == before


def test_a_json_body_that_is_not_an_object_is_refused_with_a_400(warehouse, client):
    """Found by schemathesis: a JSON list as the body was a 500 (``'list' object has no attribute 'get'``)."""
    _, key = ApiToken.issue(warehouse.asset.owner, "dbt in CI")

    response = client.post(
        "/api/v1/integrations/dbt/", "[]", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )

    assert response.status_code == 400
    assert "source" in response.json()["errors"]


def test_the_quality_tab_shows_each_check_its_last_status_and_the_history(dbt_project, warehouse, client):
    import_dbt(dbt_project, warehouse)
    client.force_login(warehouse.asset.owner)
    orders = Asset.objects.get(name="stg_orders")

    page = client.get(f"/quality/dataset/{orders.slug}/").content.decode()
    detail = client.get(orders.get_absolute_url()).content.decode()

    assert "1 failing check:" in page and "accepted_values_stg_orders_status__placed__shipped__completed" in page
    assert page.count('data-testid="quality-check"') == 3
    assert "Failed" in page and "Passed" in page
    assert 'id="quality-status-figure"' in page and 'id="quality-failures-figure"' in page
    assert f"/quality/dataset/{orders.slug}/" in detail
    source_page = client.get(f"/quality/dataset/{Asset.objects.get(name='raw.orders').slug}/").content.decode()
    assert 'data-testid="freshness-observation"' in source_page


def test_new_datasets_named_like_existing_ones_get_free_slugs(warehouse):
    from catalog.assets import create_assets
    from catalog.choices import AssetKind
    from catalog.models import Dataset as DatasetRow

    for slug in ("orders", "orders-2"):
        factories.dataset(slug, slug=slug)

    made = create_assets(
        [
            (Asset(kind=AssetKind.DATASET, name="orders"), DatasetRow(source=warehouse, qualified_name=f"x.{n}"), [])
            for n in range(2)
        ],
        actor=None,
    )

    assert [asset.slug for asset in made] == ["orders-3", "orders-4"]


def test_a_column_removed_from_a_model_alerts_the_readers_of_that_column_only(dbt_project, warehouse, tmp_path):
    from core.models import Notification
    from tests.quality.conftest import copy_project

    import_dbt(dbt_project, warehouse)
    carol = factories.user("carol", teams=[factories.team("analytics")])  # customer_orders reads first_name
    target = copy_project(tmp_path / "shop") / "target"
    target.mkdir()
    for name in ("manifest.json", "run_results.json"):
        (target / name).write_text((dbt_project / "target" / name).read_text())
    catalog = json.loads((dbt_project / "target" / "catalog.json").read_text())
    # What dbt docs generate writes once first_name is dropped from stg_customers.
    del catalog["nodes"]["model.shop.stg_customers"]["columns"]["first_name"]
    (target / "catalog.json").write_text(json.dumps(catalog))

    call_command("import_dbt", str(target), "--source", warehouse.asset.slug, stdout=io.StringIO())

    told = set(Notification.objects.filter(kind="schema_change").values_list("recipient__username", flat=True))
    assert carol.username in told
    assert "bob" not in told  # customer_emails reads customer_id and email only


def test_a_check_that_starts_failing_or_recovers_is_announced(warehouse):
    from datetime import timedelta

    from django.utils import timezone

    from quality import events, results

    orders = factories.dataset("orders", source_=warehouse)
    heard = []

    def listen(signal_name):
        def receiver(sender, asset_ids, check_ids, **kwargs):
            heard.append((signal_name, asset_ids))

        return receiver

    failed, recovered = listen("failed"), listen("recovered")
    events.check_failed.connect(failed)
    events.check_recovered.connect(recovered)
    try:
        now = timezone.now()
        for run, status in enumerate(["pass", "fail", "fail", "pass"]):
            results.record(
                [
                    results.Observation(
                        asset_id=orders.pk,
                        key="not_null_orders_id",
                        name="not_null_orders_id",
                        column="id",
                        run_key=f"run-{run}",
                        status=status,
                        executed_at=now + timedelta(minutes=run),
                    )
                ],
                origin="dbt",
            )
    finally:
        events.check_failed.disconnect(failed)
        events.check_recovered.disconnect(recovered)

    assert heard == [("failed", [orders.pk]), ("recovered", [orders.pk])]
    assert CheckResult.objects.filter(quality_check__asset=orders.asset).count() == 4


def test_a_failing_test_on_a_column_alerts_the_readers_of_that_column_only(dbt_project, warehouse, tmp_path):
    """accepted_values fails on stg_orders.status. order_statuses reads status (column lineage), so bob, who owns
    the Order status board built on it, is told with the path; customer_orders reads other columns of stg_orders,
    so dave's finance pack built on it is not, nor alice's Weekly revenue; of the two reports built straight on
    stg_orders, erin's declared it reads amount only (not told), frank's declared status (told first, once)."""
    from core.choices import NotificationKind
    from core.models import Notification
    from trust import downstream
    from trust.choices import NoticeState
    from trust.models import Dependency, ProblemNotice

    # The project as it was before its tests ran: nothing failing yet.
    target = tmp_path / "target"
    target.mkdir()
    for name in ("manifest.json", "catalog.json"):
        (target / name).write_text((dbt_project / "target" / name).read_text())
    call_command("import_dbt", str(target), "--source", warehouse.asset.slug, stdout=io.StringIO())
    orders, marts = Asset.objects.get(name="stg_orders"), Asset.objects.get(name="customer_orders")
    dave, erin, frank = factories.user("dave"), factories.user("erin"), factories.user("frank")
    factories.edge(marts, factories.report("Finance pack", owner=dave))
    for owner, columns in ((erin, ["amount"]), (frank, ["status"])):
        report = factories.report(f"{owner.username}'s sheet", owner=owner).asset
        factories.edge(orders, report)
        Dependency.declare(orders, by=owner, consumer=report, columns=columns)
    Notification.objects.all().delete()

    import_dbt(dbt_project, warehouse)  # now with run_results.json: the test on status fails
    for pk in ProblemNotice.objects.filter(state=NoticeState.PENDING).values_list("pk", flat=True):
        downstream.fan_out(pk)

    def told(kind):
        # The warning on customer_orders.email fails in the same run: its own readers hear of it, not counted here.
        rows = Notification.objects.filter(kind=kind, title__contains="accepted_values_stg_orders_status")
        return dict(rows.values_list("recipient__username", "title"))

    upstream = told(NotificationKind.UPSTREAM)
    assert upstream == {
        "bob": "Order status board ← order_statuses ← stg_orders: failing check "
        "'accepted_values_stg_orders_status__placed__shipped__completed' on column status of stg_orders"
    }
    assert told(NotificationKind.DEPENDENCY) == {
        "frank": "Failing check on stg_orders: accepted_values_stg_orders_status__placed__shipped__completed"
    }
    assert not Notification.objects.filter(recipient=erin).exists()


def _links(name):
    rows = ColumnLineage.objects.filter(downstream__dataset__asset__name=name)
    return set(rows.values_list("downstream__name", "upstream__dataset__asset__name", "upstream__name"))


def test_column_lineage_comes_from_the_compiled_sql_renamed_and_derived_columns_included(dbt_project, warehouse):
    """The manifest ``dbt test`` wrote last has compiled code for the tests only: the models' SQL is their raw code
    with refs and sources resolved; ``dbt compile`` or ``build`` give the compiled code itself (next test)."""
    import_dbt(dbt_project, warehouse)

    assert _links("order_statuses") == {
        ("order_id", "stg_orders", "order_id"),
        ("status", "stg_orders", "status"),
        ("status_label", "stg_orders", "status"),  # upper(status)
        ("amount_cents", "stg_orders", "amount"),  # amount * 100
    }
    marts = _links("customer_orders")
    assert ("order_count", "stg_orders", "order_id") in marts  # count(o.order_id)
    assert ("total_amount", "stg_orders", "amount") in marts  # sum(o.amount)
    # c.customer_id is the customer's: the join key of stg_orders does not feed it.
    assert ("customer_id", "stg_customers", "customer_id") in marts
    assert ("customer_id", "stg_orders", "customer_id") not in marts
    link = ColumnLineage.objects.get(downstream__dataset__asset__name="order_statuses", downstream__name="status_label")
    assert (link.origin, link.transformation) == (LineageOrigin.DBT, "compiled SQL")


def test_the_compiled_code_of_the_manifest_is_read_first(dbt_project, warehouse, tmp_path):
    """What ``dbt compile`` writes: the model's compiled code, whatever its raw code says."""
    target = tmp_path / "target"
    target.mkdir()
    manifest = json.loads((dbt_project / "target" / "manifest.json").read_text())
    node = manifest["nodes"]["model.shop.order_statuses"]
    relation = manifest["nodes"]["model.shop.stg_orders"]["relation_name"]
    node["raw_code"] = "{{ my_macro() }}"
    node["compiled_code"] = f"select order_id, lower(status) as status_label, amount as amount_cents from {relation}"
    (target / "manifest.json").write_text(json.dumps(manifest))
    (target / "catalog.json").write_text((dbt_project / "target" / "catalog.json").read_text())

    call_command("import_dbt", str(target), "--source", warehouse.asset.slug, stdout=io.StringIO())

    assert _links("order_statuses") == {
        ("order_id", "stg_orders", "order_id"),
        ("status_label", "stg_orders", "status"),
        ("amount_cents", "stg_orders", "amount"),
    }


def test_without_sql_the_parser_can_read_same_named_columns_are_taken_as_lineage(dbt_project, warehouse, tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    manifest = json.loads((dbt_project / "target" / "manifest.json").read_text())
    for node in manifest["nodes"].values():
        node.pop("compiled_code", None)
        node["raw_code"] = "{{ my_macro() }}"  # Jinja only dbt can render
    (target / "manifest.json").write_text(json.dumps(manifest))
    (target / "catalog.json").write_text((dbt_project / "target" / "catalog.json").read_text())

    call_command("import_dbt", str(target), "--source", warehouse.asset.slug, stdout=io.StringIO())

    assert _links("order_statuses") == {("order_id", "stg_orders", "order_id"), ("status", "stg_orders", "status")}
