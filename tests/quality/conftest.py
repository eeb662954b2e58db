"""The shop dbt project of ``tests/fixtures/dbt_project``, run once per test process with the real dbt-core and
dbt-postgres against the test database, in a schema of this process's own: seed, run, docs generate, source
freshness, and test last (dbt docs generate overwrites run_results.json; the failing test must be the last run)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from catalog.choices import SourceKind
from tests import factories

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "dbt_project"
BIN = Path(sys.executable).parent


def dbt_env(schema):
    settings = connection.settings_dict
    env = dict(os.environ)
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        DBT_HOST=settings.get("HOST") or "127.0.0.1",
        DBT_PORT=str(settings.get("PORT") or 5432),
        DBT_USER=settings.get("USER") or "postgres",
        DBT_PASSWORD=settings.get("PASSWORD") or "",
        DBT_DATABASE=settings["NAME"],
        DBT_SCHEMA=schema,
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    return env


def run_dbt(project, env, *args, command="dbt", check=True):
    """Run ``dbt <args> --profiles-dir .`` in ``project``, as the README tells people to; returns the process."""
    done = subprocess.run(
        [str(BIN / command), *args, "--profiles-dir", "."],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"{command} {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


def copy_project(destination):
    shutil.copytree(PROJECT, destination, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    return destination


@pytest.fixture(scope="session")
def dbt_schema():
    return f"shop_{os.environ.get('PYTEST_XDIST_WORKER', 'gw0')}"


@pytest.fixture(scope="session")
def dbt_project(django_db_setup, django_db_blocker, tmp_path_factory, dbt_schema):
    """The project after a full run: its directory, whose ``target/`` holds every artifact."""
    project = copy_project(tmp_path_factory.mktemp("dbt") / "shop")
    with django_db_blocker.unblock():
        env = dbt_env(dbt_schema)
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{dbt_schema}" CASCADE')
            cursor.execute(f'DROP SCHEMA IF EXISTS "{dbt_schema}_dbt_test__audit" CASCADE')
    run_dbt(project, env, "seed")
    run_dbt(project, env, "run")
    run_dbt(project, env, "docs", "generate")
    run_dbt(project, env, "source", "freshness")
    tested = run_dbt(project, env, "test", check=False)
    assert tested.returncode == 1, tested.stdout  # the accepted_values test on stg_orders.status fails on purpose
    return project


@pytest.fixture
def warehouse(db):
    """The data source dbt builds in, owned by its data engineer; alice and bob, the analytics team."""
    engineer = factories.user("engineer")
    source = factories.source(
        "Warehouse",
        source_kind=SourceKind.POSTGRESQL,
        connection={"host": "127.0.0.1", "port": 5432, "database": connection.settings_dict["NAME"]},
        owner=engineer,
    )
    source.namespace = "postgres://127.0.0.1:5432"  # what dbt-ol names this server in its events
    source.save(update_fields=["namespace"])
    factories.user("alice")
    factories.user("bob")
    factories.team("analytics")
    return source
