"""Measuring one operation: a row of latencies (one client or several at once), or of a worker's throughput."""

import multiprocessing
import statistics
import threading
import time
from contextlib import contextmanager

from bench import sweep
from bench.client import Client
from bench.operations import KEEPALIVE, OPERATIONS, QUICKACK

# p95 targets from the issue, in milliseconds, by operation group.
TARGETS_MS = {
    "page": 150, "api": 150, "search": 100, "lineage": 250, "fanout": 5000, "load": 500, "mlops-monitoring": 30_000
}  # fmt: skip
# Throughput targets from the issue, per second (checks, events), by operation group.
TARGETS_PER_SECOND = {"sweep": sweep.TARGET_CHECKS_PER_SECOND, "ingest": 300, "dbt-import": 5000 / 60,
                      "mlops-ingest": 20_000}  # fmt: skip


def measure_all(context, limits, mlflow, only=""):
    """A row per operation (whose name contains ``only``, or one of its ``|``-separated parts) and client mode, in
    the order of ``OPERATIONS``."""
    rows = []
    wanted = [part for part in only.split("|") if part]
    for operation in OPERATIONS:
        if wanted and not any(part in operation.name for part in wanted):
            continue
        # MLflow's 15 idle processes keep most of a core busy on their own: it runs only for the rows that
        # compare with it.
        mlflow.pause(operation.group != "registry")
        if operation.target == "load":
            print(f"  measuring {operation.name}", flush=True)
            rows.extend(operation.call(context))
            continue
        if operation.target == "worker":
            print(f"  measuring {operation.name} (worker)", flush=True)
            with readers_running(context, operation.busy) as readers:
                rows.append(measure_throughput(operation, context))
            _note_readers(rows[-1], readers)
            continue
        for mode in operation.modes:
            print(f"  measuring {operation.name} ({operation.target}, {mode})", flush=True)
            with readers_running(context, operation.busy) as readers:
                row = measure(operation, mode, context, limits)
            _note_readers(row, readers)
            if operation.first_byte_ms:
                rows.append(row.pop("first_byte_row"))
                _note_readers(rows[-1], readers)
            rows.append(row)
    mlflow.pause(False)
    return rows


# What the busy rows' readers browse, each in its own process (the load generator's threads would share one core).
BUSY_READERS = 4
BUSY_PAGES = (
    "/", "/catalog/", "/catalog/report/{report}/", "/search/?q=orders", "/models/{model}/", "/monitoring/", "/inbox/",
)  # fmt: skip


def _read_pages(port, cookie, paths, stop, counts):
    client = Client(port, KEEPALIVE, {"Accept": "text/html", "Cookie": cookie})
    number = 0
    while not stop.is_set():
        status, _, _ = client.send("GET", paths[number % len(paths)])
        number += 1
        with counts.get_lock():
            counts[0] += 1
            counts[1] += status >= 400
    client.close()


@contextmanager
def readers_running(context, busy):
    """With ``busy``: ``BUSY_READERS`` processes read pages as fast as the portal answers while the block runs.
    Yields ``{"pages": n, "errors": n}`` (filled in when the block ends)."""
    result = {}
    if not busy:
        yield result
        return
    paths = [path.format(**context) for path in BUSY_PAGES]
    stop, counts = multiprocessing.Event(), multiprocessing.Array("l", 2)
    readers = [
        multiprocessing.Process(
            target=_read_pages, args=(context["ports"]["portal"], context["session_cookie"], paths, stop, counts)
        )
        for _ in range(BUSY_READERS)
    ]
    for reader in readers:
        reader.start()
    try:
        yield result
    finally:
        stop.set()
        for reader in readers:
            reader.join(timeout=60)
        result.update(pages=counts[0], errors=counts[1])


def _note_readers(row, readers):
    if readers:
        row["note"] = (
            f"{row['note']} (meanwhile {BUSY_READERS} readers: {readers['pages']} pages, {readers['errors']} errors)"
        )
        if readers["errors"]:
            row["errors"] += readers["errors"]
            row["first_error"] = row["first_error"] or f"{readers['errors']} reader pages failed"


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _client_for(operation, mode, context):
    headers = {"Accept": "application/json" if operation.api or operation.target == "mlflow" else "text/html"}
    if operation.target == "portal":
        if operation.api:
            headers["Authorization"] = f"Bearer {context['token']}"
        else:
            headers["Cookie"] = context["reader_session_cookie" if operation.reader else "session_cookie"]
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
        "per_second": len(latencies) * operation.rows / elapsed,
        "target_p95_ms": (operation.target_ms or TARGETS_MS.get(operation.group))
        if operation.target != "mlflow"
        else None,
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
                        failures.append(_failure(status, method, path, content))

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
    label = f"{operation.clients} clients" + (", quick ACK" if mode == QUICKACK else "")
    return _row(operation, label, latencies, failures, time.perf_counter() - began)


def measure(operation, mode, context, limits):
    """Time ``operation`` up to ``limits`` (iterations, seconds) after two unrecorded warm-up iterations."""
    if operation.clients > 1:
        return measure_concurrently(operation, mode, context, limits)
    count, seconds = limits
    client = None
    if operation.target in ("portal", "mlflow"):
        client = _client_for(operation, mode, context)
    latencies, failures, first_bytes = [], [], []
    for warm_up in range(2):
        _once(operation, context, client, -1 - warm_up, failures)
    failures.clear()
    began = time.perf_counter()
    for iteration in range(count):
        latencies.append(_once(operation, context, client, iteration, failures))
        if client is not None:
            first_bytes.append(client.first_byte_seconds)
        if time.perf_counter() - began > seconds:
            break
    elapsed = time.perf_counter() - began
    if client is not None:
        client.close()
    row = _row(operation, mode if client is not None else "in process", latencies, failures, elapsed)
    if operation.first_byte_ms:
        # The same requests, timed to the first piece of the body: what someone downloading sees start.
        first = _row(operation, mode, first_bytes, failures, elapsed)
        first.update(
            name=f"{operation.name}: first byte",
            target_p95_ms=operation.first_byte_ms,
            note="from the request sent to the first piece of the body (the first hop's rows)",
        )
        row["first_byte_row"] = first
    return row


def _once(operation, context, client, iteration, failures):
    """Seconds for one iteration: an in-process call without ``client``, else the operation's requests over it."""
    started = time.perf_counter()
    if client is None:
        operation.call(context)
    else:
        for method, path, body in operation.requests(context, iteration):
            status, _, content = client.send(method, path, body)
            if not 200 <= status < 300:
                failures.append(_failure(status, method, path, content))
    return time.perf_counter() - started


def _failure(status, method, path, content):
    return f"{status} {method} {path}: {content[:200].decode(errors='replace')}"


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
        "mode": result.get("mode", "2 processes"),
        "compare": operation.compare,
        "n": result["checked"],
        "errors": len(failures),
        "first_error": "; ".join(failures),
        "p50_ms": statistics.median(durations),
        "p95_ms": percentile(durations, 0.95),
        "max_ms": max(durations),
        "per_second": result["checked"] / max(result["seconds"], 1e-3),
        "target_p95_ms": TARGETS_MS.get(operation.group),
        "target_per_second": TARGETS_PER_SECOND.get(operation.group),
        "seconds": result["seconds"],
        "note": operation.note,
    }
