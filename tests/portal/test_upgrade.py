"""Upgrading a database made by the previous head of main keeps every row, and migrating back to it does too.

``tests/fixtures/upgrade/previous-main.sql.gz`` is ``pg_dump --no-owner --no-privileges`` of a database that the commit
recorded in ``counts.json`` migrated and filled with ``load_demo``; ``counts.json`` holds the row count of every table
in its public schema and each app's last applied migration. The test restores the dump into a scratch database of its
own (never the pytest database), runs this tree's ``manage.py migrate`` on it in a subprocess, checks that every
recorded table is still there with the same rows and that the ORM reads every model, then migrates back to the
recorded migrations and checks the rows again. Only the database is covered: the demo also writes files under
DATA_ROOT (CSV files, store.sqlite3), MLflow's store and artifacts (VAR_DIR/mlflow.sqlite3, VAR_DIR/mlartifacts) and
Celery messages, none of which are in the dump.

Going back, for every app that has migrations newer than its recorded one, ``migrate <app> <recorded>``; then every app
that did not exist at the recorded commit goes to ``zero``. Django unapplies the dependants of what it unapplies in any
app, so both steps may find their work already done (a new app holding models moved out of an old one with
SeparateDatabaseAndState works in either order); the result is checked against the recorded ``django_migrations``
rows, and when anything was unapplied the tree migrates forward once more to check the way back up.

A migration that renames a table: add ``"old_name": "new_name"`` to RENAMED. To record a newer previous head: in a
worktree of that commit, create an empty database, ``manage.py migrate``, ``manage.py load_demo``, then
``pg_dump --no-owner --no-privileges DB | gzip -9n > tests/fixtures/upgrade/previous-main.sql.gz`` and
``DATABASE_URL=postgres://…/DB python -m tests.portal.test_upgrade`` (rewrites counts.json; run from that worktree).
"""

import gzip
import json
import os
import secrets
import shutil
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest
from psycopg2 import sql

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "upgrade"
DUMP = FIXTURES / "previous-main.sql.gz"
RECORD_FILE = FIXTURES / "counts.json"

# Tables that a migration since the recorded commit renamed: {"old_name": "new_name"}.
RENAMED: dict[str, str] = {}

# Django's bookkeeping: new migrations and models add rows (content types and permissions are never removed when
# going back), so these may only grow. django_migrations is compared row by row after going back.
BOOKKEEPING = {"django_migrations", "django_content_type", "auth_permission"}

ORM_READ = """
import json
from django.apps import apps
from catalog.models import Asset
rows = {}
for model in apps.get_models(include_auto_created=True):
    if model._meta.proxy or not model._meta.managed:
        continue
    rows[model._meta.db_table] = sum(1 for _ in model._base_manager.all().iterator())
print("ORM-READ " + json.dumps({"tables": rows, "assets": Asset.objects.count()}))
"""


# --- the scratch database ----------------------------------------------------------------------------------------
def _server():
    from django.conf import settings

    config = settings.DATABASES["default"]
    if "postgresql" not in config["ENGINE"]:
        pytest.skip("the upgrade test restores a PostgreSQL dump: run it with DATABASE_URL=postgres://…")
    return {
        "host": config.get("HOST") or "127.0.0.1",
        "port": str(config.get("PORT") or 5432),
        "user": config.get("USER") or "postgres",
        "password": config.get("PASSWORD") or "",
    }


def _connect(server, dbname):
    connection = psycopg2.connect(dbname=dbname, **server)
    connection.autocommit = True
    return connection


def _url(server, dbname):
    credentials = quote(server["user"], safe="")
    if server["password"]:
        credentials += ":" + quote(server["password"], safe="")
    return f"postgres://{credentials}@{server['host']}:{server['port']}/{dbname}"


@pytest.fixture
def scratch_database():
    server = _server()
    name = f"upgrade_{os.getpid()}_{secrets.token_hex(4)}"
    admin = _connect(server, "postgres")
    try:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        yield server, name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


def _restore(server, dbname):
    psql = shutil.which("psql")
    assert psql, "the upgrade test needs PostgreSQL's psql client on PATH to restore its dump"
    with gzip.open(DUMP, "rt", encoding="utf-8") as handle:
        # \restrict and \unrestrict (pg_dump 15.14+) guard against hostile dumps; older psql clients reject them.
        script = "".join(line for line in handle if not line.startswith(("\\restrict ", "\\unrestrict ")))
    environment = {**os.environ, "PGPASSWORD": server["password"]}
    command = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", server["host"], "-p", server["port"]]
    command += ["-U", server["user"], "-d", dbname]
    done = subprocess.run(command, input=script, text=True, capture_output=True, env=environment, check=False)
    assert done.returncode == 0, f"restoring {DUMP.name} failed:\n{done.stderr}"


def _table_counts(connection):
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [row[0] for row in cursor.fetchall()]
        counts = {}
        for table in tables:
            cursor.execute(sql.SQL("SELECT count(*) FROM public.{}").format(sql.Identifier(table)))
            counts[table] = cursor.fetchone()[0]
    return counts


def _applied(connection):
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        return set(cursor.fetchall())


# --- this tree's manage.py ---------------------------------------------------------------------------------------
def _manage(server, dbname, var_dir, *arguments):
    environment = {**os.environ, "DATABASE_URL": _url(server, dbname), "DEBUG": "true", "PORTAL_VAR_DIR": str(var_dir)}
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "PYTEST_XDIST_WORKER", "DJANGO_SETTINGS_MODULE"):
        environment.pop(name, None)
    command = [sys.executable, "manage.py", *arguments]
    done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600, check=False)
    output = f"$ {' '.join(arguments)}\n{done.stdout}\n{done.stderr}"
    assert done.returncode == 0, f"manage.py {' '.join(arguments)} failed (exit {done.returncode}):\n{output}"
    assert "Traceback" not in output, output
    assert not [line for line in done.stderr.splitlines() if "error" in line.lower()], output
    return done.stdout


def _way_back(record):
    """[(app, target)] that takes this tree's migrations back to the recorded ones: apps with newer migrations back to
    their recorded one, then apps the recorded commit did not have to zero."""
    from django.db.migrations.loader import MigrationLoader

    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    by_app = {}
    for app, name in graph.nodes:
        by_app.setdefault(app, set()).add((app, name))
    steps = []
    for app, name in sorted(record["leaf_migrations"].items()):
        assert app in by_app, (
            f"app {app!r} of the recorded commit has no migrations now: say in this test how to go back"
        )
        assert (app, name) in graph.nodes, (
            f"{app}.{name}, the recorded last migration of {app}, is gone (squashed or renamed?): "
            "record a newer previous head, or map it here"
        )
        if by_app[app] - set(graph.forwards_plan((app, name))):
            steps.append((app, name))
    steps += [(app, "zero") for app in sorted(set(by_app) - set(record["leaf_migrations"]))]
    return steps


# --- the checks --------------------------------------------------------------------------------------------------
def _assert_rows_kept(found, recorded, stage, renamed):
    expected = {renamed.get(table, table): rows for table, rows in recorded.items()}
    missing = sorted(table for table in expected if table not in found)
    changed = {
        table: f"{rows} -> {found[table]}"
        for table, rows in expected.items()
        if table in found and (found[table] < rows if table in BOOKKEEPING else found[table] != rows)
    }
    assert not missing and not changed, (
        f"{stage}: tables missing: {missing or 'none'}; row counts changed (recorded -> now): {changed or 'none'}"
    )


def test_upgrading_from_the_previous_main_keeps_every_row_and_so_does_going_back(scratch_database, tmp_path):
    server, dbname = scratch_database
    record = json.loads(RECORD_FILE.read_text())
    recorded = record["tables"]
    _restore(server, dbname)
    with closing(_connect(server, dbname)) as connection:
        assert _table_counts(connection) == recorded, "the dump does not match counts.json: record them together"
        applied_before = _applied(connection)

    _manage(server, dbname, tmp_path, "migrate", "--noinput")
    with closing(_connect(server, dbname)) as connection:
        _assert_rows_kept(_table_counts(connection), recorded, f"after migrating up from {record['commit']}", RENAMED)

    out = _manage(server, dbname, tmp_path, "shell", "-c", ORM_READ)
    read = json.loads(next(line for line in out.splitlines() if line.startswith("ORM-READ "))[len("ORM-READ ") :])
    assert read["assets"] == recorded["catalog_asset"]
    expected = {RENAMED.get(table, table): rows for table, rows in recorded.items()}
    differ = {
        table: f"{expected[table]} -> {rows}"
        for table, rows in read["tables"].items()
        if table in expected and table not in BOOKKEEPING and rows != expected[table]
    }
    assert not differ, f"the ORM reads other row counts than recorded: {differ}"

    steps = _way_back(record)
    for app, target in steps:
        _manage(server, dbname, tmp_path, "migrate", app, target, "--noinput")
    with closing(_connect(server, dbname)) as connection:
        applied_after = _applied(connection)
        assert applied_after == applied_before, (
            f"going back by {steps} left other migrations applied than recorded: "
            f"extra {sorted(applied_after - applied_before)}, missing {sorted(applied_before - applied_after)}"
        )
        _assert_rows_kept(_table_counts(connection), recorded, f"after migrating back by {steps}", {})

    if steps:
        _manage(server, dbname, tmp_path, "migrate", "--noinput")
        with closing(_connect(server, dbname)) as connection:
            _assert_rows_kept(_table_counts(connection), recorded, "after migrating up a second time", RENAMED)


def _record_counts():
    """Rewrite counts.json from the database in DATABASE_URL, at this tree's commit (see the module's docstring)."""
    with closing(psycopg2.connect(os.environ["DATABASE_URL"])) as connection:
        with connection.cursor() as cursor:
            cursor.execute("SELECT DISTINCT ON (app) app, name FROM django_migrations ORDER BY app, id DESC")
            leaves = dict(cursor.fetchall())
        tables = _table_counts(connection)
    commit = subprocess.check_output(["git", "rev-parse", "HEAD"], cwd=ROOT, text=True).strip()
    record = {"commit": commit, "leaf_migrations": leaves, "tables": tables}
    RECORD_FILE.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    print(f"{RECORD_FILE}: {len(record['tables'])} tables, {sum(record['tables'].values())} rows")


if __name__ == "__main__":
    _record_counts()
