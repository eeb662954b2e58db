"""Backups: everything the portal keeps, in one folder, and the way back from it (``manage.py backup`` and
``manage.py restore``, see README "Backups").

A backup folder holds:
- ``database.dump`` (``pg_dump -Fc`` of PostgreSQL) or ``database.sqlite3`` (SQLite's online backup);
- ``media/`` (``MEDIA_ROOT``: issue attachments), ``data/`` (``DATA_ROOT``: file datasets and file sources);
- ``mlflow.dump`` or ``mlflow.sqlite3`` (MLflow's tracking store) and ``mlartifacts/`` (its models' artifacts);
- ``manifest.json``: when, what, and the row count of every table, read in the same snapshot the dump was taken
  from (PostgreSQL's exported snapshot), so a restore can prove it brought every row back.

The database is dumped before the files are copied: an attachment uploaded in between is a file without a row,
which the hourly orphan sweep removes, never a row without its file.
"""

import json
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path
from urllib.parse import unquote, urlsplit

import environ
from django.conf import settings
from django.utils import timezone

MANIFEST = "manifest.json"
FILES = {"media": "MEDIA_ROOT", "data": "DATA_ROOT", "mlartifacts": "MLFLOW_ARTIFACT_ROOT"}


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


# --- where things are ---------------------------------------------------------------------------------------------
def database_from_url(url):
    """Django's database settings for ``url`` (``postgres://…``, ``sqlite:///…``)."""
    return environ.Env.db_url_config(url)


def mlflow_store():
    """The database settings of MLflow's tracking store, or None when the portal cannot reach it (an MLflow
    server whose store was not named with ``MLFLOW_BACKEND_STORE_URI``)."""
    uri = settings.MLFLOW_BACKEND_STORE_URI or settings.MLFLOW_TRACKING_URI
    if uri.startswith("sqlite:"):
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": urlsplit(uri).path.removeprefix("/")}
    if uri.startswith(("postgresql", "postgres")):
        return database_from_url("postgres://" + uri.split("://", 1)[1].split("?", 1)[0])
    return None


def _is_postgresql(database):
    return "postgresql" in database["ENGINE"]


def _sqlite_path(database):
    # sqlite:////abs/path gives "/abs/path"; MLflow's sqlite:///relative stays relative to the working folder.
    return Path(unquote(str(database["NAME"]))).resolve()


def _pg_environment(database):
    environment = {**os.environ, "PGPASSWORD": str(database.get("PASSWORD") or "")}
    environment.update(
        {
            "PGHOST": str(database.get("HOST") or "127.0.0.1"),
            "PGPORT": str(database.get("PORT") or 5432),
            "PGUSER": str(database.get("USER") or "postgres"),
            "PGDATABASE": str(database["NAME"]),
        }
    )
    return environment


def _pg_connect(database, name=None):
    import psycopg2

    return psycopg2.connect(
        host=database.get("HOST") or "127.0.0.1",
        port=database.get("PORT") or 5432,
        user=database.get("USER") or "postgres",
        password=database.get("PASSWORD") or "",
        dbname=name or database["NAME"],
    )


def _run(command, database):
    # The commands are pg_dump and pg_restore with paths and names this module built, never text a person typed.
    finished = subprocess.run(command, env=_pg_environment(database), capture_output=True, text=True, check=False)  # noqa: S603
    if finished.returncode != 0:
        raise BackupError(f"{command[0]} failed: {finished.stderr.strip() or finished.stdout.strip()}")


# --- counting -----------------------------------------------------------------------------------------------------
def _pg_counts(cursor):
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    tables = [row[0] for row in cursor.fetchall()]
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        counts[table] = cursor.fetchone()[0]
    return counts


def _sqlite_counts(path):
    with closing(sqlite3.connect(path)) as database:
        tables = [
            row[0]
            for row in database.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {table: database.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}


def table_counts(database):
    """``{table: rows}`` of every table of ``database`` (Django settings)."""
    if _is_postgresql(database):
        with closing(_pg_connect(database)) as connection, connection.cursor() as cursor:
            return _pg_counts(cursor)
    return _sqlite_counts(_sqlite_path(database))


# --- backing up ---------------------------------------------------------------------------------------------------
def _dump(database, target_stem):
    """Dump ``database`` next to ``target_stem`` (``.dump`` or ``.sqlite3``); returns (file name, counts)."""
    if _is_postgresql(database):
        target = target_stem.with_suffix(".dump")
        with closing(_pg_connect(database)) as connection:
            connection.set_session(isolation_level="REPEATABLE READ", readonly=True)
            with connection.cursor() as cursor:
                # pg_dump reads the very snapshot the counts are read in: the manifest describes the dump exactly.
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
                counts = _pg_counts(cursor)
                _run(["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={target}"], database)
        return target.name, counts
    source = _sqlite_path(database)
    if not source.is_file():
        raise BackupError(f"There is no SQLite database at {source}.")
    target = target_stem.with_suffix(".sqlite3")
    with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(target)) as copy:
        live.backup(copy)  # consistent even while the portal writes
    return target.name, _sqlite_counts(target)


def _copy_tree(source, target):
    source = Path(source)
    if not source.is_dir():
        return {"files": 0, "bytes": 0}
    shutil.copytree(source, target, symlinks=True)
    files = [path for path in target.rglob("*") if path.is_file()]
    return {"files": len(files), "bytes": sum(path.stat().st_size for path in files)}


def backup(destination, log=lambda line: None):
    """Write a backup folder under ``destination`` and return its path."""
    now = timezone.now()
    folder = Path(destination).resolve() / f"portal-backup-{now:%Y%m%d-%H%M%S}"
    folder.mkdir(parents=True, exist_ok=False)
    try:
        _write(folder, now, log)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # half a backup would pass for a whole one
        raise
    return folder


def _write(folder, now, log):
    manifest = {"created_at": now.isoformat(), "files": {}}
    database = settings.DATABASES["default"]
    name, counts = _dump(database, folder / "database")
    manifest["database"] = {"file": name, "tables": counts}
    log(f"database: {len(counts)} tables, {sum(counts.values()):,} rows -> {name}")
    store = mlflow_store()
    if store is None:
        manifest["mlflow"] = None
        log("MLflow store: not backed up (set MLFLOW_BACKEND_STORE_URI to the MLflow server's store)")
    elif _is_postgresql(store) or _sqlite_path(store).is_file():
        name, counts = _dump(store, folder / "mlflow")
        manifest["mlflow"] = {"file": name, "tables": counts}
        log(f"MLflow store: {len(counts)} tables -> {name}")
    else:
        manifest["mlflow"] = None
        log("MLflow store: none yet")
    for part, setting in FILES.items():
        copied = _copy_tree(getattr(settings, setting), folder / part)
        manifest["files"][part] = copied
        log(f"{part} ({setting}): {copied['files']} files, {copied['bytes']:,} bytes")
    # Written last: a folder with a manifest is a complete backup.
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))


# --- restoring ----------------------------------------------------------------------------------------------------
def _pg_is_empty(database):
    """True for a database without tables; False for one with tables; None when it does not exist."""
    import psycopg2

    try:
        connection = _pg_connect(database)
    except psycopg2.OperationalError as exc:
        if "does not exist" in str(exc):
            return None
        raise BackupError(f"Cannot connect to the database {database['NAME']}: {exc}".strip()) from None
    with closing(connection), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        return cursor.fetchone()[0] == 0


def _check_database_target(database, replace):
    if _is_postgresql(database):
        empty = _pg_is_empty(database)
        if empty is False and not replace:
            raise BackupError(
                f"The database {database['NAME']} has tables already. Restore into a new database, or pass "
                "--replace to drop everything in it first."
            )
        return
    path = _sqlite_path(database)
    if path.exists() and path.stat().st_size and not replace:
        raise BackupError(f"{path} exists. Restore to another path, or pass --replace to set it aside first.")


def _check_folder_target(path, replace):
    path = Path(path)
    if path.is_dir() and any(path.iterdir()) and not replace:
        raise BackupError(f"{path} is not empty. Pass --replace to set it aside first ({path.name}.before-restore-…).")


def _set_aside(path, stamp):
    path = Path(path)
    if path.is_dir() and not any(path.iterdir()):
        path.rmdir()
        return None
    if path.exists():
        aside = path.with_name(f"{path.name}.before-restore-{stamp}")
        path.rename(aside)
        return aside
    return None


def _load(database, dump, stamp):
    if _is_postgresql(database):
        empty = _pg_is_empty(database)
        if empty is None:
            with closing(_pg_connect(database, name="postgres")) as connection:
                connection.autocommit = True
                with connection.cursor() as cursor:
                    cursor.execute(f'CREATE DATABASE "{database["NAME"]}"')
        elif not empty:
            with closing(_pg_connect(database)) as connection, connection.cursor() as cursor:
                cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
                connection.commit()
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={database['NAME']}",
              str(dump)], database)  # fmt: skip
        return
    path = _sqlite_path(database)
    _set_aside(path, stamp)
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(dump)) as saved, closing(sqlite3.connect(path)) as restored:
        saved.backup(restored)


def _verify(database, expected, what):
    found = table_counts(database)
    differ = {
        table: (rows, found.get(table)) for table, rows in expected.items() if found.get(table) != rows
    }  # fmt: skip
    if differ:
        lines = ", ".join(f"{table}: {rows} in the backup, {now} restored" for table, (rows, now) in differ.items())
        raise BackupError(f"The restored {what} differs from the backup: {lines}.")
    return found


def restore(source, *, database_url=None, replace=False, log=lambda line: None):
    """Bring back the backup folder ``source`` into the configured database (or ``database_url``), files and MLflow
    store. Everything is checked before anything is changed; ``replace`` sets existing files aside
    (``<folder>.before-restore-<time>``) and empties a database that has tables. Returns the restored counts."""
    folder = Path(source).resolve()
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder} is not a portal backup (no readable {MANIFEST}): {exc}") from None
    database = database_from_url(database_url) if database_url else settings.DATABASES["default"]
    store = mlflow_store() if manifest.get("mlflow") else None
    if manifest.get("mlflow") and store is None:
        raise BackupError("The backup holds an MLflow store: set MLFLOW_BACKEND_STORE_URI to where it goes.")
    _check_database_target(database, replace)
    if store is not None:
        _check_database_target(store, replace)
    for part, setting in FILES.items():
        if (folder / part).is_dir():
            _check_folder_target(getattr(settings, setting), replace)

    stamp = f"{timezone.now():%Y%m%d-%H%M%S}"
    _load(database, folder / manifest["database"]["file"], stamp)
    counts = _verify(database, manifest["database"]["tables"], "database")
    log(f"database: {len(counts)} tables, {sum(counts.values()):,} rows, the same counts as the backup")
    if store is not None:
        _load(store, folder / manifest["mlflow"]["file"], stamp)
        _verify(store, manifest["mlflow"]["tables"], "MLflow store")
        log("MLflow store: restored, the same counts as the backup")
    for part, setting in FILES.items():
        if not (folder / part).is_dir():
            continue
        target = Path(getattr(settings, setting))
        aside = _set_aside(target, stamp)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(folder / part, target, symlinks=True)
        log(f"{part} ({setting}): {manifest['files'][part]['files']} files -> {target}"
            + (f" (the previous one is {aside})" if aside else ""))  # fmt: skip
    return counts
