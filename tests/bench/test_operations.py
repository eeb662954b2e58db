"""The benchmark's list of operations and its summary: rows a maintainer adds must fit the context it builds."""

import http.server
import json
import string
import threading
from dataclasses import replace

import pytest

from bench.measure import measure_concurrently, measure_throughput, percentile
from bench.operations import CONTEXT_KEYS, FRESH, KEEPALIVE, OPERATIONS, QUICKACK, Operation, _lineage_drain
from bench.report import comparisons
from catalog.models import DataSource, LineageEvent, PipelineRun
from catalog.openlineage import parse
from tests import factories

CONTEXT = {key: f"value-{key}" for key in CONTEXT_KEYS} | {"version_number": 3, "hub_id": 1}


@pytest.mark.parametrize(
    "operation", [op for op in OPERATIONS if op.target in ("portal", "mlflow")], ids=lambda op: op.name
)
def test_every_request_is_a_loopback_path_filled_from_the_context(operation):
    placeholders = {name for _, name, _, _ in string.Formatter().parse(operation.path) if name}
    assert placeholders <= set(CONTEXT_KEYS)
    for method, path, _ in operation.requests(CONTEXT, 0):
        assert method in {"GET", "POST"}
        assert path.startswith("/") and "{" not in path


def test_every_comparison_pairs_a_portal_row_with_an_mlflow_row():
    sides = {}
    for operation in OPERATIONS:
        if operation.compare and not operation.compare.startswith("floor") and operation.target in ("portal", "mlflow"):
            sides.setdefault(operation.compare, set()).add(operation.target)
    assert set(sides) == {
        "get model", "get version", "search models", "search versions", "create", "get model, 8", "get version, 8"
    }  # fmt: skip
    assert all(targets == {"portal", "mlflow"} for targets in sides.values())
    # The stack's floor (/health/ through gunicorn) is measured beside get model, never paired with MLflow.
    assert [op.target for op in OPERATIONS if op.compare == "floor, health"] == ["portal"]


def test_the_portal_creates_a_model_then_its_versions_under_the_name_it_chose():
    create = next(op for op in OPERATIONS if op.compare == "create" and op.target == "portal")
    steps = create.requests(CONTEXT, 0)
    (method, path, body), versions = steps[0], steps[1:]
    assert (method, path) == ("POST", "/api/v1/models/")
    assert len(versions) == 5
    assert {path for _, path, _ in versions} == {f"/api/v1/models/{body['name']}/versions/"}


def _row(target, compare, mode, p50, p95, per_second=None):
    per_second = per_second if per_second is not None else 1000 / p50
    return {"target": target, "compare": compare, "mode": mode, "p50_ms": p50, "p95_ms": p95, "per_second": per_second}


def test_ratios_are_portal_over_mlflow_in_the_same_client_mode_and_the_floor_is_against_raw_sql():
    rows = [
        _row("portal", "get model", KEEPALIVE, 20, 30),
        _row("mlflow", "get model", KEEPALIVE, 60, 60),
        _row("portal", "get model", FRESH, 20, 30),
        _row("mlflow", "get model", FRESH, 10, 15),
        _row("mlflow", "get model", QUICKACK, 15, 20),
        _row("portal", "get model, 8", "8 clients", 40, 50, per_second=200),
        _row("mlflow", "get model, 8", "8 clients", 30, 40, per_second=100),
        _row("python", "floor", "in process", 2, 3),
        _row("python", "floor, same statements", "in process", 5, 6),
        _row("portal", "floor, health", KEEPALIVE, 4, 5),
    ]

    summary = {(c["operation"], c["mode"]): c for c in comparisons(rows)}

    # Kept alive, the portal is compared with MLflow's faster behaviour (quick ACK here), named.
    assert summary["get model", KEEPALIVE]["ratio_p50"] == pytest.approx(20 / 15)
    assert summary["get model", KEEPALIVE]["mlflow_mode"] == QUICKACK
    assert summary["get model", FRESH]["ratio_p50"] == pytest.approx(2)
    # With 8 clients: MLflow's requests per second over the portal's (below 1: the portal serves more).
    assert summary["get model, 8", "8 clients"]["ratio_throughput"] == pytest.approx(0.5)
    floors = sorted(c["ratio_p50"] for c in summary.values() if "raw_p50_ms" in c)
    assert floors == [pytest.approx(4), pytest.approx(5), pytest.approx(10)]


def test_percentiles_pick_a_measured_value():
    values = list(range(1, 101))
    assert percentile(values, 0.5) in (50, 51)
    assert percentile(values, 0.95) == 95
    assert percentile([7], 0.95) == 7


def test_the_sweep_row_reports_checks_per_second_against_its_target_and_what_went_wrong():
    sweep = next(op for op in OPERATIONS if op.group == "sweep")
    measured = {"due": 4, "checked": 3, "seconds": 0.5, "durations_ms": [10, 20, 30],
                "probe_errors": 1, "first_error": "PostgreSQL refused the query"}  # fmt: skip

    row = measure_throughput(replace(sweep, call=lambda context: measured), CONTEXT)

    assert row["per_second"] == pytest.approx(6)
    assert row["target_per_second"] == 100
    assert row["p50_ms"] == 20 and row["max_ms"] == 30
    assert row["errors"] == 2
    assert "only 3 of 4 checked" in row["first_error"] and "PostgreSQL refused" in row["first_error"]


@pytest.mark.django_db(transaction=True)
def test_the_worker_row_queues_runs_and_times_the_worker_recording_them(celery_worker, owner):
    source = factories.source("Warehouse", owner=owner)
    DataSource.objects.filter(pk=source.pk).update(namespace="postgres://warehouse:5432")
    context = CONTEXT | {
        "owner": owner.username,
        "openlineage_namespace": "postgres://warehouse:5432",
        "openlineage_tables": "t1 t2 t3 t4",
        "openlineage_jobs": "load_a load_b",
    }
    assert next(op for op in OPERATIONS if op.group == "ingest-worker").call.__name__ == "_lineage_drain"
    measured = _lineage_drain(context, runs=20)
    assert (measured["due"], measured["checked"], measured["probe_errors"]) == (40, 40, 0)
    assert PipelineRun.objects.filter(state="complete").count() == 20 and not LineageEvent.objects.exists()


def test_an_openlineage_run_is_a_start_then_a_complete_the_portal_accepts():
    ingest_row = next(op for op in OPERATIONS if op.group == "ingest")
    context = CONTEXT | {"openlineage_tables": "t1 t2 t3 t4", "openlineage_jobs": "load_a load_b"}
    first, again = ingest_row.requests(context, 10), ingest_row.requests(context, 12)
    events = [parse(body) for _, _, body in first]
    assert [event["state"] for event in events] == ["running", "complete"]
    assert events[0]["run_id"] == events[1]["run_id"] != parse(again[0][2])["run_id"]
    assert [ref.name for ref in events[0]["inputs"]] == ["t1", "t2"]
    assert (events[1]["outputs"][0].name, events[1]["outputs"][0].row_count > 0) == ("t3", True)
    assert events[1]["outputs"][1].columns  # every tenth run writes a new table, with its schema
    assert len(parse(again[0][2])["outputs"]) == 1
    assert {path for _, path, _ in first} == {"/api/v1/lineage"}


def test_concurrent_clients_send_every_iteration_once_and_count_each_request():
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            seen.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        operation = Operation(
            "two posts per iteration",
            "ingest",
            "portal",
            build=lambda context, iteration: [("POST", "/in", {"i": iteration, "step": step}) for step in (1, 2)],
            api=True,
            clients=3,
        )
        context = {"ports": {"portal": server.server_address[1]}, "token": "secret"}
        row = measure_concurrently(operation, KEEPALIVE, context, (4, 60))
    finally:
        server.shutdown()
    measured = sorted(body["i"] for body in seen if body["i"] >= 0 and body["step"] == 1)
    assert measured == list(range(12))  # 4 iterations per client, each sent once
    assert (row["n"], row["errors"], row["mode"]) == (24, 0, "3 clients")
    assert row["per_second"] > 0


CONTEXT_READER = {**CONTEXT, "session_cookie": "sessionid=owner", "reader_session_cookie": "sessionid=reader"}


@pytest.mark.django_db
def test_the_reader_row_signs_in_as_a_reader_who_watches_200_assets_and_owns_nothing():
    from bench.measure import _client_for
    from bench.run import READER_WATCHES, reader_watching
    from catalog.models import Watch

    row = next(op for op in OPERATIONS if op.reader)
    assert row.path == "/" and "200" in row.name
    client = _client_for(row, KEEPALIVE, {**CONTEXT_READER, "ports": {"portal": 1}})
    assert client.headers["Cookie"] == CONTEXT_READER["reader_session_cookie"]
    for index in range(5):
        factories.report(f"Report {index}")
    reader = reader_watching(3)
    assert Watch.objects.filter(user=reader).count() == 3 and not reader.owned_assets.exists()
    assert reader_watching(3) == reader and Watch.objects.filter(user=reader).count() == 3  # reused, not doubled
    assert READER_WATCHES == 200


def test_issue_15s_rows_are_in_the_main_table_with_their_targets(capsys):
    """The fan-out from the largest hub (computed and stored within 5 s) and the home of a reader watching 200
    assets (p95 within 150 ms) are rows of ``make bench``'s table, each printed with its target."""
    from bench.measure import _row
    from bench.report import print_table

    by_name = {operation.name: operation for operation in OPERATIONS}
    fan_out = by_name["notification fan-out from the largest hub"]
    home = by_name["home of a reader with 200 watched assets"]
    assert fan_out.target == "python" and fan_out.call is not None
    assert home.reader and home.path == "/"
    rows = [_row(fan_out, "in process", [4.2, 6.1], [], 10.3), _row(home, KEEPALIVE, [0.09, 0.12], [], 0.21)]
    assert [row["target_p95_ms"] for row in rows] == [5000, 150]
    print_table({"rows": rows, "comparisons": [], "memory_after": {}, "memory_at_rest": {}})
    printed = {line.split("  ")[0].strip(): line for line in capsys.readouterr().out.splitlines() if "  " in line}
    assert printed["notification fan-out from the largest hub"].endswith("p95≤5000 MISSED")
    assert printed["home of a reader with 200 watched assets"].endswith("p95≤150 met")


def test_issue_19s_rows_are_in_the_main_table_with_their_targets(capsys):
    """Prediction ingest (at least 20,000 rows/s in batches of 1,000), the monitoring job (within 30 s for a day of
    1,000,000 predictions at full scale) and the monitoring page (p95 within 150 ms) are rows of ``make bench``."""
    from bench.measure import _row
    from bench.report import print_table

    by_group = {operation.group: operation for operation in OPERATIONS}
    ingest, job = by_group["mlops-ingest"], by_group["mlops-monitoring"]
    page = next(op for op in OPERATIONS if op.path == "/mlops/{mlops_model}/")
    measured = {"due": 20_000, "checked": 20_000, "seconds": 1.5, "durations_ms": [1500], "probe_errors": 0,
                "first_error": "", "mode": "in process"}  # fmt: skip
    rows = [
        _row(ingest, KEEPALIVE, [0.04, 0.05], [], 0.1),  # two batches of 1,000 in 0.1 s: 20,000 rows/s
        measure_throughput(replace(job, call=lambda context: measured), CONTEXT),
        _row(page, KEEPALIVE, [0.09, 0.2], [], 0.3),
    ]
    assert rows[0]["per_second"] == pytest.approx(20_000) and rows[0]["target_per_second"] == 20_000
    assert rows[1]["target_p95_ms"] == 30_000 and rows[1]["mode"] == "in process"
    assert rows[2]["target_p95_ms"] == 150
    print_table({"rows": rows, "comparisons": [], "memory_after": {}, "memory_at_rest": {}})
    printed = {line.split("  ")[0].strip(): line for line in capsys.readouterr().out.splitlines() if "  " in line}
    assert printed[ingest.name].endswith("≥20000/s met")
    assert printed[job.name].endswith("p95≤30000 met")
    assert printed[page.name].endswith("p95≤150 MISSED")


@pytest.mark.django_db
def test_an_ingest_batch_is_1000_new_predictions_the_api_accepts(owner):
    from mlops.models import Prediction
    from registry.models import ModelVersion
    from tests.registry.helpers import model_with_card

    model, version = model_with_card(owner)
    ModelVersion.objects.filter(pk=version.pk).update(features=["tenure", "orders", "segment"])
    ingest = next(op for op in OPERATIONS if op.group == "mlops-ingest")
    context = CONTEXT | {"mlops_model": model.asset.slug, "mlops_version": version.version}
    client = factories.api_client(owner)
    for iteration in (0, 1):
        ((method, path, body),) = ingest.requests(context, iteration)
        response = client.generic(method, path, json.dumps(body), content_type="application/json")
        assert response.status_code == 201, response.content[:300]
        assert response.json() == {"accepted": 1000, "rejected": []}
    assert Prediction.objects.filter(version=version).count() == 2000


def test_a_row_after_one_that_leaves_the_worker_work_waits_for_an_idle_worker(monkeypatch):
    """The OpenLineage row queues 800 events for the worker: the row after it is measured once they are recorded,
    not beside them. ``--only`` takes several names separated by ``|``."""
    from types import SimpleNamespace

    from bench import measure

    measured = []

    def operation(name, group):
        return SimpleNamespace(name=name, group=group, target="load", call=lambda context: measured.append(name) or [])

    rows = [("home", "page"), ("OpenLineage", "ingest"), ("get model", "registry"), ("inbox", "page")]
    monkeypatch.setattr(measure, "OPERATIONS", [operation(name, group) for name, group in rows])
    settled = []
    mlflow = SimpleNamespace(pause=lambda paused: None)
    measure.measure_all({}, None, mlflow, settle=lambda: settled.append(list(measured)) or 0)
    # Before "get model" (after the ingest row) and before "inbox" (after a registry row, whose writes sync).
    assert settled == [["home", "OpenLineage"], ["home", "OpenLineage", "get model"]]
    measured.clear()
    measure.measure_all({}, None, mlflow, only="home|inbox", settle=lambda: 0)
    assert measured == ["home", "inbox"]
