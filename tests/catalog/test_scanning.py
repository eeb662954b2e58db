import sqlite3
import time

import pandas as pd
import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

import catalog.tasks  # noqa: F401 - registers the schema scan handler with the job runner
from catalog.choices import SourceKind
from catalog.models import Column, Dataset, SchemaChange
from catalog.scanning import scan_source
from core.choices import JobKind, JobState, NotificationKind
from core.jobs import JobFailed
from core.models import JobRun, Notification
from core.tasks import run_job
from tests import factories
from tests.helpers import wait_until
from trust.choices import NoticeState
from trust.downstream import fan_out
from trust.models import ProblemNotice


@pytest.fixture
def data_root(settings, tmp_path):
    settings.DATA_ROOT = tmp_path
    return tmp_path


def _sqlite(path, script):
    database = sqlite3.connect(path)
    with database:
        database.executescript(script)
    database.close()


@pytest.mark.django_db
def test_a_sqlite_scan_creates_datasets_with_columns_and_row_counts(data_root, owner, team):
    _sqlite(
        data_root / "shop.sqlite3",
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, amount NUMERIC NOT NULL, note TEXT);"
        "INSERT INTO orders VALUES (1, 9.5, NULL), (2, 3, 'gift');",
    )
    source = factories.source("Shop", SourceKind.SQLITE, {"path": "shop.sqlite3"}, owner=owner, team=team)
    summary = scan_source(source, actor=owner)
    dataset = Dataset.objects.get(source=source, qualified_name="orders")
    assert summary == {"tables": 1, "created": [dataset.asset.slug], "changed": []}
    assert dataset.row_count == 2 and dataset.asset.owner == owner and dataset.asset.team == team
    columns = list(dataset.columns.values_list("name", "data_type", "nullable"))
    assert columns == [("id", "integer", False), ("amount", "numeric", False), ("note", "text", True)]
    assert not SchemaChange.objects.exists()


@pytest.mark.django_db
def test_csv_and_parquet_files_are_profiled_with_pandas(data_root, owner):
    (data_root / "finance").mkdir()
    (data_root / "finance" / "revenue.csv").write_text("month,unit,revenue\n2026-01,Retail,10.5\n2026-02,,20\n")
    pd.DataFrame({"customer": [1, 2, 2, None], "score": [0.1, 0.9, 0.5, 0.3]}).to_parquet(
        data_root / "finance" / "scores.parquet"
    )
    source = factories.source("Finance files", SourceKind.FILES, {"path": "finance"}, owner=owner)
    scan_source(source)
    revenue = Dataset.objects.get(qualified_name="finance/revenue.csv")
    assert (revenue.format, revenue.row_count) == ("csv", 2)
    unit = revenue.columns.get(name="unit")
    assert (unit.null_fraction, unit.distinct_count, unit.nullable) == (0.5, 1, True)
    amount = revenue.columns.get(name="revenue")
    assert (amount.data_type, amount.min_value, amount.max_value) == ("float64", "10.5", "20.0")
    customer = Dataset.objects.get(qualified_name="finance/scores.parquet").columns.get(name="customer")
    assert (customer.distinct_count, customer.null_fraction, customer.min_value) == (2, 0.25, "1.0")


@pytest.mark.django_db
def test_a_folder_outside_the_data_root_is_refused(data_root, owner):
    source = factories.source("Sneaky", SourceKind.FILES, {"path": "../../etc"}, owner=owner)
    with pytest.raises(JobFailed, match="outside the data folder"):
        scan_source(source)


@pytest.mark.django_db
def test_kinds_a_scan_cannot_read_fail_with_an_explanation(owner):
    source = factories.source("CRM", SourceKind.MYSQL, {"host": "crm"}, owner=owner)
    with pytest.raises(JobFailed, match="documented by hand or through OpenLineage"):
        scan_source(source)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("connection_settings", "reason"),
    [
        ({"host": "127.0.0.1", "port": 1, "database": "x"}, "Could not connect to PostgreSQL at 127.0.0.1:1"),
        ({"host": "10.255.255.1", "port": 5432, "database": "x"}, "Could not connect to PostgreSQL at 10.255.255.1"),
    ],
)
def test_an_unreachable_or_silent_source_gives_a_failed_scan_not_a_crash(settings, owner, connection_settings, reason):
    settings.CATALOG_SCAN_TIMEOUT = 1
    source = factories.source("Gone", SourceKind.POSTGRESQL, connection_settings, owner=owner)
    factories.allowed_host(*source.address())
    run = JobRun.objects.create(kind=JobKind.SCHEMA_SCAN, asset=source.asset, requested_by=owner)
    started = time.monotonic()
    run_job(run.pk)
    run.refresh_from_db()
    assert run.state == JobState.FAILED
    assert run.error.startswith(reason)
    assert time.monotonic() - started < 10


@pytest.mark.django_db
def test_a_missing_sqlite_file_is_a_failed_scan(data_root, owner):
    source = factories.source("Shop", SourceKind.SQLITE, {"path": "nowhere.sqlite3"}, owner=owner)
    with pytest.raises(JobFailed, match="no SQLite database"):
        scan_source(source)


@pytest.fixture
def scratch_schema(db):
    """A real PostgreSQL table in a schema of its own, committed so the scanner's own connection sees it."""
    settings_dict = connection.settings_dict
    raw = psycopg2.connect(
        host=settings_dict["HOST"] or "127.0.0.1",
        port=settings_dict["PORT"] or 5432,
        dbname=settings_dict["NAME"],
        user=settings_dict["USER"],
    )
    raw.autocommit = True
    cursor = raw.cursor()
    cursor.execute("DROP SCHEMA IF EXISTS scan_test CASCADE; CREATE SCHEMA scan_test")
    cursor.execute("CREATE TABLE scan_test.orders (id bigint NOT NULL, amount integer, legacy text)")
    connection_settings = {
        "host": settings_dict["HOST"] or "127.0.0.1",
        "port": int(settings_dict["PORT"] or 5432),
        "database": settings_dict["NAME"],
        "user": settings_dict["USER"],
        "schemas": ["scan_test"],
    }
    yield cursor, connection_settings
    cursor.execute("DROP SCHEMA IF EXISTS scan_test CASCADE")
    raw.close()


@pytest.mark.django_db(transaction=True)
def test_a_postgresql_table_changed_between_two_scans_is_a_schema_change_that_reaches_downstream_owners(
    scratch_schema, owner, team
):
    cursor, connection_settings = scratch_schema
    source = factories.source("Warehouse", SourceKind.POSTGRESQL, connection_settings, owner=owner, team=team)
    # The scratch schema lives in the portal's own test database: staff must allow that explicitly.
    factories.allowed_host(*source.address(), portal_database=True)
    scan_source(source, actor=owner)
    orders = Dataset.objects.get(source=source, qualified_name="scan_test.orders")
    Column.objects.filter(dataset=orders, name="amount").update(description="Order value in cents.")
    report_owner = factories.user("rita")
    pipeline = factories.pipeline("Sales ETL", owner=factories.user("pete"))
    factories.edge(orders, pipeline)
    factories.edge(pipeline, factories.report("Sales", owner=report_owner))
    bystander = factories.user("bystander")

    cursor.execute(
        "ALTER TABLE scan_test.orders DROP COLUMN legacy, ADD COLUMN currency char(3), "
        "ALTER COLUMN amount TYPE numeric(12,2)"
    )
    summary = scan_source(source, actor=owner)

    change = SchemaChange.objects.get(dataset=orders)
    assert summary["changed"] == [orders.asset.slug]
    assert change.added == [{"name": "currency", "type": "character(3)"}]
    assert change.removed == [{"name": "legacy", "type": "text"}]
    assert change.type_changed == [{"name": "amount", "before": "integer", "after": "numeric(12,2)"}]
    assert orders.columns.get(name="amount").description == "Order value in cents."
    told = set(
        Notification.objects.filter(kind=NotificationKind.SCHEMA_CHANGE).values_list("recipient__username", flat=True)
    )
    assert "olivia" in told and not told & {"rita", "pete", "bystander"}

    # The people downstream hear of it from the worker's fan-out, once each, with the path (here, or by a worker of
    # the suite that took the notice first).
    def told(name):
        for pk in ProblemNotice.objects.filter(state=NoticeState.PENDING).values_list("pk", flat=True):
            fan_out(pk)
        return list(Notification.objects.filter(recipient__username=name))

    for name in ("rita", "pete"):
        [news] = wait_until(lambda name=name: told(name))
        assert news.kind == NotificationKind.UPSTREAM and "removed legacy" in news.title
    assert bystander.notifications.count() == 0
    assert scan_source(source, actor=owner)["changed"] == []


@pytest.mark.django_db
def test_the_management_command_scans_and_reports_failures_plainly(data_root, owner, capsys):
    _sqlite(data_root / "shop.sqlite3", "CREATE TABLE stores (id INTEGER, city TEXT);")
    factories.source("Shop", SourceKind.SQLITE, {"path": "shop.sqlite3"}, owner=owner)
    call_command("scan_schema", "shop")
    assert "Scanned 1 tables or files: 1 new" in capsys.readouterr().out
    factories.source("Lost", SourceKind.SQLITE, {"path": "lost.sqlite3"}, owner=owner)
    with pytest.raises(CommandError, match="The scan failed: There is no SQLite database"):
        call_command("scan_schema", "lost")
    with pytest.raises(CommandError, match="No source"):
        call_command("scan_schema", "nope")


@pytest.mark.django_db
def test_only_editors_may_press_the_scan_button(client_for, owner, outsider, data_root):
    source = factories.source("Shop", SourceKind.SQLITE, {"path": "shop.sqlite3"}, owner=owner)
    assert client_for(outsider).post("/catalog/source/shop/scan/").status_code == 403
    assert not JobRun.objects.exists()
    client_for(owner).post("/catalog/source/shop/scan/")
    run = JobRun.objects.get()
    assert (run.kind, run.asset_id, run.requested_by) == (JobKind.SCHEMA_SCAN, source.pk, owner)


@pytest.mark.django_db(transaction=True)
def test_the_owners_button_runs_a_scan_through_the_real_worker(celery_worker, client_for, owner, data_root):
    _sqlite(data_root / "shop.sqlite3", "CREATE TABLE stores (id INTEGER, city TEXT);")
    factories.source("Shop", SourceKind.SQLITE, {"path": "shop.sqlite3"}, owner=owner)
    client = client_for(owner)
    client.post("/catalog/source/shop/scan/")
    run = wait_until(
        lambda: JobRun.objects.filter(state__in=JobRun.FINISHED).first(), message="the worker did not finish the scan"
    )
    assert run.state == JobState.SUCCEEDED, run.error
    assert run.result["tables"] == 1
    assert Dataset.objects.filter(qualified_name="stores").exists()
    # Scans are listed on the History tab (issue 17).
    assert "1 tables or files; 1 new" in client.get("/catalog/source/shop/history/").content.decode()


@pytest.mark.django_db
def test_the_nightly_sweep_queues_one_scan_per_scannable_source(owner):
    from catalog.tasks import scan_all_sources

    shop = factories.source("Shop", SourceKind.SQLITE, {"path": "shop.sqlite3"}, owner=owner)
    files = factories.source("Files", SourceKind.FILES, {"path": "finance"}, owner=owner)
    factories.source("CRM", SourceKind.MYSQL, owner=owner)
    factories.source("Old", SourceKind.SQLITE, {"path": "old.sqlite3"}, lifecycle="retired")
    scan_all_sources()
    assert set(JobRun.objects.values_list("asset_id", flat=True)) == {shop.pk, files.pk}
    assert set(JobRun.objects.values_list("kind", flat=True)) == {JobKind.SCHEMA_SCAN}
