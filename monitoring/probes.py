"""Asking a source when its data last changed: newest timestamp in a table, a file's mtime, an HTTP answer.

Each probe returns an aware datetime or raises ``ProbeFailed`` with a sentence for the owner. ``probe_all`` runs
each in a daemon thread with a hard deadline on top of each driver's own timeout, so a source that hangs (a TCP peer
that never answers, a lock that never clears) costs the sweep ``timeout_seconds`` and no more.
"""

import email.utils
import queue
import sqlite3
import threading
import time
from datetime import UTC, datetime

import requests

from catalog.choices import SourceKind
from catalog.models import source_secret
from core import files
from monitoring import reasons
from monitoring.choices import FreshnessMethod


class ProbeFailed(Exception):
    """The source could not tell us; the status becomes unknown and the message is shown."""


def probe_all(policies):
    """``[(observed_at, error, duration_ms, reason)]`` for policies whose assets and datasets are already loaded:
    every probe starts at once in its own thread and each answer is awaited until that policy's own deadline, so a
    source that hangs costs its timeout, not the sum of them. ``error`` is the technical detail (for the asset's
    owners, its team and staff), ``reason`` the plain words everyone may read (``monitoring.reasons``)."""
    started = time.monotonic()
    waiting = [(policy, _start(policy)) for policy in policies]
    results = []
    for policy, answers in waiting:
        try:
            observed_at, error, reason, finished = answers.get(
                timeout=max(0, started + policy.timeout_seconds - time.monotonic())
            )
        except queue.Empty:
            observed_at, error = None, f"No answer within {policy.timeout_seconds} seconds (timed out)."
            reason, finished = reasons.timed_out(policy), started + policy.timeout_seconds
        results.append((observed_at, error, round((finished - started) * 1000), reason))
    return results


def _start(policy):
    """Run the policy's probe in a daemon thread; the queue receives ``(observed_at, error, reason, finished)``."""
    target = _target(policy)
    answers = queue.Queue(maxsize=1)

    def work():
        try:
            observed_at, error, reason = target(), "", ""
        except ProbeFailed as exc:
            observed_at, error, reason = None, str(exc), reasons.plain_reason(exc, policy)
        except Exception as exc:  # a probe must never take the sweep down; the owner sees the reason instead
            observed_at, error = None, f"{type(exc).__name__}: {exc}"
            reason = reasons.plain_reason(exc, policy)
        answers.put((observed_at, reasons.mask_text(error, policy.url), reason, time.monotonic()))

    threading.Thread(target=work, daemon=True, name=f"probe-{policy.pk}").start()
    return answers


def _target(policy):
    """A no-argument callable doing the probe, with everything it needs read from the database beforehand."""
    timeout = policy.timeout_seconds
    if policy.method == FreshnessMethod.FILE:
        relative = policy.file_path or policy.asset.dataset.qualified_name
        return lambda: file_mtime(relative)
    if policy.method == FreshnessMethod.HTTP:
        return lambda: http_timestamp(policy.url, policy.json_field, timeout)
    if policy.method == FreshnessMethod.SQL:
        dataset = policy.asset.dataset
        source = dataset.source
        spec = (source.source_kind, dict(source.connection), source.secret_env_var, dataset.qualified_name)
        return lambda: sql_max_timestamp(*spec, policy.timestamp_column, policy.sql_filter, timeout)
    raise ProbeFailed("Heartbeat policies are not probed: the pipeline pings them.")


def inside_data_root(relative):
    try:
        return files.inside_data_root(relative)
    except files.OutsideDataRoot as exc:
        raise ProbeFailed(str(exc)) from None


def file_mtime(relative):
    path = inside_data_root(relative)
    if not path.exists():
        raise ProbeFailed(f"There is no file at '{relative}' under DATA_ROOT.")
    if path.is_dir():
        # A partitioned dataset (one file per day): its freshness is that of its newest file.
        stamps = [entry.stat().st_mtime for entry in path.rglob("*") if entry.is_file()]
        if not stamps:
            raise ProbeFailed(f"The folder '{relative}' is empty.")
        return datetime.fromtimestamp(max(stamps), tz=UTC)
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


def http_timestamp(url, json_field, timeout):
    try:
        response = requests.get(url, timeout=(timeout, timeout), headers={"Accept": "application/json, */*"})
    except requests.Timeout:
        raise ProbeFailed(f"{url} did not answer within {timeout} seconds (timed out).") from None
    except requests.ConnectionError as exc:
        raise ProbeFailed(f"Could not connect to {url}: {_first_line(exc)}") from None
    if response.status_code >= 400:
        raise ProbeFailed(f"{url} answered HTTP {response.status_code}.")
    if not json_field:
        header = response.headers.get("Last-Modified")
        if not header:
            raise ProbeFailed(f"{url} sends no Last-Modified header; name a JSON field instead.")
        try:
            return email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            raise ProbeFailed(f"{url} sent an unreadable Last-Modified header.") from None
    try:
        value = response.json()
    except ValueError:
        raise ProbeFailed(f"{url} did not answer JSON.") from None
    for part in json_field.split("."):
        if not isinstance(value, dict) or part not in value:
            raise ProbeFailed(f"The JSON answer of {url} has no field '{json_field}'.")
        value = value[part]
    return parse_timestamp(value, f"field '{json_field}'")


def parse_timestamp(value, what):
    """A timestamp as databases and APIs give it: datetime, ISO text or Unix seconds. Naive means UTC."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ProbeFailed(f"The {what} holds text that is not a timestamp.") from None
    if not isinstance(value, datetime):
        # The value itself is not repeated: a probe's error is shown to every reader of the freshness page.
        raise ProbeFailed(f"The {what} holds a {type(value).__name__} value, not a timestamp.")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _quote(qualified_name, quote='"'):
    return ".".join(f"{quote}{part.replace(quote, '')}{quote}" for part in qualified_name.split("."))


def sql_max_timestamp(source_kind, connection, secret_env_var, table, column, condition, timeout):
    quote = "`" if source_kind == SourceKind.MYSQL else '"'
    # Column and table are checked identifiers, quoted; the condition is the owner's, run on a read-only session.
    sql = f"SELECT MAX({_quote(column, quote)}) FROM {_quote(table, quote)}"
    if condition:
        sql += f" WHERE {condition}"
    password = source_secret(secret_env_var) or ""
    if source_kind == SourceKind.SQLITE:
        value = _sqlite_value(connection, table, sql, timeout)
    elif source_kind == SourceKind.POSTGRESQL:
        value = _postgresql_value(connection, password, sql, timeout)
    elif source_kind == SourceKind.MYSQL:
        value = _mysql_value(connection, password, sql, timeout)
    else:
        raise ProbeFailed(f"Unsupported: the SQL method cannot read a {source_kind} source.")
    if value is None:
        raise ProbeFailed(f"{table}.{column} has no values{' matching the filter' if condition else ''}.")
    return parse_timestamp(value, f"column {column}")


def _sqlite_value(connection, table, sql, timeout):
    path = inside_data_root(connection.get("path", ""))
    if not path.is_file():
        raise ProbeFailed(f"There is no SQLite database at '{connection.get('path', '')}' under DATA_ROOT.")
    database = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout)
    deadline = time.monotonic() + timeout
    # A non-zero return aborts the statement: the query itself cannot outlive the timeout either.
    database.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        return database.execute(sql).fetchone()[0]
    except sqlite3.Error as exc:
        raise ProbeFailed(f"SQLite refused the query on {table}: {exc}.") from None
    finally:
        database.close()


def _first_value(connect, driver_error, engine, sql, session=lambda database: (), describe=None):
    """Connect, run ``sql`` and return the first column of its row; driver errors become readable failures.

    ``session(database)`` gives the statements that make the session safe (read-only, time-limited) where the driver
    cannot set them at connect time; ``describe`` turns a driver error into its message."""
    describe = describe or _first_line
    try:
        database = connect()
    except driver_error as exc:
        raise ProbeFailed(f"Could not connect to {engine}: {describe(exc)}") from None
    try:
        with database.cursor() as cursor:
            for statement in session(database):
                cursor.execute(statement)
            cursor.execute(sql)
            return cursor.fetchone()[0]
    except driver_error as exc:
        raise ProbeFailed(f"{engine} refused the query: {describe(exc)}") from None
    finally:
        database.close()


def _postgresql_value(connection, password, sql, timeout):
    import psycopg2

    def connect():
        return psycopg2.connect(
            host=connection.get("host", "localhost"),
            port=connection.get("port", 5432),
            dbname=connection.get("database", ""),
            user=connection.get("user", ""),
            password=password,
            connect_timeout=timeout,
            options=f"-c statement_timeout={timeout * 1000} -c default_transaction_read_only=on",
        )

    return _first_value(connect, psycopg2.Error, "PostgreSQL", sql)


def _mysql_value(connection, password, sql, timeout):
    import pymysql

    def connect():
        return pymysql.connect(
            host=connection.get("host", "localhost"),
            port=int(connection.get("port", 3306)),
            database=connection.get("database", ""),
            user=connection.get("user", ""),
            password=password,
            connect_timeout=timeout,
            read_timeout=timeout,
            write_timeout=timeout,
        )

    def session(database):
        # Giving up on the client side leaves the query running on the server: the server must stop it too. MariaDB
        # and MySQL name that limit differently (seconds vs milliseconds), and the handshake says which one answered.
        if "MariaDB" in database.get_server_info():
            limit = f"SET SESSION max_statement_time = {timeout}"
        else:
            limit = f"SET SESSION max_execution_time = {timeout * 1000}"
        # TIMESTAMP columns come back in the session's time zone; UTC makes the naive value mean what parsing assumes.
        return ("SET SESSION TRANSACTION READ ONLY", limit, "SET SESSION time_zone = '+00:00'")

    return _first_value(connect, pymysql.MySQLError, "MySQL", sql, session, describe=_mysql_message)


def _mysql_message(exc):
    """PyMySQL errors carry ``(code, message)``; the owner needs the message, not the tuple."""
    if len(exc.args) == 2 and isinstance(exc.args[0], int):
        return _first_line(Exception(f"{exc.args[1]} (error {exc.args[0]})"))
    return _first_line(exc)


def _first_line(exc):
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
