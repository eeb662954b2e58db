"""``make bench``: generate a large catalog, serve it with gunicorn beside an MLflow server, and measure both.

This process is the load generator: it talks to the servers over 127.0.0.1 only, one request at a time, a
bounded number of times per operation (``--requests``) and for a bounded time (``--seconds``). It also runs the
"python" rows (lineage walk, raw psycopg2 floor) on its own database connection.

Run ``python -m bench --help`` for the options; ``BENCH_SCALE=small make bench`` is the quick check.
"""

import argparse
import json
import os
import platform
import secrets
import shutil
import signal
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import mlflow_store, services, sweep
from bench.client import Client
from bench.operations import KEEPALIVE, OPERATIONS

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
VENV_BIN = Path(sys.executable).parent
# p95 targets from the issue, in milliseconds, by operation group.
TARGETS_MS = {"page": 150, "api": 150, "search": 100, "lineage": 250}
# Throughput targets from the issue, per second (checks, events), by operation group.
TARGETS_PER_SECOND = {"sweep": sweep.TARGET_CHECKS_PER_SECOND, "ingest": 300}
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
    # Other servers may run on this machine: by default each server gets a port that is free right now.
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "0")) or services.free_port())
    parser.add_argument(
        "--mlflow-port", type=int, default=int(os.environ.get("BENCH_MLFLOW_PORT", "0")) or services.free_port()
    )
    parser.add_argument("--requests", type=int, help="most measured iterations per operation and mode")
    parser.add_argument("--seconds", type=float, help="most seconds spent per operation and mode")
    parser.add_argument(
        "--reuse", action="store_true", help="keep (and migrate) the portal database of the previous run"
    )
    parser.add_argument("--only", default="", help="measure only operations whose name contains this text")
    args = parser.parse_args(argv)
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
        "PORTAL_BASE_URL": f"http://127.0.0.1:{args.port}",
        "PORTAL_VAR_DIR": str(var_dir),
        "CELERY_BROKER_URL": args.redis,
        "CELERY_RESULT_BACKEND": args.redis,
        "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{args.mlflow_port}",
        # The files the freshness sweep row's file probes read (see bench.sweep).
        "DATA_ROOT": str(var_dir / "data"),
        "LOG_LEVEL": "WARNING",
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
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from django.db.models import Count

    from accounts.models import ApiToken
    from catalog.choices import AssetKind
    from catalog.models import Asset, DataSource, LineageEdge, Pipeline
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
    # A signed-in browser's session, written the way django.contrib.auth.login writes it.
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    ApiToken.objects.filter(user=user, name="benchmark").delete()
    _, key = ApiToken.issue(user, "benchmark")
    # OpenLineage events name tables by their source's namespace; generated sources have none, as a warehouse has
    # none until an OpenLineage integration reports it: give the source with the most tables one.
    warehouse = DataSource.objects.annotate(tables=Count("datasets")).order_by("-tables", "pk").first()
    if not warehouse.namespace:
        warehouse.namespace = f"postgres://warehouse-{warehouse.pk}.internal:5432"
        warehouse.save(update_fields=["namespace"])
    tables = warehouse.datasets.order_by("pk").values_list("qualified_name", flat=True)[:50]
    jobs = Pipeline.objects.order_by("pk").values_list("asset__name", flat=True)[:40]
    return {
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
        "session_cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}",
        "token": key,
    }


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


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _client_for(operation, mode, context):
    headers = {"Accept": "application/json" if operation.api or operation.target == "mlflow" else "text/html"}
    if operation.target == "portal":
        if operation.api:
            headers["Authorization"] = f"Bearer {context['token']}"
        else:
            headers["Cookie"] = context["session_cookie"]
    return Client(context["ports"][operation.target], mode, headers)


def _row(operation, mode, latencies, failures, elapsed):
    return {
        "name": operation.name,
        "group": operation.group,
        "target": operation.target,
        "mode": mode,
        "compare": operation.compare,
        "n": len(latencies),
        "errors": len(failures),
        "first_error": failures[0] if failures else "",
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "max_ms": max(latencies) * 1000,
        "per_second": len(latencies) / elapsed,
        "target_p95_ms": TARGETS_MS.get(operation.group) if operation.target != "mlflow" else None,
        "target_per_second": TARGETS_PER_SECOND.get(operation.group),
        "note": operation.note,
    }


def measure_concurrently(operation, mode, context, limits):
    """``operation.clients`` threads, each on its own connection, send iterations until ``limits`` (iterations per
    client, seconds) run out, after one unrecorded warm-up iteration each. Each request is one sample, so the
    row's rate is requests per second through the server's workers."""
    count, seconds = limits
    numbers = iter(range(count * operation.clients))
    lock = threading.Lock()
    latencies, failures = [], []

    def send(client, iteration, record):
        for method, path, body in operation.requests(context, iteration):
            status, elapsed, content = client.send(method, path, body)
            if record:
                with lock:
                    latencies.append(elapsed)
                    if not 200 <= status < 300:
                        failures.append(f"{status} {method} {path}: {content[:200].decode(errors='replace')}")

    def work(number):
        client = _client_for(operation, mode, context)
        send(client, -1 - number, record=False)
        ready.wait()
        while time.perf_counter() - began < seconds:
            with lock:
                iteration = next(numbers, None)
            if iteration is None:
                break
            send(client, iteration, record=True)
        client.close()

    ready = threading.Event()
    threads = [threading.Thread(target=work, args=(number,)) for number in range(operation.clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    ready.set()
    for thread in threads:
        thread.join()
    return _row(operation, f"{operation.clients} clients", latencies, failures, time.perf_counter() - began)


def measure(operation, mode, context, limits):
    """Time ``operation`` up to ``limits`` (iterations, seconds) after two unrecorded warm-up iterations."""
    if operation.clients > 1:
        return measure_concurrently(operation, mode, context, limits)
    count, seconds = limits
    client = None
    if operation.target in ("portal", "mlflow"):
        client = _client_for(operation, mode, context)
    latencies, failures = [], []

    def once(iteration):
        started = time.perf_counter()
        if client is None:
            operation.call(context)
        else:
            for method, path, body in operation.requests(context, iteration):
                status, _, content = client.send(method, path, body)
                if not 200 <= status < 300:
                    failures.append(f"{status} {method} {path}: {content[:200].decode(errors='replace')}")
        return time.perf_counter() - started

    for warm_up in range(2):
        once(-1 - warm_up)
    failures.clear()
    began = time.perf_counter()
    for iteration in range(count):
        latencies.append(once(iteration))
        if time.perf_counter() - began > seconds:
            break
    elapsed = time.perf_counter() - began
    if client is not None:
        client.close()
    return _row(operation, mode if client is not None else "in process", latencies, failures, elapsed)


def measure_throughput(operation, context):
    """A row for an operation that drives the worker and measures itself: items per second from the trigger to the
    last item recorded, and percentiles of the per-item durations it recorded."""
    result = operation.call(context)
    durations = result["durations_ms"] or [0]
    failures = []
    if result["checked"] < result["due"]:
        failures.append(f"only {result['checked']} of {result['due']} checked in {result['seconds']:.0f} s")
    if result["probe_errors"]:
        failures.append(f"{result['probe_errors']} failed, first: {result['first_error'][:200]}")
    return {
        "name": operation.name,
        "group": operation.group,
        "target": operation.target,
        "mode": "2 processes",
        "compare": operation.compare,
        "n": result["checked"],
        "errors": len(failures),
        "first_error": "; ".join(failures),
        "p50_ms": statistics.median(durations),
        "p95_ms": percentile(durations, 0.95),
        "max_ms": max(durations),
        "per_second": result["checked"] / max(result["seconds"], 1e-3),
        "target_p95_ms": None,
        "target_per_second": TARGETS_PER_SECOND.get(operation.group),
        "seconds": result["seconds"],
        "note": operation.note,
    }


def comparisons(rows):
    """Portal / MLflow p50 and p95 per registry operation and client mode; below 1 means the portal is faster."""
    by_key = {}
    for row in rows:
        if row["compare"] and row["target"] in ("portal", "mlflow"):
            by_key.setdefault((row["compare"], row["mode"]), {})[row["target"]] = row
    result = []
    for (key, mode), pair in by_key.items():
        portal, mlflow = pair.get("portal"), pair.get("mlflow")
        result.append(
            {
                "operation": key,
                "mode": mode,
                "portal_p50_ms": portal and portal["p50_ms"],
                "mlflow_p50_ms": mlflow and mlflow["p50_ms"],
                "ratio_p50": portal and mlflow and portal["p50_ms"] / mlflow["p50_ms"],
                "ratio_p95": portal and mlflow and portal["p95_ms"] / mlflow["p95_ms"],
            }
        )
    portal_get = next(
        (r for r in rows if r["compare"] == "get model" and r["target"] == "portal" and r["mode"] == KEEPALIVE), None
    )
    floors = {
        "floor": "framework overhead: get model / one raw query (target ≤ 5)",
        "floor, same statements": "framework overhead: get model / the API's statements replayed raw",
    }
    for compare, label in floors.items():
        floor = next((r for r in rows if r["compare"] == compare), None)
        if floor and portal_get:
            result.append(
                {
                    "operation": label,
                    "mode": KEEPALIVE,
                    "portal_p50_ms": portal_get["p50_ms"],
                    "raw_p50_ms": floor["p50_ms"],
                    "ratio_p50": portal_get["p50_ms"] / floor["p50_ms"],
                }
            )
    return result


def memory_report(started):
    report = {name: services.tree_memory(service.process.pid) for name, service in started.items()}
    portal = [report[name] for name in ("gunicorn", "celery", "beat")]
    report["portal_total"] = {
        "rss_sum": sum(r["rss_sum"] for r in portal),
        "pss_sum": sum(r["pss_sum"] for r in portal),
        "processes": sum(r["processes"] for r in portal),
    }
    for entry in report.values():
        entry.pop("members", None)
    return report


def machine():
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kib = int(Path("/proc/meminfo").read_text().split()[1])
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        postgres = cursor.fetchone()[0]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgres": postgres,
    }


def print_table(result):
    rows = result["rows"]
    width = max(len(r["name"]) for r in rows)
    header = f"{'operation':<{width}}  {'target':<7} {'client':<15} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
    print(f"\n{header} {'per s':>7}  target")
    for r in rows:
        target = ""
        if r.get("target_per_second"):
            met = r["per_second"] >= r["target_per_second"]
            target = f"≥{r['target_per_second']}/s {'met' if met else 'MISSED'}"
        elif r["target_p95_ms"]:
            target = f"p95≤{r['target_p95_ms']} {'met' if r['p95_ms'] <= r['target_p95_ms'] else 'MISSED'}"
        if r["errors"]:
            target += f"  {r['errors']} errors, first: {r['first_error']}"
        print(
            f"{r['name']:<{width}}  {r['target']:<7} {r['mode']:<15} {r['n']:>4} {r['p50_ms']:>8.1f} "
            f"{r['p95_ms']:>8.1f} {r['max_ms']:>8.1f} {r['per_second']:>7.1f}  {target}"
        )
    print("\nportal / MLflow (below 1: portal faster; target ≤ 1, goal ≤ 0.5)")
    for c in result["comparisons"]:
        if "raw_p50_ms" in c:
            print(f"  {c['operation']}: {c['portal_p50_ms']:.2f} / {c['raw_p50_ms']:.2f} ms = {c['ratio_p50']:.1f}x")
        elif c["ratio_p50"]:
            print(
                f"  {c['operation']:<18} {c['mode']:<15} p50 {c['portal_p50_ms']:7.1f} / {c['mlflow_p50_ms']:7.1f} ms"
                f" = {c['ratio_p50']:.2f}   p95 ratio {c['ratio_p95']:.2f}"
            )
        else:
            side = "portal" if c["portal_p50_ms"] else "MLflow"
            print(f"  {c['operation']:<18} {c['mode']:<15} only {side} measured")
    print("\nmemory (MiB): RSS counts shared pages once per process, PSS splits them")
    for name, m in result["memory_after"].items():
        at_rest = result["memory_at_rest"][name]
        peak = f" largest worker peak {m['largest_peak']:.0f}" if "largest_peak" in m else ""
        print(
            f"  {name:<13} {m['processes']:>3} processes  at rest RSS {at_rest['rss_sum']:7.0f} PSS "
            f"{at_rest['pss_sum']:7.0f}   after RSS {m['rss_sum']:7.0f} PSS {m['pss_sum']:7.0f}{peak}"
        )


def _stop_on_sigterm(signum, frame):
    # Turned into an exception so that ``finally`` stops the servers, which run in their own sessions.
    raise SystemExit(f"stopped by signal {signum}")


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    var_dir = ROOT / "var" / "bench"
    env = portal_environment(args, var_dir)
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.generate import counts_for, parse_scale

    factor = parse_scale(args.scale)
    limits = LIMITS["full" if factor >= 0.5 else "small"]
    limits = (args.requests or limits[0], args.seconds or limits[1])
    print(f"Scale {factor:g} (seed {args.seed}): {counts_for(factor)}")
    phases = {}

    def phase(name, started):
        phases[name] = round(time.monotonic() - started, 1)
        print(f"{name}: {phases[name]} s", flush=True)
        return time.monotonic()

    started = {}
    http_source = None  # the probes' HTTP server, in this process
    (var_dir / "logs").mkdir(parents=True, exist_ok=True)
    clock = time.monotonic()
    try:
        start_mlflow(args, var_dir, started)
        generation_seconds = prepare_data(args, factor)
        clock = phase("database and data", clock)
        shutil.rmtree(var_dir / "data", ignore_errors=True)
        http_source = sweep.prepare_targets(args, var_dir / "data")
        clock = phase("probe targets", clock)
        call_command("collectstatic", interactive=False, verbosity=0)
        context = build_context(args)
        context["ports"] = {"portal": args.port, "mlflow": args.mlflow_port}
        clock = phase("static files and context", clock)
        start_portal(args, env, var_dir, started)
        clock = phase("servers started", clock)
        mlflow_counts = mlflow_store.load(f"{args.postgres}/{args.portal_db}", f"{args.postgres}/{args.mlflow_db}")
        print(f"MLflow loaded with {mlflow_counts['models']:,} models and {mlflow_counts['versions']:,} versions.")
        time.sleep(5)  # let the workers settle before reading memory "at rest"
        memory_at_rest = memory_report(started)
        clock = phase("MLflow loaded", clock)
        context["raw_cursor"] = connection.cursor().cursor
        context["get_model_statements"] = statements_of_get_model(context)
        # Other work on the machine slows every row alike; the load average says how busy it was.
        load_before = os.getloadavg()
        rows = []
        for operation in OPERATIONS:
            if args.only and args.only not in operation.name:
                continue
            # MLflow's 15 idle processes keep most of a core busy on their own: it runs only for the rows that
            # compare with it.
            started["mlflow"].pause(operation.group != "registry")
            if operation.target == "worker":
                print(f"  measuring {operation.name} (worker)", flush=True)
                rows.append(measure_throughput(operation, context))
                continue
            for mode in operation.modes:
                print(f"  measuring {operation.name} ({operation.target}, {mode})", flush=True)
                rows.append(measure(operation, mode, context, limits))
        started["mlflow"].pause(False)
        memory_after = memory_report(started)
        load_after = os.getloadavg()
        clock = phase("measured", clock)
    finally:
        for service in started.values():
            service.stop()
        if http_source is not None:
            http_source.shutdown()
    result = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])]),
        "scale": factor,
        "seed": args.seed,
        "counts": counts_for(factor),
        "generation_seconds": generation_seconds,
        "phase_seconds": phases,
        "limits": {"requests": limits[0], "seconds": limits[1]},
        "machine": machine(),
        "load_average_1_5_15": {"before": load_before, "after": load_after},
        "mlflow_loaded": mlflow_counts,
        "rows": rows,
        "comparisons": comparisons(rows),
        "memory_at_rest": memory_at_rest,
        "memory_after": memory_after,
    }
    print_table(result)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"bench-{datetime.now(UTC):%Y%m%dT%H%M%S}-scale{factor:g}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    print(f"\nload average (1, 5, 15 min) before {load_before}, after {load_after}")
    print(f"Wrote {path.relative_to(ROOT)}")
    failed = [r for r in rows if r["errors"]]
    return 1 if failed else 0
