"""``make bench``: generate a large catalog, serve it with gunicorn beside an MLflow server, and measure both.

This process is the load generator: it talks to the servers over 127.0.0.1 only, one request at a time, a
bounded number of times per operation (``--requests``) and for a bounded time (``--seconds``). It also runs the
"python" rows (lineage walk, raw psycopg2 floor) on its own database connection.

Run ``python -m bench --help`` for the options; ``BENCH_SCALE=small make bench`` is the quick check.
"""

import argparse
import os
import secrets
import shutil
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import mlflow_store, report, services, sweep
from bench.measure import measure_all

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
# (most iterations, most seconds) per operation and client mode.
LIMITS = {"full": (100, 10.0), "small": (10, 1.5)}


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default=os.environ.get("BENCH_SCALE", "full"), help="full, small or a factor")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("BENCH_SEED", "1")))
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--portal-db", default="bench_portal")
    parser.add_argument("--mlflow-db", default="bench_mlflow")
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/13"))
    # Other servers may run on this machine: 0, the default, gives the server a port that is free right now.
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "0")))
    parser.add_argument("--mlflow-port", type=int, default=int(os.environ.get("BENCH_MLFLOW_PORT", "0")))
    parser.add_argument("--requests", type=int, help="most measured iterations per operation and mode")
    parser.add_argument("--seconds", type=float, help="most seconds spent per operation and mode")
    parser.add_argument(
        "--reuse", action="store_true", help="keep (and migrate) the portal database of the previous run"
    )
    parser.add_argument(
        "--only", default="", help="measure only operations whose name contains this text (or one of several: a|b)"
    )
    parser.add_argument(
        "--load-seconds", type=float, default=120, help="how long the many-people row (bench.load) runs"
    )
    args = parser.parse_args(argv)
    args.port = args.port or services.free_port()
    args.mlflow_port = args.mlflow_port or services.free_port()
    while args.mlflow_port == args.port:
        args.mlflow_port = services.free_port()
    return args


def portal_environment(args, var_dir):
    """Production settings (DEBUG off, hashed static files) on plain HTTP over loopback."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": f"{args.postgres}/{args.portal_db}",
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY", secrets.token_urlsafe(50)),
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "OUTBOUND_ALLOWED_HOSTS": "127.0.0.1",  # the sweep's HTTP probes ask a local server
        # One client measures every row with one token and heartbeat: the limits would measure the throttle.
        "API_RATE_LIMIT": "off",
        "LINEAGE_RATE_LIMIT": "off",
        "PREDICTION_RATE_LIMIT": "off",
        "PING_RATE_LIMIT": "off",
        "PORTAL_BASE_URL": f"http://127.0.0.1:{args.port}",
        "PORTAL_VAR_DIR": str(var_dir),
        "CELERY_BROKER_URL": args.redis,
        "CELERY_RESULT_BACKEND": args.redis,
        "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{args.mlflow_port}",
        # The files the freshness sweep row's file probes read (see bench.sweep).
        "DATA_ROOT": str(var_dir / "data"),
        "LOG_LEVEL": "WARNING",
        # Emails are built and handed to a backend that drops them: the console backend would write every message
        # the first sweep's fan-out sends (80,000 at full scale) into the worker's log while the rows are measured.
        "EMAIL_URL": "dummymail://",
    }


def prepare_data(args, factor):
    """Fresh databases, migrated and filled, unless ``--reuse``. Returns the generation time in seconds."""
    from django.core.management import call_command

    from catalog.models import Asset

    if args.reuse:
        # Still migrate: a new index migration must be in place before it is measured.
        call_command("migrate", verbosity=0)
        if Asset.objects.exists():
            return None
    else:
        services.recreate_database(args.postgres, args.portal_db)
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    call_command("generate_scale", scale=str(factor), seed=args.seed)
    return time.monotonic() - started


def build_context(args):
    """The ids and names the operation templates use, picked from the generated data, and the credentials."""
    from django.db import connection
    from django.db.models import Count

    from accounts.models import ApiToken
    from catalog.choices import AssetKind
    from catalog.models import Asset, DataSource, LineageEdge, LineageGrant, Pipeline
    from registry.models import RegisteredModel

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT upstream_id FROM {LineageEdge._meta.db_table} GROUP BY upstream_id ORDER BY COUNT(*) DESC LIMIT 1"
        )
        hub = Asset.objects.select_related("owner", "team").get(pk=cursor.fetchone()[0])

    def middle(kind):
        assets = Asset.objects.filter(kind=kind).order_by("pk")
        return assets[assets.count() // 2]

    model = (
        RegisteredModel.objects.annotate(n=Count("versions")).filter(n__gte=5).select_related("asset").order_by("pk")
    ).first() or RegisteredModel.objects.select_related("asset").order_by("pk").first()
    version = model.versions.select_related("asset").order_by("-version").first()
    user = hub.owner

    ApiToken.objects.filter(user=user, name="benchmark").delete()
    _, key = ApiToken.issue(user, "benchmark")
    # OpenLineage events name tables by their source's namespace; generated sources have none, as a warehouse has
    # none until an OpenLineage integration reports it: give the source with the most tables one.
    warehouse = DataSource.objects.annotate(tables=Count("datasets")).order_by("-tables", "pk").first()
    if not warehouse.namespace:
        warehouse.namespace = f"postgres://warehouse-{warehouse.pk}.internal:5432"
        warehouse.save(update_fields=["namespace"])
    # The tables and jobs the events name belong to many owners: the benchmark's account reports them as a
    # pipeline's service account does, with staff's grants on both namespaces (catalog.access.LineageRights).
    for namespace in (warehouse.namespace, "airflow"):
        LineageGrant.objects.get_or_create(user=user, namespace=namespace)
    tables = warehouse.datasets.order_by("pk").values_list("qualified_name", flat=True)[:50]
    jobs = Pipeline.objects.order_by("pk").values_list("asset__name", flat=True)[:40]
    from bench.generate import parse_scale
    from bench.generate.dbt import wide_dataset

    mlops_model, mlops_version = _model_in_use(user)

    return {
        "wide_dataset": wide_dataset(),
        "scale": parse_scale(args.scale),
        "hub": hub.slug,
        "hub_id": hub.pk,
        "dataset": middle(AssetKind.DATASET).slug,
        "report": middle(AssetKind.REPORT).slug,
        "pipeline": middle(AssetKind.PIPELINE).slug,
        "source": middle(AssetKind.SOURCE).slug,
        "model": model.asset.slug,
        "model_name": model.mlflow_name,
        "model_prefix": "-".join(model.mlflow_name.split("-")[:2]),
        "version_uuid": str(version.asset.uuid),
        "version_number": version.version,
        "team": hub.team.slug,
        "owner": user.username,
        "openlineage_namespace": warehouse.namespace,
        "openlineage_tables": " ".join(tables),
        "openlineage_jobs": " ".join(jobs),
        "session_cookie": signed_in(user),
        "reader_session_cookie": signed_in(reader_watching(READER_WATCHES)),
        "token": key,
        "mlops_model": mlops_model,
        "mlops_version": mlops_version,
    }


def _model_in_use(user):
    """``(slug, version number)`` of the generated model in use with logged predictions; the benchmark's account
    owns it, as a team's service account logs its predictions."""
    from django.db import connection

    from bench.generate.mlops import model_in_use
    from catalog.models import Asset
    from registry.models import ModelVersion

    with connection.cursor() as cursor:
        found = model_in_use(cursor)
    if found is None:
        return "", 0
    model_id, version_id = found
    Asset.objects.filter(pk=model_id).update(owner=user, team=user.teams.first())
    return Asset.objects.get(pk=model_id).slug, ModelVersion.objects.get(pk=version_id).version


READER_WATCHES = 200


def signed_in(person):
    """A signed-in browser's session cookie, written the way django.contrib.auth.login writes it."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils.module_loading import import_string

    session = SessionStore()
    session[SESSION_KEY] = str(person.pk)
    # The backend that signs people in (django-axes's backend comes first, but only guards sign-in attempts).
    session[BACKEND_SESSION_KEY] = next(
        path for path in settings.AUTHENTICATION_BACKENDS if hasattr(import_string(path), "get_user")
    )
    session[HASH_SESSION_KEY] = person.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def reader_watching(count):
    """A reader who owns nothing and watches ``count`` assets (reports and datasets, spread over the catalog, the
    hub's deepest reports among them): the home page of issue 15. Kept when the data is reused."""
    from django.contrib.auth import get_user_model

    from catalog.choices import AssetKind
    from catalog.models import Asset, Watch

    reader, _ = get_user_model().objects.get_or_create(username="bench-reader", defaults={"email": ""})
    have = Watch.objects.filter(user=reader).count()
    if have < count:
        kinds = [AssetKind.REPORT, AssetKind.DATASET]
        total = Asset.objects.filter(kind__in=kinds).count()
        step = max(1, total // count)
        ids = Asset.objects.filter(kind__in=kinds).order_by("pk").values_list("pk", flat=True)[::step][:count]
        Watch.objects.bulk_create([Watch(user=reader, asset_id=pk) for pk in ids], ignore_conflicts=True)
    return reader


def statements_of_get_model(context):
    """The SQL the model API runs for one request (authentication included), captured in this process."""
    from django.db import connection
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext

    client = DjangoClient(HTTP_AUTHORIZATION=f"Bearer {context['token']}", HTTP_HOST="127.0.0.1")
    client.get(f"/api/v1/models/{context['model']}/")  # the token's first use writes; the steady state does not
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/api/v1/models/{context['model']}/")
    if response.status_code != 200:
        raise RuntimeError(f"get model answered {response.status_code} in process")
    return [query["sql"] for query in captured.captured_queries]


def start_mlflow(args, var_dir, started):
    """MLflow first: its start-up (schema migrations, 4 workers) takes a minute, spent while the portal's data loads."""
    services.recreate_database(args.postgres, args.mlflow_db)
    # A clean environment: the portal's variables (DATABASE_URL, MLFLOW_TRACKING_URI) are not MLflow's.
    mlflow_env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", str(var_dir))}
    started["mlflow"] = services.Service(
        "mlflow",
        [str(VENV_BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(args.mlflow_port),
         "--backend-store-uri", f"{args.postgres.replace('postgres://', 'postgresql://')}/{args.mlflow_db}",
         "--default-artifact-root", str(var_dir / "mlartifacts")],
        mlflow_env, var_dir / "logs",
    )  # fmt: skip


def start_portal(args, env, var_dir, started):
    """gunicorn (2 workers of 2 threads), a Celery worker (2 processes) and beat, as ``make run`` runs them."""
    logs = var_dir / "logs"
    started["gunicorn"] = services.Service(
        "gunicorn",
        [str(VENV_BIN / "gunicorn"), "portal.wsgi", "--config", "python:portal.gunicorn", "--workers", "2",
         "--threads", "2", "--bind", f"127.0.0.1:{args.port}", "--timeout", "120"],
        env, logs,
    )  # fmt: skip
    started["celery"] = services.Service(
        "celery", [str(VENV_BIN / "celery"), "-A", "portal", "worker", "--concurrency", "2", "--loglevel", "WARNING"],
        env, logs,
    )  # fmt: skip
    started["beat"] = services.Service(
        "beat", [str(VENV_BIN / "celery"), "-A", "portal", "beat", "--loglevel", "WARNING",
                 "--schedule", str(var_dir / "beat-schedule")],
        env, logs,
    )  # fmt: skip
    started["gunicorn"].wait_for_http(f"http://127.0.0.1:{args.port}/health/")
    started["celery"].wait_for_children(2)
    started["mlflow"].wait_for_http(f"http://127.0.0.1:{args.mlflow_port}/health", timeout=180)


def _stop_on_sigterm(signum, frame):
    # Turned into an exception so that ``finally`` stops the servers, which run in their own sessions.
    raise SystemExit(f"stopped by signal {signum}")


class Phases:
    """Seconds spent in each phase of the run, printed as each one ends."""

    def __init__(self):
        self.seconds = {}
        self.clock = time.monotonic()

    def end(self, name):
        self.seconds[name] = round(time.monotonic() - self.clock, 1)
        print(f"{name}: {self.seconds[name]} s", flush=True)
        self.clock = time.monotonic()


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    var_dir = ROOT / "var" / "bench"
    env = portal_environment(args, var_dir)
    os.environ.update(env)
    import django

    django.setup()
    from bench.generate import counts_for, parse_scale

    factor = parse_scale(args.scale)
    limits = LIMITS["full" if factor >= 0.5 else "small"]
    limits = (args.requests or limits[0], args.seconds or limits[1])
    print(f"Scale {factor:g} (seed {args.seed}): {counts_for(factor)}")
    measured = serve_and_measure(args, env, var_dir, factor, limits)
    result = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])]),
        "scale": factor,
        "seed": args.seed,
        "counts": counts_for(factor),
        "generation_seconds": measured["generation_seconds"],
        "phase_seconds": measured["phase_seconds"],
        "limits": {"requests": limits[0], "seconds": limits[1]},
        "machine": report.machine(),
        "load_average_1_5_15": measured["load_average_1_5_15"],
        "mlflow_loaded": measured["mlflow_loaded"],
        "rows": measured["rows"],
        "comparisons": report.comparisons(measured["rows"]),
        "memory_at_rest": measured["memory_at_rest"],
        "memory_after": measured["memory_after"],
    }
    report.print_table(result)
    path = report.write(result)
    load = result["load_average_1_5_15"]
    print(f"\nload average (1, 5, 15 min) before {load['before']}, after {load['after']}")
    print(f"Wrote {path.relative_to(ROOT)}")
    failed = [r for r in result["rows"] if r["errors"]]
    return 1 if failed else 0


def serve_and_measure(args, env, var_dir, factor, limits):
    """Data, servers, measurements; the servers are stopped whatever happens. Returns what was measured."""
    from django.core.management import call_command
    from django.db import connection

    started = {}
    http_source = None  # the probes' HTTP server, in this process
    (var_dir / "logs").mkdir(parents=True, exist_ok=True)
    phases = Phases()
    try:
        start_mlflow(args, var_dir, started)
        generation_seconds = prepare_data(args, factor)
        phases.end("database and data")
        shutil.rmtree(var_dir / "data", ignore_errors=True)
        http_source = sweep.prepare_targets(args, var_dir / "data")
        phases.end("probe targets")
        call_command("collectstatic", interactive=False, verbosity=0)
        context = build_context(args)
        context["ports"] = {"portal": args.port, "mlflow": args.mlflow_port}
        context["load_seconds"] = args.load_seconds
        phases.end("static files and context")
        start_portal(args, env, var_dir, started)
        phases.end("servers started")
        mlflow_counts = mlflow_store.load(f"{args.postgres}/{args.portal_db}", f"{args.postgres}/{args.mlflow_db}")
        print(f"MLflow loaded with {mlflow_counts['models']:,} models and {mlflow_counts['versions']:,} versions.")
        phases.end("MLflow loaded")
        # The first sweep finds the generated late checks and tells everyone downstream: measure once that is done,
        # so every row runs beside the same background (beat's periodic runs), not beside a first-hour backlog.
        waited = services.wait_for_idle_worker(args.redis, timeout=900)
        print(f"Worker idle after {waited:.0f} s (the first sweep's alerts and notices sent).")
        time.sleep(5)  # let the workers settle before reading memory "at rest"
        memory_at_rest = report.memory_report(started)
        phases.end("worker idle")
        context["raw_cursor"] = connection.cursor().cursor
        context["get_model_statements"] = statements_of_get_model(context)
        # Other work on the machine slows every row alike; the load average says how busy it was.
        load_before = os.getloadavg()
        rows = measure_all(context, limits, started["mlflow"], only=args.only)
        memory_after = report.memory_report(started)
        load_after = os.getloadavg()
        phases.end("measured")
    finally:
        for service in started.values():
            service.stop()
        if http_source is not None:
            http_source.shutdown()
    return {
        "generation_seconds": generation_seconds,
        "phase_seconds": phases.seconds,
        "load_average_1_5_15": {"before": load_before, "after": load_after},
        "mlflow_loaded": mlflow_counts,
        "rows": rows,
        "memory_at_rest": memory_at_rest,
        "memory_after": memory_after,
    }
