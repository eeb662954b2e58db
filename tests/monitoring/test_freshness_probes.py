"""Each freshness method against a real source, including a source that refuses and one that hangs."""

import os
import sqlite3
import time
from datetime import UTC, datetime

import pytest
from django.db import connection

from catalog.choices import SourceKind
from monitoring.choices import FreshnessMethod, FreshnessStatus
from monitoring.freshness import run_probe
from monitoring.models import FreshnessCheck
from tests import factories
from tests.monitoring.conftest import policy_for


def _sql_dataset(owner, source_kind, connection_info, table="orders", columns=(("updated_at", "timestamp"),)):
    source = factories.source("Store", source_kind=source_kind, connection=connection_info, owner=owner)
    return factories.dataset("Store orders", source_=source, qualified_name=table, columns=columns, owner=owner)


@pytest.fixture
def data_root(settings, tmp_path):
    settings.DATA_ROOT = tmp_path
    return tmp_path


@pytest.mark.django_db
def test_sqlite_the_newest_timestamp_of_the_table_is_the_last_update(owner, data_root):
    database = sqlite3.connect(data_root / "store.sqlite3")
    with database:
        database.execute("CREATE TABLE orders (id INTEGER, updated_at TIMESTAMP, status TEXT)")
        database.executemany(
            "INSERT INTO orders VALUES (?, ?, ?)",
            [(1, "2026-03-01 10:00:00", "shipped"), (2, "2026-03-02 09:30:00", "placed")],
        )
    database.close()
    dataset = _sql_dataset(owner, SourceKind.SQLITE, {"path": "store.sqlite3"})
    policy = policy_for(dataset, method=FreshnessMethod.SQL, timestamp_column="updated_at")
    run_probe(policy)
    policy.refresh_from_db()
    assert policy.last_seen_at == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert policy.probe_error == ""
    # With a filter, only matching rows count.
    policy.sql_filter = "status = 'shipped'"
    run_probe(policy)
    policy.refresh_from_db()
    assert policy.last_seen_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert FreshnessCheck.objects.filter(policy=policy, trigger="probe").count() == 2


@pytest.mark.django_db
def test_a_missing_sqlite_table_gives_unknown_with_the_reason(owner, data_root):
    sqlite3.connect(data_root / "store.sqlite3").close()
    dataset = _sql_dataset(owner, SourceKind.SQLITE, {"path": "store.sqlite3"})
    policy = policy_for(dataset, method=FreshnessMethod.SQL, timestamp_column="updated_at")
    assert run_probe(policy) == FreshnessStatus.UNKNOWN
    policy.refresh_from_db()
    assert "no such table" in policy.probe_error


@pytest.mark.django_db(transaction=True)
def test_postgresql_table_is_read_on_a_read_only_connection(owner):
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE probe_orders (id int, updated_at timestamptz)")
        cursor.execute("INSERT INTO probe_orders VALUES (1, '2026-03-02 09:30+00'), (2, '2026-02-01 00:00+00')")
    settings_dict = connection.settings_dict
    info = {"host": settings_dict["HOST"] or "127.0.0.1", "port": settings_dict["PORT"] or 5432,
            "database": settings_dict["NAME"], "user": settings_dict["USER"]}  # fmt: skip
    dataset = _sql_dataset(owner, SourceKind.POSTGRESQL, info, table="public.probe_orders")
    policy = policy_for(dataset, method=FreshnessMethod.SQL, timestamp_column="updated_at")
    try:
        assert run_probe(policy) in (FreshnessStatus.STALE, FreshnessStatus.FRESH, FreshnessStatus.LATE)
        policy.refresh_from_db()
        assert policy.last_seen_at == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
        # The owner's filter runs in a read-only transaction: it cannot change the source.
        policy.sql_filter = "id = 1 AND (SELECT count(*) FROM (DELETE FROM probe_orders RETURNING 1) d) >= 0"
        run_probe(policy)
        policy.refresh_from_db()
        assert policy.probe_error
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM probe_orders")
            assert cursor.fetchone()[0] == 2
            cursor.execute("DROP TABLE probe_orders")


@pytest.mark.django_db
def test_a_database_that_refuses_the_connection_gives_unknown(owner, closed_port):
    dataset = _sql_dataset(owner, SourceKind.POSTGRESQL, {"host": "127.0.0.1", "port": closed_port, "database": "x"})
    policy = policy_for(dataset, method=FreshnessMethod.SQL, timestamp_column="updated_at", timeout_seconds=3)
    assert run_probe(policy) == FreshnessStatus.UNKNOWN
    policy.refresh_from_db()
    assert policy.probe_error.startswith("Could not connect to PostgreSQL")


@pytest.mark.django_db
def test_mysql_without_a_driver_is_a_clear_unsupported_result(owner):
    dataset = _sql_dataset(owner, SourceKind.MYSQL, {"host": "127.0.0.1", "database": "crm"})
    policy = policy_for(dataset, method=FreshnessMethod.SQL, timestamp_column="updated_at")
    assert run_probe(policy) == FreshnessStatus.UNKNOWN
    policy.refresh_from_db()
    assert "Unsupported here: no MySQL driver" in policy.probe_error


@pytest.mark.django_db
def test_file_modification_time_under_data_root(owner, data_root):
    (data_root / "finance").mkdir()
    path = data_root / "finance" / "revenue.csv"
    path.write_text("month,revenue\n")
    stamp = datetime(2026, 3, 2, 8, 0, tzinfo=UTC).timestamp()
    os.utime(path, (stamp, stamp))
    dataset = factories.dataset("Revenue", qualified_name="finance/revenue.csv", owner=owner)
    policy = policy_for(dataset, method=FreshnessMethod.FILE)
    run_probe(policy)
    policy.refresh_from_db()
    assert policy.last_seen_at == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    path.unlink()
    assert run_probe(policy) == FreshnessStatus.UNKNOWN
    policy.refresh_from_db()
    assert "no file at 'finance/revenue.csv'" in policy.probe_error


@pytest.mark.django_db
def test_a_file_path_cannot_leave_data_root(owner, data_root):
    dataset = factories.dataset("Secrets", qualified_name="../../etc/passwd", owner=owner)
    policy = policy_for(dataset, method=FreshnessMethod.FILE)
    run_probe(policy)
    policy.refresh_from_db()
    assert policy.last_seen_at is None
    assert "outside DATA_ROOT" in policy.probe_error


@pytest.mark.django_db
def test_http_last_modified_header(dataset, http_server):
    def respond(handler):
        handler.send_response(200)
        handler.send_header("Last-Modified", "Mon, 02 Mar 2026 09:30:00 GMT")
        handler.end_headers()

    policy = policy_for(dataset, method=FreshnessMethod.HTTP, url=http_server(respond) + "/export.csv")
    run_probe(policy)
    policy.refresh_from_db()
    assert policy.last_seen_at == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.mark.django_db
def test_http_json_field(dataset, http_server):
    def respond(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()
        handler.wfile.write(b'{"meta": {"updated_at": "2026-03-02T09:30:00Z"}}')

    policy = policy_for(dataset, method=FreshnessMethod.HTTP, url=http_server(respond), json_field="meta.updated_at")
    run_probe(policy)
    policy.refresh_from_db()
    assert policy.last_seen_at == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    policy.json_field = "meta.missing"
    run_probe(policy)
    policy.refresh_from_db()
    assert "has no field 'meta.missing'" in policy.probe_error


@pytest.mark.django_db
def test_http_refused_connection_gives_unknown(dataset, closed_port):
    policy = policy_for(dataset, method=FreshnessMethod.HTTP, url=f"http://127.0.0.1:{closed_port}/status")
    assert run_probe(policy) == FreshnessStatus.UNKNOWN
    policy.refresh_from_db()
    assert policy.probe_error.startswith("Could not connect to")


@pytest.mark.django_db
def test_a_source_that_hangs_is_abandoned_at_the_timeout(dataset, hanging_server):
    policy = policy_for(dataset, method=FreshnessMethod.HTTP, url=hanging_server, timeout_seconds=1)
    started = time.monotonic()
    assert run_probe(policy) == FreshnessStatus.UNKNOWN
    # Far below the probe interval: the check gave up instead of waiting for the source.
    assert time.monotonic() - started < 10
    policy.refresh_from_db()
    assert "timed out" in policy.probe_error
    check = FreshnessCheck.objects.get(policy=policy)
    assert check.status == FreshnessStatus.UNKNOWN and check.duration_ms >= 900
