"""Issue 14, findings 1 and 2, as an ordinary signed-in reader would try them: through the API and the pages.

Mallory is a reader. Olivia (``owner``) owns the warehouse source. Each attack is refused, the refusal says why, and
the owner's own path (a real PostgreSQL source scanned and probed with a structured condition) still works.
"""

import socket
import threading
import uuid
from datetime import UTC, datetime

import psycopg2
import pytest
from django.db import connection
from django.urls import reverse

import catalog.tasks  # noqa: F401 - registers the schema scan handler with the job runner
from catalog.choices import AssetKind, SourceKind
from catalog.models import Dataset, DataSource
from catalog.scanning import scan_source
from core.choices import JobKind, JobState
from core.models import JobRun
from core.tasks import run_job
from monitoring.choices import FreshnessMethod
from monitoring.freshness import run_probe
from monitoring.models import FreshnessPolicy
from tests import factories


@pytest.fixture
def mallory(db):
    return factories.user("mallory")


@pytest.fixture
def warehouse(owner, team):
    """Olivia's warehouse: its host allowed by staff, its password bound by staff to it and to that host."""
    source = factories.source(
        "Warehouse", SourceKind.POSTGRESQL, {"host": "warehouse.internal", "port": 5432, "database": "dw"}, owner=owner
    )
    factories.allowed_host("warehouse.internal", 5432)
    factories.bound_secret("PORTAL_SECRET_WAREHOUSE", source)
    return source


def _own_database():
    settings_dict = connection.settings_dict
    return {
        "host": settings_dict["HOST"] or "127.0.0.1",
        "port": int(settings_dict["PORT"] or 5432),
        "database": settings_dict["NAME"],
        "user": settings_dict["USER"],
    }


@pytest.fixture
def listener():
    """A TCP port on 127.0.0.1 that counts who connects to it (and never answers): mallory's server."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    accepted, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1], accepted
    stop.set()
    for peer in accepted:
        peer.close()
    server.close()


# --- (b) a dataset goes only into a source you may edit ---------------------------------------------------------
@pytest.mark.django_db
def test_a_reader_cannot_register_a_dataset_in_someone_elses_source_through_the_api(mallory, warehouse):
    response = factories.api_client(mallory).post(
        "/api/v1/datasets/",
        {"name": "Sessions", "source": warehouse.asset.slug, "qualified_name": "public.django_session"},
        format="json",
    )
    assert response.status_code == 400
    assert "only to sources you may edit" in str(response.json()["errors"]["source"])
    assert not Dataset.objects.filter(source=warehouse).exists()


@pytest.mark.django_db
def test_a_reader_cannot_move_her_dataset_into_someone_elses_source(mallory, warehouse):
    hers = factories.dataset("Mine", owner=mallory)
    response = factories.api_client(mallory).patch(
        f"/api/v1/datasets/{hers.asset.slug}/", {"source": warehouse.asset.slug}, format="json"
    )
    assert response.status_code == 400
    hers.refresh_from_db()
    assert hers.source_id != warehouse.pk


@pytest.mark.django_db
def test_the_page_form_does_not_offer_or_accept_someone_elses_source(client_for, mallory, warehouse):
    client = client_for(mallory)
    url = reverse("catalog:asset_create", kwargs={"kind": AssetKind.DATASET})
    assert warehouse.asset.name not in client.get(url).content.decode()
    response = client.post(
        url,
        {"name": "Sessions", "lifecycle": "active", "detail-source": warehouse.pk,
         "detail-qualified_name": "public.django_session", "detail-format": "table",
         "detail-classification": "internal"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "only to sources you may edit" in response.content.decode()
    assert not Dataset.objects.filter(source=warehouse).exists()


@pytest.mark.django_db
def test_the_owner_still_adds_datasets_to_her_source(owner, warehouse):
    response = factories.api_client(owner).post(
        "/api/v1/datasets/",
        {"name": "Orders", "source": warehouse.asset.slug, "qualified_name": "sales.orders"},
        format="json",
    )
    assert response.status_code == 201, response.json()


# --- (c) where a source may point ----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_reader_cannot_point_a_source_at_the_portals_own_database(mallory):
    own = _own_database()
    factories.allowed_host(own["host"], own["port"])  # even on an allowed host: the portal's database is not
    response = factories.api_client(mallory).post(
        "/api/v1/sources/", {"name": "Mine", "source_kind": "postgresql", "connection": own}, format="json"
    )
    assert response.status_code == 400
    assert "portal's own database" in str(response.json()["errors"]["connection"])
    # Another name for the same server (localhost for 127.0.0.1) does not get round it.
    response = factories.api_client(mallory).post(
        "/api/v1/sources/",
        {"name": "Mine", "source_kind": "postgresql", "connection": {**own, "host": "localhost"}},
        format="json",
    )
    assert response.status_code == 400
    assert not DataSource.objects.filter(asset__owner=mallory).exists()


@pytest.mark.django_db
def test_a_reader_cannot_point_a_source_at_a_host_staff_did_not_allow(mallory):
    response = factories.api_client(mallory).post(
        "/api/v1/sources/",
        {"name": "Mine", "source_kind": "mysql", "connection": {"host": "evil.example", "port": 3306}},
        format="json",
    )
    assert response.status_code == 400
    assert "not on the portal's list of allowed source hosts" in str(response.json()["errors"]["connection"])


@pytest.mark.django_db
def test_a_source_written_around_the_forms_is_refused_again_by_the_scan_and_the_probe(mallory):
    """Saved before the rules (or straight into the database): the scan and the probe check before connecting."""
    source = factories.source("Mine", SourceKind.POSTGRESQL, _own_database(), owner=mallory)
    sessions = factories.dataset("Sessions", source_=source, qualified_name="public.django_session", owner=mallory)
    run = JobRun.objects.create(kind=JobKind.SCHEMA_SCAN, asset=source.asset, requested_by=mallory)
    run_job(run.pk)
    run.refresh_from_db()
    assert run.state == JobState.FAILED
    assert run.error.startswith("Not scanned: ")
    policy = factories.freshness_policy(sessions, method=FreshnessMethod.SQL, timestamp_column="expire_date")
    run_probe(policy)
    policy.refresh_from_db()
    assert policy.last_seen_at is None
    assert policy.probe_error.startswith("Not probed: ")


# --- (a) freshness conditions -------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_reader_cannot_put_a_subquery_condition_on_a_source_she_does_not_own(mallory, warehouse):
    """A dataset of hers in olivia's source (from before the rule): she may edit the dataset, not write SQL for the
    source."""
    hers = factories.dataset("Mine", source_=warehouse, qualified_name="public.django_session", owner=mallory)
    api = factories.api_client(mallory)
    payload = {
        "asset": str(hers.asset.uuid), "method": "sql", "period": "1 00:00:00", "timestamp_column": "expire_date",
        "sql_filter": "(SELECT count(*) FROM auth_user WHERE is_superuser AND password LIKE 'p%') > 0",
    }  # fmt: skip
    response = api.post("/api/v1/freshness-policies/", payload, format="json")
    assert response.status_code == 400
    assert "Only the source's owner" in str(response.json()["errors"]["sql_filter"])
    # Nor through the structured fields: the column is one name, the comparison one of six.
    payload.pop("sql_filter")
    for bad in ({"filter_column": "id = 1 OR (SELECT 1) = 1", "filter_operator": "=", "filter_value": "1"},
                {"filter_column": "id", "filter_operator": "= 1 OR 1", "filter_value": "1"}):  # fmt: skip
        response = api.post("/api/v1/freshness-policies/", {**payload, **bad}, format="json")
        assert response.status_code == 400
    assert not FreshnessPolicy.objects.filter(asset=hers.asset).exists()


@pytest.mark.django_db
def test_a_free_text_condition_not_written_by_the_sources_owner_is_never_run(mallory, owner, data_root):
    """A legacy condition someone else wrote (or that the migration kept) does not reach the source."""
    import sqlite3

    database = sqlite3.connect(data_root / "shop.sqlite3")
    database.execute("CREATE TABLE orders (id INTEGER, updated_at TIMESTAMP)")
    database.execute("INSERT INTO orders VALUES (1, '2026-03-01 10:00:00')")
    database.commit()
    database.close()
    source = factories.source("Shop", SourceKind.SQLITE, {"path": "shop.sqlite3"}, owner=owner)
    orders = factories.dataset("Orders", source_=source, qualified_name="orders", owner=mallory)
    policy = factories.freshness_policy(
        orders, method=FreshnessMethod.SQL, timestamp_column="updated_at",
        sql_filter="(SELECT count(*) FROM orders WHERE id = 1) = 1", sql_filter_author=mallory,
    )  # fmt: skip
    run_probe(policy)
    policy.refresh_from_db()
    assert policy.last_seen_at is None
    assert "free-text SQL condition was not written by the source's owner" in policy.probe_error
    # The same condition written by the source's owner runs.
    policy.sql_filter_author = owner
    run_probe(policy)
    policy.refresh_from_db()
    assert policy.last_seen_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def data_root(settings, tmp_path):
    settings.DATA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def warehouse_database(db):
    """A real PostgreSQL database next to the portal's (not the portal's own): olivia's warehouse."""
    settings_dict = connection.settings_dict
    name = f"{settings_dict['NAME']}_wh_{uuid.uuid4().hex[:6]}"
    info = {**_own_database(), "database": name}
    admin = psycopg2.connect(**{**_connect_args(info), "dbname": settings_dict["NAME"]})
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    raw = psycopg2.connect(**_connect_args(info))
    raw.autocommit = True
    cursor = raw.cursor()
    cursor.execute("CREATE SCHEMA sales")
    cursor.execute("CREATE TABLE sales.orders (id int, status text, secret text, updated_at timestamptz)")
    cursor.execute(
        "INSERT INTO sales.orders VALUES (1, 'shipped', 'TOPSECRET-1', '2026-03-01 10:00+00'),"
        " (2, 'placed', 'TOPSECRET-2', '2026-03-02 09:30+00')"
    )
    yield info
    raw.close()
    admin.cursor().execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


def _connect_args(info):
    return {"host": info["host"], "port": info["port"], "dbname": info["database"], "user": info["user"]}


@pytest.mark.django_db(transaction=True)
def test_the_owners_postgresql_source_is_scanned_and_probed_with_a_structured_condition(
    owner, warehouse_database, monkeypatch
):
    monkeypatch.setenv("PORTAL_SECRET_SHOPDB", "not-needed-locally")
    factories.allowed_host(warehouse_database["host"], warehouse_database["port"])
    api = factories.api_client(owner)
    response = api.post(
        "/api/v1/sources/",
        {"name": "Shop DB", "source_kind": "postgresql", "connection": warehouse_database},
        format="json",
    )
    assert response.status_code == 201, response.json()
    source = DataSource.objects.get(asset__slug=response.json()["slug"])
    factories.bound_secret("PORTAL_SECRET_SHOPDB", source)  # staff, in the admin; this also names it on the source
    source.refresh_from_db()
    assert source.secret_env_var == "PORTAL_SECRET_SHOPDB"
    scan_source(source, actor=owner)
    orders = Dataset.objects.get(source=source, qualified_name="sales.orders")
    assert [column.name for column in orders.columns.order_by("position")] == ["id", "status", "secret", "updated_at"]

    response = api.post(
        "/api/v1/freshness-policies/",
        {"asset": str(orders.asset.uuid), "method": "sql", "period": "1 00:00:00", "timestamp_column": "updated_at",
         "filter_column": "status", "filter_operator": "=", "filter_value": "shipped"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    policy = FreshnessPolicy.objects.get(asset=orders.asset)
    run_probe(policy)
    policy.refresh_from_db()
    assert policy.probe_error == ""
    assert policy.last_seen_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    # The value is a parameter: quotes in it are data, not SQL.
    policy.filter_value = "shipped' OR '1'='1"
    run_probe(policy)
    policy.refresh_from_db()
    assert policy.probe_error == "sales.orders.updated_at has no values matching the condition."


@pytest.mark.django_db(transaction=True)
def test_a_failing_probe_never_shows_the_data_its_query_read(owner, warehouse_database):
    """(d) CAST of a text column to int makes PostgreSQL print the value; the probe keeps a plain reason."""
    source = factories.source("Shop DB", SourceKind.POSTGRESQL, warehouse_database, owner=owner)
    factories.allowed_host(warehouse_database["host"], warehouse_database["port"])
    orders = factories.dataset("Orders", source_=source, qualified_name="sales.orders", owner=owner)
    policy = factories.freshness_policy(
        orders, method=FreshnessMethod.SQL, timestamp_column="updated_at",
        sql_filter="CAST((SELECT string_agg(secret, ',') FROM sales.orders) AS int) = 1", sql_filter_author=owner,
    )  # fmt: skip
    run_probe(policy)
    policy.refresh_from_db()
    assert policy.probe_error
    assert "TOPSECRET" not in policy.probe_error
    assert "TOPSECRET" not in policy.checks.first().error
    assert "a value could not be compared or converted" in policy.probe_error


# --- 2. secrets are bound by staff --------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_reader_cannot_name_the_warehouse_secret_on_her_own_source(mallory, warehouse):
    factories.allowed_host("mallory.example", 5432)
    response = factories.api_client(mallory).post(
        "/api/v1/sources/",
        {"name": "Mine", "source_kind": "postgresql", "connection": {"host": "mallory.example", "port": 5432},
         "secret_env_var": "PORTAL_SECRET_WAREHOUSE"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert "not bound to this source" in str(response.json()["errors"]["secret_env_var"])


@pytest.mark.django_db
def test_the_scan_and_the_probe_never_send_the_warehouse_secret_to_her_host(
    settings, monkeypatch, mallory, warehouse, listener
):
    """Her source names the warehouse secret (written around the API) and points at her server on an allowed host:
    nothing connects to it."""
    settings.CATALOG_SCAN_TIMEOUT = 1
    monkeypatch.setenv("PORTAL_SECRET_WAREHOUSE", "warehouse-password")
    port, accepted = listener
    factories.allowed_host("127.0.0.1", port)
    hers = factories.source("Mine", SourceKind.POSTGRESQL, {"host": "127.0.0.1", "port": port}, owner=mallory)
    DataSource.objects.filter(pk=hers.pk).update(secret_env_var="PORTAL_SECRET_WAREHOUSE")
    run = JobRun.objects.create(kind=JobKind.SCHEMA_SCAN, asset=hers.asset, requested_by=mallory)
    run_job(run.pk)
    run.refresh_from_db()
    assert run.state == JobState.FAILED
    assert "PORTAL_SECRET_WAREHOUSE is not bound to this source" in run.error
    table = factories.dataset("Table", source_=DataSource.objects.get(pk=hers.pk), qualified_name="t", owner=mallory)
    policy = factories.freshness_policy(table, method=FreshnessMethod.SQL, timestamp_column="ts", timeout_seconds=2)
    run_probe(policy)
    policy.refresh_from_db()
    assert "PORTAL_SECRET_WAREHOUSE is not bound to this source" in policy.probe_error
    assert accepted == []
    # Nor may the warehouse's own binding follow the warehouse if it is pointed elsewhere.
    DataSource.objects.filter(pk=warehouse.pk).update(connection={"host": "127.0.0.1", "port": port})
    run = JobRun.objects.create(kind=JobKind.SCHEMA_SCAN, asset=warehouse.asset, requested_by=mallory)
    run_job(run.pk)
    run.refresh_from_db()
    assert run.state == JobState.FAILED
    assert accepted == []


# --- the migration of existing conditions ------------------------------------------------------------------------
@pytest.mark.django_db
def test_existing_conditions_are_structured_where_simple_kept_readable_otherwise_and_the_migration_reverses(
    owner, mallory
):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("monitoring.migrations.0006_structured_freshness_conditions")
    written = {
        "status = 'shipped'": ("status", "=", "shipped"),
        'amount <> 10': ("amount", "!=", "10"),
        "name = 'O''Brien'": ("name", "=", "O'Brien"),
        "status IN ('a', 'b')": None,
    }  # fmt: skip
    policies = {}
    for text in written:
        dataset = factories.dataset(owner=owner)
        policies[text] = factories.freshness_policy(
            dataset, method=FreshnessMethod.SQL, timestamp_column="ts", sql_filter=text, created_by=mallory
        )
    migration.structure_simple_conditions(apps, None)
    for text, expected in written.items():
        policy = FreshnessPolicy.objects.get(pk=policies[text].pk)
        if expected:
            assert (policy.filter_column, policy.filter_operator, policy.filter_value, policy.sql_filter) == (
                *expected,
                "",
            )
        else:  # kept as written, credited to its creator: it runs only while she may edit the source
            assert policy.sql_filter == text and policy.sql_filter_author == mallory
            assert not policy.may_run_sql_filter()
    migration.write_conditions_as_text(apps, None)
    assert FreshnessPolicy.objects.get(pk=policies["name = 'O''Brien'"].pk).sql_filter == "name = 'O''Brien'"
    assert FreshnessPolicy.objects.get(pk=policies["amount <> 10"].pk).sql_filter == "amount != '10'"


@pytest.mark.django_db
def test_staff_manage_the_allow_list_and_the_bindings_in_the_admin(client_for, staff, mallory, warehouse):
    client = client_for(staff)
    assert client.get("/admin/catalog/sourcehost/").status_code == 200
    response = client.post("/admin/catalog/sourcehost/add/", {"host": "Reports.Internal", "port": "5432", "note": ""})
    assert response.status_code == 302
    reports = factories.source("Reports", SourceKind.POSTGRESQL, {"host": "reports.internal"}, owner=mallory)
    response = client.post(
        "/admin/catalog/secretbinding/add/",
        {"variable": "PORTAL_SECRET_REPORTS", "source": reports.pk, "host": "reports.internal", "note": "ticket 42"},
    )
    assert response.status_code == 302
    reports.refresh_from_db()
    assert reports.secret_env_var == "PORTAL_SECRET_REPORTS"
    reports.full_clean()  # now a valid source: allowed host, bound secret
    # A reader cannot reach the admin at all.
    assert client_for(mallory).get("/admin/catalog/secretbinding/").status_code == 302
