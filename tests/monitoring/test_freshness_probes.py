"""Each freshness method against a real source, including a source that refuses and one that hangs."""

import os
import sqlite3
import time
import uuid
from datetime import UTC, datetime

import pymysql
import pytest
from django.db import connection

from catalog.choices import SourceKind
from monitoring.choices import FreshnessMethod, FreshnessStatus
from monitoring.freshness import run_probe, run_probes
from monitoring.models import FreshnessCheck
from tests import factories
from tests.helpers import wait_until
from tests.monitoring.conftest import policy_for


def _sql_dataset(owner, source_kind, connection_info, table="orders", columns=(("updated_at", "timestamp"),)):
    source = factories.source("Store", source_kind=source_kind, connection=connection_info, owner=owner)
    if source.is_networked:
        # Staff allowed the host; the probes' own tests use the portal's test database, which staff must say too.
        factories.allowed_host(*source.address(), portal_database=True)
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
    # With a condition, only matching rows count.
    policy.filter_column, policy.filter_operator, policy.filter_value = "status", "=", "shipped"
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
        policy.sql_filter_author = owner  # the source's owner wrote it: it runs, read-only
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


# The MariaDB that CI starts next to PostgreSQL; a test that cannot reach it fails instead of skipping.
MARIADB = {"host": "127.0.0.1", "port": 3306, "database": "test", "user": "root"}


@pytest.fixture
def mariadb():
    """A connection to the local MariaDB with its session in UTC, closed afterwards."""
    database = pymysql.connect(**MARIADB, autocommit=True, connect_timeout=5, init_command="SET time_zone = '+00:00'")
    yield database
    database.close()


@pytest.fixture
def mariadb_orders(mariadb):
    """A uniquely named orders table in MariaDB's ``test`` database, dropped afterwards."""
    table = f"probe_orders_{uuid.uuid4().hex[:12]}"
    with mariadb.cursor() as cursor:
        cursor.execute(f"CREATE TABLE `{table}` (id int, status varchar(20), updated_at timestamp NULL)")
        # Written from a UTC+2 session: the stored instants are 2026-03-01 08:00 and 2026-03-02 09:30 UTC.
        cursor.execute("SET time_zone = '+02:00'")
        cursor.execute(
            f"INSERT INTO `{table}` VALUES (1, 'shipped', '2026-03-01 10:00:00'), (2, 'placed', '2026-03-02 11:30:00')"
        )
        cursor.execute("SET time_zone = '+00:00'")
    yield table
    with mariadb.cursor() as cursor:
        cursor.execute(f"DROP TABLE `{table}`")


def _mysql_count(mariadb, table):
    with mariadb.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM `{table}`")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_mysql_the_newest_timestamp_of_the_table_is_the_last_update(owner, mariadb_orders):
    dataset = _sql_dataset(owner, SourceKind.MYSQL, MARIADB, table=f"test.{mariadb_orders}")
    policy = policy_for(dataset, method=FreshnessMethod.SQL, timestamp_column="updated_at")
    noon = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    # Seen at 09:30 today with a daily period: the next update is due tomorrow.
    assert run_probe(policy, now=noon) == FreshnessStatus.FRESH
    policy.refresh_from_db()
    assert policy.last_seen_at == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert policy.probe_error == ""
    # Only shipped orders count: the last one was yesterday at 08:00, due again today at 08:00 plus an hour of grace.
    policy.filter_column, policy.filter_operator, policy.filter_value = "status", "=", "shipped"
    assert run_probe(policy, now=noon) == FreshnessStatus.STALE
    policy.refresh_from_db()
    assert policy.last_seen_at == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert FreshnessCheck.objects.filter(policy=policy, trigger="probe").count() == 2


@pytest.mark.django_db
def test_mysql_table_is_read_in_a_read_only_transaction(owner, mariadb, mariadb_orders):
    writer = f"{mariadb_orders}_writer"
    with mariadb.cursor() as cursor:
        cursor.execute(
            f"CREATE FUNCTION `{writer}`() RETURNS int MODIFIES SQL DATA "
            f"BEGIN DELETE FROM `{mariadb_orders}`; RETURN 1; END"
        )
    dataset = _sql_dataset(owner, SourceKind.MYSQL, MARIADB, table=mariadb_orders)
    policy = policy_for(
        dataset,
        method=FreshnessMethod.SQL,
        timestamp_column="updated_at",
        sql_filter=f"`{writer}`() = 1",
        sql_filter_author=owner,
    )
    try:
        assert run_probe(policy) == FreshnessStatus.UNKNOWN
        policy.refresh_from_db()
        assert policy.probe_error.startswith("MySQL refused the query:")
        assert "the query tried to write, and probes only read" in policy.probe_error
        assert _mysql_count(mariadb, mariadb_orders) == 2
    finally:
        with mariadb.cursor() as cursor:
            cursor.execute(f"DROP FUNCTION `{writer}`")


@pytest.mark.django_db
def test_a_slow_mysql_filter_is_stopped_on_the_server_too(owner, mariadb, mariadb_orders):
    dataset = _sql_dataset(owner, SourceKind.MYSQL, MARIADB, table=mariadb_orders)
    policy = policy_for(
        dataset,
        method=FreshnessMethod.SQL,
        timestamp_column="updated_at",
        sql_filter="SLEEP(30) = 0",
        sql_filter_author=owner,
        timeout_seconds=1,
    )
    assert run_probe(policy) == FreshnessStatus.UNKNOWN
    policy.refresh_from_db()
    assert policy.probe_error
    # Abandoning the answer is not enough: the source must not keep running the query for the next 60 seconds.
    running = "SELECT count(*) FROM information_schema.processlist WHERE id <> CONNECTION_ID() AND info LIKE %s"

    def stopped():
        with mariadb.cursor() as cursor:
            cursor.execute(running, [f"%{mariadb_orders}%SLEEP(30)%"])
            return not cursor.fetchone()[0]

    wait_until(stopped, timeout=3, interval=0.1, message="the probe's query still runs on MariaDB after it gave up")


@pytest.mark.django_db
def test_a_mysql_server_that_refuses_the_connection_gives_unknown(owner, closed_port):
    dataset = _sql_dataset(owner, SourceKind.MYSQL, {**MARIADB, "port": closed_port})
    policy = policy_for(dataset, method=FreshnessMethod.SQL, timestamp_column="updated_at", timeout_seconds=3)
    assert run_probe(policy) == FreshnessStatus.UNKNOWN
    policy.refresh_from_db()
    assert policy.probe_error == (
        f"Could not connect to MySQL at 127.0.0.1:{closed_port}: the server could not be reached (error 2003)."
    )


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


@pytest.mark.django_db
def test_a_batch_of_probes_records_each_answer_and_a_hanging_source_only_its_own(owner, data_root, hanging_server):
    (data_root / "orders.csv").write_text("id\n1\n")
    hanging = [
        policy_for(factories.dataset(f"Slow API {n}", owner=owner), method=FreshnessMethod.HTTP, url=hanging_server,
                   timeout_seconds=1)
        for n in range(2)
    ]  # fmt: skip
    orders = policy_for(factories.dataset("Orders file", owner=owner), method=FreshnessMethod.FILE,
                        file_path="orders.csv")  # fmt: skip

    statuses = run_probes([*hanging, orders])

    assert statuses == [FreshnessStatus.UNKNOWN, FreshnessStatus.UNKNOWN, FreshnessStatus.FRESH]
    checks = {check.policy_id: check for check in FreshnessCheck.objects.all()}
    assert all("timed out" in checks[policy.pk].error for policy in hanging)
    assert checks[orders.pk].error == "" and checks[orders.pk].observed_at is not None
    # Each probe ran from the start of the batch: the second hanging source was not waited for after the first.
    assert all(checks[policy.pk].duration_ms < 2000 for policy in hanging)
    for policy in [*hanging, orders]:
        policy.refresh_from_db()
        assert policy.last_checked_at == checks[policy.pk].checked_at and policy.next_check_at is not None
