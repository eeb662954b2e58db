"""The benchmark's summary: the portal / MLflow ratios, memory, the machine, the printed table and the JSON file."""

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

from bench import services
from bench.operations import KEEPALIVE, QUICKACK

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def comparisons(rows):
    """Portal / MLflow p50 and p95 per registry operation and client mode; below 1 means the portal is faster. With
    several clients, also MLflow's requests per second over the portal's (below 1: the portal serves more).

    MLflow's kept-alive rows come in two behaviours (with and without the client's delayed ACKs, see
    ``bench.operations.QUICKACK``): the portal's keep-alive row is compared with the faster of the two, named."""
    by_key = {}
    for row in rows:
        if row["compare"] and not row["compare"].startswith("floor") and row["target"] in ("portal", "mlflow"):
            mode = row["mode"].replace(", quick ACK", "") if row["mode"] != QUICKACK else KEEPALIVE
            pair = by_key.setdefault((row["compare"], mode), {})
            best = pair.get(row["target"])
            if best is None or row["p50_ms"] < best["p50_ms"]:
                pair[row["target"]] = row
    result = []
    for (key, mode), pair in by_key.items():
        portal, mlflow = pair.get("portal"), pair.get("mlflow")
        result.append(
            {
                "operation": key,
                "mode": mode,
                "mlflow_mode": mlflow and mlflow["mode"],
                "portal_p50_ms": portal and portal["p50_ms"],
                "mlflow_p50_ms": mlflow and mlflow["p50_ms"],
                "ratio_p50": portal and mlflow and portal["p50_ms"] / mlflow["p50_ms"],
                "ratio_p95": portal and mlflow and portal["p95_ms"] / mlflow["p95_ms"],
                "ratio_throughput": portal and mlflow and mlflow["per_second"] / portal["per_second"],
            }
        )
    portal_get = next(
        (r for r in rows if r["compare"] == "get model" and r["target"] == "portal" and r["mode"] == KEEPALIVE), None
    )
    floors = {
        "floor": "framework overhead: get model / one raw query (target ≤ 5)",
        "floor, same statements": "framework overhead: get model / the API's statements replayed raw (target ≤ 3)",
        "floor, health": "get model / /health/ through the same stack",
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
    """Memory of each service's process tree, and of the portal's three together."""
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
                f" = {c['ratio_p50']:.2f}   p95 ratio {c['ratio_p95']:.2f}   throughput ratio "
                f"{c['ratio_throughput']:.2f}   (MLflow {c['mlflow_mode']})"
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


def write(result):
    """Save ``result`` as JSON under ``bench/results/``; returns the path written."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"bench-{datetime.now(UTC):%Y%m%dT%H%M%S}-scale{result['scale']:g}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    return path
