"""The freshness sweep row: every policy due at once, checked by the real sweep through the bench's Celery worker.

The generated policies point at hosts that do not exist, so before the servers start ``prepare_targets`` gives
each probe something real on this machine, of the kind its method reads:

- SQL: a small table per dataset (a few rows with a timestamp column) in a PostgreSQL database the benchmark
  creates beside the portal's (``<portal db>_source``); the datasets' sources are pointed at it.
- File: a small file per dataset under the worker's ``DATA_ROOT`` (``var/bench/data``).
- HTTP: a JSON file per policy served by a local HTTP server in the benchmark process (Last-Modified header and a
  ``meta.updated_at`` field).
- Heartbeat: nothing to ask; the sweep evaluates them from their stored timestamps.

It also parks every policy (deadline a day ahead) so that beat does not check them while the other rows are
measured. ``measure`` then makes them all due at once, triggers the beat task (``sweep_freshness``) through the
broker and waits until each has a check recorded after the trigger.
"""

import functools
import http.server
import json
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
from psycopg2 import sql

from bench import services

ROWS_PER_TABLE = 5
# The target, with the worker's 2 processes.
TARGET_CHECKS_PER_SECOND = 100


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def prepare_targets(args, data_root):
    """Make every probe's target real, park the policies, and return the HTTP server (to ``shutdown()`` at the end)."""
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast, Concat
    from django.utils import timezone

    from catalog.models import DataSource, SourceHost
    from monitoring.choices import FreshnessMethod
    from monitoring.models import FreshnessPolicy

    data_root = Path(data_root)
    policies = FreshnessPolicy.objects.select_related("asset__dataset")
    tables = _create_source_tables(args, policies.filter(method=FreshnessMethod.SQL))
    address = urlsplit(args.postgres)
    connection = {"host": address.hostname, "port": address.port or 5432, "database": _source_db(args),
                  "user": address.username or "postgres"}  # fmt: skip
    DataSource.objects.filter(asset_id__in=tables).update(connection=connection, secret_env_var="")
    # As staff would: the probes may reach only allow-listed hosts.
    SourceHost.objects.get_or_create(host=connection["host"].lower(), port=connection["port"])
    for policy in policies.filter(method=FreshnessMethod.FILE):
        path = data_root / (policy.file_path or policy.asset.dataset.qualified_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("id,updated_at\n1,now\n")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietFiles, directory=str(data_root)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True, name="bench-http-source").start()
    answers = data_root / "http"
    answers.mkdir(parents=True, exist_ok=True)
    body = json.dumps({"meta": {"updated_at": timezone.now().isoformat()}})
    for pk in policies.filter(method=FreshnessMethod.HTTP).values_list("pk", flat=True):
        (answers / f"{pk}.json").write_text(body)
    base = f"http://127.0.0.1:{server.server_address[1]}/http/"
    policies.filter(method=FreshnessMethod.HTTP).update(
        url=Concat(Value(base), Cast("id", CharField()), Value(".json"))
    )
    FreshnessPolicy.objects.filter(next_check_at__isnull=False).update(next_check_at=timezone.now() + timedelta(days=1))
    return server


def _source_db(args):
    return f"{args.portal_db}_source"


def _create_source_tables(args, sql_policies):
    """One small table per SQL-probed dataset, named as the catalog names it; returns the sources to repoint."""
    services.recreate_database(args.postgres, _source_db(args))
    sources = set()
    with psycopg2.connect(f"{args.postgres}/{_source_db(args)}") as database, database.cursor() as cursor:
        for policy in sql_policies:
            dataset = policy.asset.dataset
            sources.add(dataset.source_id)
            schema, table = dataset.qualified_name.split(".", 1)
            name = sql.Identifier(schema, table)
            column = sql.Identifier(policy.timestamp_column)
            cursor.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            cursor.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} (id integer, {} timestamptz)").format(name, column))
            rows = sql.SQL("INSERT INTO {} SELECT n, now() - n * interval '1 minute' FROM generate_series(1, %s) n")
            cursor.execute(rows.format(name), [ROWS_PER_TABLE])
    database.close()
    return sources


def measure(context):
    """Every unpaused policy due now; the sweep is triggered through the broker and the clock stops when each has
    a check recorded after the trigger. Returns the counts, the seconds and the probes' recorded durations."""
    from django.db.models import Max
    from django.utils import timezone

    from monitoring.models import FreshnessCheck, FreshnessPolicy
    from monitoring.tasks import sweep_freshness

    policies = FreshnessPolicy.objects.filter(paused=False)
    triggered = timezone.now()
    due = policies.update(next_check_at=triggered)
    sweep_freshness.delay()
    # A generous ceiling: a tenth of the target rate, so a slow run still ends with what it reached.
    deadline = time.monotonic() + max(60, 10 * due / TARGET_CHECKS_PER_SECOND)
    checked = 0
    while time.monotonic() < deadline:
        checked = policies.filter(last_checked_at__gte=triggered).count()
        if checked >= due:
            break
        time.sleep(0.2)
    checks = FreshnessCheck.objects.filter(checked_at__gte=triggered)
    last = checks.aggregate(last=Max("checked_at"))["last"] or timezone.now()
    errors = list(checks.exclude(error="").values_list("error", flat=True)[:1])
    return {
        "due": due,
        "checked": checked,
        "seconds": (last - triggered).total_seconds(),
        "durations_ms": list(checks.exclude(duration_ms=None).values_list("duration_ms", flat=True)),
        "probe_errors": checks.exclude(error="").count(),
        "first_error": errors[0] if errors else "",
    }
