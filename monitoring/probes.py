"""Asking a source when its data last changed: newest timestamp in a table, a file's mtime, an HTTP answer.

Each probe returns an aware datetime or raises ``ProbeFailed`` with a sentence for the owner. ``probe_all`` runs
each in a daemon thread with a hard deadline on top of each driver's own timeout, so a source that hangs (a TCP peer
that never answers, a lock that never clears) costs the sweep ``timeout_seconds`` and no more.
"""

import email.utils
import json
import queue
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import NamedTuple

import requests

from catalog.choices import SourceKind
from catalog.models import SecretNotBound
from core import files, outbound
from monitoring import reasons
from monitoring.choices import FilterOperator, FreshnessMethod


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
        return _sql_target(policy, timeout)
    raise ProbeFailed("Heartbeat policies are not probed: the pipeline pings them.")


def _sql_target(policy, timeout):
    """The SQL probe, after the checks that must pass before anything is sent anywhere: the source may be reached
    (allow-listed host, not the portal's own database), its secret is bound to it and to that host, and a free-text
    condition was written by someone who may still edit the source. A refusal is the probe's failure."""
    dataset = policy.asset.dataset
    source = dataset.source
    refusal = source.connection_refusal()
    if not refusal and not policy.may_run_sql_filter():
        refusal = (
            "The free-text SQL condition was not written by the source's owner, its team or staff, so it is not run; "
            "replace it with a column, a comparison and a value."
        )
    try:
        password = "" if refusal else source.secret() or ""
    except SecretNotBound as exc:
        refusal = str(exc)
    if refusal:
        return lambda: _refuse(refusal)
    host, port = source.address()
    connection = {**source.connection, "host": host, "port": port}
    condition = None
    if policy.filter_column:
        condition = (policy.filter_column, policy.filter_operator, policy.filter_value)
    elif policy.sql_filter:
        condition = policy.sql_filter
    spec = (source.source_kind, connection, password, dataset.qualified_name, policy.timestamp_column, condition)
    return lambda: sql_max_timestamp(*spec, timeout)


def _refuse(reason):
    raise ProbeFailed(f"Not probed: {reason}")


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
    """The time an HTTP endpoint says its data changed. Fetched through ``core.outbound`` (no internal addresses
    unless staff allow them, redirects checked); an error names the address and the kind of failure, never what the
    server sent (a body, a banner)."""
    try:
        with outbound.session() as http:
            response = http.get(
                url, timeout=(timeout, timeout), headers={"Accept": "application/json, */*"}, stream=True
            )
            with response:
                return _timestamp_of(url, json_field, response)
    except outbound.OutboundRefused as exc:
        raise ProbeFailed(f"{url} was not fetched: {exc}") from None
    except requests.Timeout:
        raise ProbeFailed(f"{url} did not answer within {timeout} seconds (timed out).") from None
    except requests.TooManyRedirects:
        raise ProbeFailed(f"{url} redirected more than {outbound.MAX_REDIRECTS} times.") from None
    except requests.ConnectionError as exc:
        raise ProbeFailed(f"Could not connect to {url}: {_connection_failure(exc)}") from None
    except requests.RequestException:
        raise ProbeFailed(f"The answer of {url} could not be read.") from None


def _connection_failure(exc):
    """What went wrong with a connection, in the portal's words: the exception's text can quote the first line a
    non-HTTP server sent (``BadStatusLine('SSH-2.0-OpenSSH…')``)."""
    chain, item = [], exc
    while item is not None and len(chain) < 10:
        chain.append(item)
        wrapped = item.args[0] if item.args and isinstance(item.args[0], BaseException) else None
        item = item.__cause__ or item.__context__ or wrapped
    names = {type(item).__name__ for item in chain} | {
        type(item.reason).__name__ for item in chain if isinstance(getattr(item, "reason", None), BaseException)
    }
    text = " ".join(str(item) for item in chain).lower()
    # The class names are for the owners' technical detail: they say what failed without quoting the server.
    kinds = ", ".join(dict.fromkeys(type(item).__name__ for item in chain))
    if "NameResolutionError" in names or "gaierror" in names or "name or service not known" in text:
        return f"failed to resolve the name ({kinds})."
    if "ConnectionRefusedError" in names or "connection refused" in text:
        return f"connection refused ({kinds})."
    if "SSLError" in names:
        return f"the TLS handshake failed ({kinds})."
    if {"BadStatusLine", "RemoteDisconnected", "ProtocolError"} & names:
        return f"the server did not answer HTTP ({kinds})."
    return f"the connection failed ({kinds})."


def _timestamp_of(url, json_field, response):
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
        value = json.loads(outbound.read_limited(response))
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
    """A (dotted) identifier quoted for MySQL (backticks) or SQLite (double quotes), quote characters doubled."""
    return ".".join(f"{quote}{part.replace(quote, quote * 2)}{quote}" for part in qualified_name.split("."))


def _sql_parts(source_kind, table, column, condition):
    """``(query, parameters)``: the query from quoted identifiers and a comparison from a fixed list, the compared
    value a parameter. ``condition`` is ``(column, operator, value)``, a legacy free-text condition (already
    checked to be its source owner's) or None."""
    if isinstance(condition, tuple) and condition[1] not in FilterOperator.values:
        raise ProbeFailed("The condition's comparison is not one the portal knows.")
    if source_kind == SourceKind.POSTGRESQL:
        from psycopg2 import sql

        query = sql.SQL("SELECT MAX({}) FROM {}").format(sql.Identifier(column), sql.Identifier(*table.split(".")))
        if isinstance(condition, tuple):
            where = sql.SQL(" WHERE {} {} %s").format(sql.Identifier(condition[0]), sql.SQL(condition[1]))
            return query + where, [condition[2]]
        if condition:
            return query + sql.SQL(" WHERE ") + sql.SQL(condition), None
        return query, None
    quote, marker = ("`", "%s") if source_kind == SourceKind.MYSQL else ('"', "?")
    query = f"SELECT MAX({_quote(column, quote)}) FROM {_quote(table, quote)}"
    if isinstance(condition, tuple):
        return f"{query} WHERE {_quote(condition[0], quote)} {condition[1]} {marker}", [condition[2]]
    if condition:
        return f"{query} WHERE {condition}", None
    return query, None


def sql_max_timestamp(source_kind, connection, password, table, column, condition, timeout):
    """The newest ``column`` of ``table`` (rows matching ``condition`` only). ``connection`` and ``password`` were
    checked by the caller (``_sql_target``): this only reads."""
    readers = {
        SourceKind.SQLITE: _sqlite_value,
        SourceKind.POSTGRESQL: _postgresql_value,
        SourceKind.MYSQL: _mysql_value,
    }
    if source_kind not in readers:
        raise ProbeFailed(f"Unsupported: the SQL method cannot read a {source_kind} source.")
    query, parameters = _sql_parts(source_kind, table, column, condition)
    try:
        value = readers[source_kind](connection, password, query, parameters, timeout)
    except ProbeFailed:
        raise
    except Exception as exc:  # a driver's message may quote the data (a failed CAST prints its value): never shown
        raise ProbeFailed(f"The query on {table} failed ({type(exc).__name__}).") from None
    if value is None:
        raise ProbeFailed(f"{table}.{column} has no values{' matching the condition' if condition else ''}.")
    return parse_timestamp(value, f"column {column}")


def _sqlite_connect(connection, timeout):
    """A read-only SQLite connection to a file under DATA_ROOT whose statements stop after ``timeout`` seconds."""
    path = inside_data_root(connection.get("path", ""))
    if not path.is_file():
        raise ProbeFailed(f"There is no SQLite database at '{connection.get('path', '')}' under DATA_ROOT.")
    database = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout)
    deadline = time.monotonic() + timeout
    # A non-zero return aborts the statement: the query itself cannot outlive the timeout either.
    database.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    return database


def _postgresql_connect(connection, password, timeout):
    import psycopg2

    return psycopg2.connect(
        host=connection["host"],
        port=connection["port"],
        dbname=connection.get("database", ""),
        user=connection.get("user", ""),
        password=password,
        connect_timeout=timeout,
        options=f"-c statement_timeout={timeout * 1000} -c default_transaction_read_only=on",
    )


def _mysql_connect(connection, password, timeout):
    import pymysql

    return pymysql.connect(
        host=connection["host"],
        port=int(connection["port"]),
        database=connection.get("database", ""),
        user=connection.get("user", ""),
        password=password,
        connect_timeout=timeout,
        read_timeout=timeout,
        write_timeout=timeout,
    )


def _mysql_session(database, timeout):
    # Giving up on the client side leaves the query running on the server: the server must stop it too. MariaDB
    # and MySQL name that limit differently (seconds vs milliseconds), and the handshake says which one answered.
    if "MariaDB" in database.get_server_info():
        limit = f"SET SESSION max_statement_time = {timeout}"
    else:
        limit = f"SET SESSION max_execution_time = {timeout * 1000}"
    # TIMESTAMP columns come back in the session's time zone; UTC makes the naive value mean what parsing assumes.
    return ("SET SESSION TRANSACTION READ ONLY", limit, "SET SESSION time_zone = '+00:00'")


def _driver(source_kind, connection, password, timeout):
    """``(connect, driver error class, engine name, session statements)`` of a SQL source kind."""
    if source_kind == SourceKind.SQLITE:
        return (lambda: _sqlite_connect(connection, timeout)), sqlite3.Error, "SQLite", lambda database: ()
    if source_kind == SourceKind.POSTGRESQL:
        import psycopg2

        connect = lambda: _postgresql_connect(connection, password, timeout)  # noqa: E731
        return connect, psycopg2.Error, "PostgreSQL", lambda database: ()
    if source_kind == SourceKind.MYSQL:
        import pymysql

        connect = lambda: _mysql_connect(connection, password, timeout)  # noqa: E731
        return connect, pymysql.MySQLError, "MySQL", lambda database: _mysql_session(database, timeout)
    raise ProbeFailed(f"Unsupported: the portal does not read {source_kind} sources with SQL.")


@contextmanager
def _connected(source_kind, connection, password, timeout):
    """An open, read-only, time-limited connection; driver errors become the words of ``monitoring.reasons.KINDS``
    (``reasons.driver_detail``), never the server's message (a failed CAST prints the data it read)."""
    connect, driver_error, engine, session = _driver(source_kind, connection, password, timeout)
    where = "DATA_ROOT" if source_kind == SourceKind.SQLITE else f"{connection.get('host')}:{connection.get('port')}"
    try:
        database = connect()
    except driver_error as exc:
        detail = reasons.driver_detail(exc, fallback="the server could not be reached or refused the login")
        raise ProbeFailed(f"Could not connect to {engine} at {where}: {detail}.") from None
    try:
        cursor = database.cursor()
        for statement in session(database):
            cursor.execute(statement)
        cursor.close()
        yield database
    except driver_error as exc:
        fallback = f"the query failed ({type(exc).__name__})" if engine == "SQLite" else "the query failed"
        raise ProbeFailed(f"{engine} refused the query: {reasons.driver_detail(exc, fallback=fallback)}.") from None
    finally:
        database.close()


def _first_row_value(source_kind, connection, password, sql, parameters, timeout):
    with _connected(source_kind, connection, password, timeout) as database:
        cursor = database.cursor()
        cursor.execute(sql, parameters or ())
        return cursor.fetchone()[0]


def _sqlite_value(connection, password, sql, parameters, timeout):
    return _first_row_value(SourceKind.SQLITE, connection, password, sql, parameters, timeout)


def _postgresql_value(connection, password, sql, parameters, timeout):
    return _first_row_value(SourceKind.POSTGRESQL, connection, password, sql, parameters, timeout)


def _mysql_value(connection, password, sql, parameters, timeout):
    return _first_row_value(SourceKind.MYSQL, connection, password, sql, parameters, timeout)


class SqlTable(NamedTuple):
    """An open read-only connection to a dataset's source, the table's quoted name and the driver's parameter mark."""

    connection: object
    name: str
    marker: str


@contextmanager
def open_sql_table(dataset, timeout):
    """Read the rows of a table dataset of a SQLite, PostgreSQL or MySQL/MariaDB source (batch scoring's input, a
    model's prediction table), with the probe's checks before anything is sent: the host is allowed (and not the
    portal's own database unless staff said so), the secret is bound to the source and its host. The session is
    read-only and its statements stop after ``timeout`` seconds. Any failure is ``ProbeFailed`` with the reason."""
    source = dataset.source
    if source.source_kind not in SQL_KINDS:
        raise ProbeFailed(
            f"Tables are read from SQLite, PostgreSQL or MySQL sources; {source.asset.name} is "
            f"{source.get_source_kind_display()}."
        )
    refusal = source.connection_refusal()
    try:
        password = "" if refusal else source.secret() or ""
    except SecretNotBound as exc:
        refusal = str(exc)
    if refusal:
        raise ProbeFailed(f"Not read: {refusal}")
    host, port = source.address()
    connection = {**source.connection, "host": host, "port": port}
    quote = "`" if source.source_kind == SourceKind.MYSQL else '"'
    marker = "?" if source.source_kind == SourceKind.SQLITE else "%s"
    with _connected(source.source_kind, connection, password, timeout) as database:
        yield SqlTable(database, _quote(dataset.qualified_name, quote), marker)


SQL_KINDS = (SourceKind.SQLITE, SourceKind.POSTGRESQL, SourceKind.MYSQL)


def _first_line(exc):
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
