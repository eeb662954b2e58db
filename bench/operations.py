"""What the benchmark measures, as data: one ``Operation`` per row of the result table.

To add a row after a merge (OpenLineage ingest, trust pages), append an ``Operation`` here:
``page("freshness board", "/monitoring/freshness/")`` or ``api(...)`` for a GET, ``Operation(..., build=...)``
for a sequence of requests (see ``_mlflow_create``), or ``Operation(..., call=...)`` for a function timed inside
the benchmark process (see ``_walk_hub``). Paths are templates filled from the context that ``bench.run`` builds
from the generated data (``{dataset}``, ``{hub}``, ``{model}`` …; the keys are listed in ``CONTEXT_KEYS``).

``compare`` pairs a portal row with an MLflow row measured in the same run; the table reports their ratio.
"""

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from urllib.parse import quote

# Filled by ``bench.run.build_context``; listed here so a new row knows what it may use.
CONTEXT_KEYS = [
    "dataset",
    "hub",
    "hub_id",
    "report",
    "pipeline",
    "source",
    "model",
    "model_name",
    "model_prefix",
    "version_uuid",
    "version_number",
    "team",
    "owner",
    "openlineage_namespace",  # a generated source's OpenLineage namespace
    "openlineage_tables",  # qualified names of datasets in that source, separated by spaces
    "openlineage_jobs",  # names of generated pipelines (job namespace "airflow"), separated by spaces
    "wide_dataset",  # a dataset of 200 columns, each with a source and a reader (column lineage)
    "scale",  # the scale factor of the run (1 = full)
    "mlops_model",  # the model in use whose predictions are generated (bench.generate.mlops), owned by "owner"
    "mlops_version",  # its version in use
]

KEEPALIVE, FRESH = "keep-alive", "new connection"
# Kept alive, with the client acknowledging every answer at once (TCP_QUICKACK): a server that writes an answer in
# two pieces without TCP_NODELAY (MLflow's) otherwise waits for the client's delayed ACK, 40 ms, on every request.
QUICKACK = "keep-alive, quick ACK"
SEARCH_QUERIES = ["orders", "churn", "fct_payments", "customer", "finance"]


@dataclass(frozen=True)
class Operation:
    """One measured operation: an HTTP request (or several) against a target, or a function call."""

    name: str
    group: str
    # "portal" (session cookie or token), "mlflow", "python" (timed in the benchmark process), "worker" (``call``
    # drives the Celery worker and returns what it measured: see ``bench.measure.measure_throughput``), or "load"
    # (``call`` runs many people at once and returns its own rows: ``bench.load``)
    target: str
    path: str = ""
    method: str = "GET"
    build: object = None  # (context, iteration) -> [(method, path, json body or None), ...]
    call: object = None  # (context) -> None, for target "python"; (context) -> measurements, for "worker"
    compare: str = ""
    modes: tuple = (KEEPALIVE,)
    api: bool = False  # portal rows: authenticate with the API token instead of the session cookie
    note: str = ""
    clients: int = 1  # more than one: that many threads send at once, and the row times each request
    reader: bool = False  # portal pages: signed in as a reader who owns nothing and watches 200 assets
    busy: bool = False  # measured while readers browse the pages at the same time (bench.measure.readers_running)
    target_ms: int = 0  # the p95 target, when it is not the group's (bench.measure.TARGETS_MS)
    # Above 0: a second row reports the time to the first byte of the body (a streamed answer), with this p95 target
    first_byte_ms: int = 0
    rows: int = 1  # items each iteration sends (a batch of predictions): the row's rate counts items, not requests

    def requests(self, context, iteration):
        if self.build is not None:
            return self.build(context, iteration)
        return [(self.method, self.path.format(**context), None)]


def page(name, path, group="page", **options):
    return Operation(name, group, "portal", path, **options)


def api(name, path, group="api", **options):
    return Operation(name, group, "portal", path, api=True, **options)


def _walk_hub(context):
    from catalog.lineage import walk

    found = walk([context["hub_id"]], direction="down", max_depth=10)
    if not found:
        raise AssertionError("the hub has no descendants: the generated lineage is wrong")


def _fan_out_hub(context):
    """What the worker does for one problem on the largest hub (``trust.downstream.fan_out``): walk ten hops down
    with a path for each asset, find every owner and watcher, and compute and store one grouped message per person
    (inbox rows, digest rows, delivery rows; emails built and handed to a backend that drops them). The problem and
    its transition row are written directly, so the bench's own worker does not take the notice first."""
    from django.test import override_settings

    from trust import downstream
    from trust.models import ProblemNotice, UpstreamProblem

    problem = UpstreamProblem.objects.create(
        asset_id=context["hub_id"], cause_kind="bench", cause_key=uuid.uuid4().hex, summary="critical issue 'Bench'",
        critical=True,
    )  # fmt: skip
    notice = ProblemNotice.objects.create(problem=problem, transition="started")
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        told = downstream.fan_out(notice.pk)
    if not told:
        raise AssertionError("nobody downstream of the hub was told: the generated owners or lineage are wrong")


def _deprecate_hub(context, tell=False):
    """Deprecating the largest hub, rolled back after: the request's part (``Deprecation.propose``: the lifecycle,
    the 39,000 impact rows, the declared consumers told), or with ``tell`` also the worker's part
    (``Deprecation.tell``: one grouped message per person downstream, emails handed to a backend that drops them)."""
    from django.db import transaction
    from django.test import override_settings
    from django.utils import timezone

    from catalog.models import Asset
    from trust.models import Deprecation

    hub = Asset.objects.select_related("owner").get(pk=context["hub_id"])
    with transaction.atomic():
        deprecation = Deprecation.propose(
            hub, by=hub.owner, reason="Bench.", sunset_date=timezone.localdate() + timedelta(days=30)
        )
        if tell:
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
                if not Deprecation.tell(deprecation.pk, "announced"):
                    raise AssertionError("the deprecation was not told")
        transaction.set_rollback(True)


def _load(context):
    from bench import load

    return load.measure(context)


def _freshness_sweep(context):
    from bench import sweep

    return sweep.measure(context)


def _lineage_drain(context, runs=1000):
    """The worker's side of OpenLineage ingest: ``runs`` runs (START + COMPLETE each) queued at once, as the
    endpoint queues them, and the clock stops when the worker has recorded every one."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from catalog.models import LineageEvent
    from catalog.tasks import ingest_lineage_events

    user = get_user_model().objects.get(username=context["owner"])
    events = [body for n in range(runs) for _, _, body in _openlineage_run(context, 100_000 + n)]
    LineageEvent.objects.bulk_create([LineageEvent(payload=event, received_by=user) for event in events])
    triggered = timezone.now()
    started = time.monotonic()
    ingest_lineage_events.delay()
    deadline = started + max(60, 10 * len(events) / 300)
    waiting = LineageEvent.objects.filter(error="")
    while waiting.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    seconds = time.monotonic() - started
    failed = LineageEvent.objects.exclude(error="").filter(received_at__gte=triggered)
    first = failed.values_list("error", flat=True).first()
    return {
        "due": len(events),
        "checked": len(events) - waiting.count() - failed.count(),
        "seconds": seconds,
        "durations_ms": [],
        "probe_errors": failed.count(),
        "first_error": first or "",
    }


def _dbt_import(context):
    """A generated dbt project of 5,000 models (times the scale), imported the first time into a new source."""
    from bench.generate.dbt import import_generated

    models = max(50, int(5000 * context["scale"]))
    started = time.monotonic()
    summary = import_generated(models, database=f"bench_{uuid.uuid4().hex[:8]}")
    seconds = time.monotonic() - started
    return {
        "due": models,
        "checked": len([name for name in summary.created if ".marts." in name]),
        "seconds": seconds,
        "durations_ms": [seconds * 1000],
        "probe_errors": 0,
        "first_error": "",
    }


def _raw_get_model(context):
    """The floor: the same lookup as the model API, by hand, on one open psycopg2 connection."""
    cursor = context["raw_cursor"]
    cursor.execute(
        "SELECT a.id, a.uuid, a.name, a.slug, a.description, a.lifecycle, a.updated_at, m.summary, m.goal, "
        "m.users_description, m.mlflow_name, u.username, t.slug "
        "FROM registry_registeredmodel m JOIN catalog_asset a ON a.id = m.asset_id "
        "LEFT JOIN auth_user u ON u.id = a.owner_id LEFT JOIN accounts_team t ON t.id = a.team_id "
        "WHERE a.kind = 'model' AND a.slug = %s",
        [context["model"]],
    )
    if cursor.fetchone() is None:
        raise AssertionError("the model is missing")


def _replay_get_model(context):
    """The API's own database work without the framework: the statements it ran, captured once, replayed."""
    cursor = context["raw_cursor"]
    for statement in context["get_model_statements"]:
        cursor.execute(statement)
        if cursor.description is not None:  # the token's "last used" UPDATE returns no rows
            cursor.fetchall()


def _portal_create(context, iteration):
    """The portal's side of ``_mlflow_create``: a model through the API, then five versions of it."""
    name = f"bench-created-{uuid.uuid4().hex[:12]}"
    steps = [("POST", "/api/v1/models/", {"name": name})]
    for number in range(1, 6):
        steps.append(("POST", f"/api/v1/models/{name}/versions/", {"model_uri": f"s3://models/{name}/{number}"}))
    return steps


def _mlflow_create(context, iteration):
    """A new registered model and five versions, the way a training pipeline registers them."""
    name = f"bench-created-{uuid.uuid4().hex[:12]}"
    steps = [("POST", "/api/2.0/mlflow/registered-models/create", {"name": name})]
    for number in range(1, 6):
        # A remote source: MLflow refuses a local path unless it belongs to a run of its own.
        body = {"name": name, "source": f"s3://models/{name}/{number}"}
        steps.append(("POST", "/api/2.0/mlflow/model-versions/create", body))
    return steps


def _mlflow_get(path):
    def build(context, iteration):
        return [
            ("GET", path.format(**{k: quote(str(v)) for k, v in context.items() if isinstance(v, str | int)}), None)
        ]

    return build


def _mlflow_search_prefix(context, iteration):
    query = quote(f"name LIKE '{context['model_prefix']}%'")
    return [("GET", f"/api/2.0/mlflow/registered-models/search?filter={query}&max_results=50", None)]


def _mlflow_search_versions(context, iteration):
    query = quote(f"name='{context['model_name']}'")
    return [("GET", f"/api/2.0/mlflow/model-versions/search?filter={query}&max_results=50", None)]


def _openlineage_run(context, iteration):
    """One pipeline run as an OpenLineage client reports it: START, then COMPLETE with output statistics.

    A generated job reads two generated tables and writes a third, the same ones at every run; every tenth run also
    writes a table the catalog has never seen, with a schema facet, so ingestion creates a dataset and its columns.
    """
    tables, jobs = context["openlineage_tables"].split(), context["openlineage_jobs"].split()
    namespace = context["openlineage_namespace"]
    run_id = str(uuid.uuid4())
    job = iteration % len(jobs)  # each job reads and writes the same tables at every run
    inputs = [{"namespace": namespace, "name": tables[(job * 3 + k) % len(tables)]} for k in range(2)]
    outputs = [{"namespace": namespace, "name": tables[(job * 3 + 2) % len(tables)]}]
    if iteration % 10 == 0:
        columns = [("id", "bigint"), ("amount", "numeric(12,2)"), ("loaded_at", "timestamp")]
        schema = {"fields": [{"name": name, "type": kind} for name, kind in columns]}
        outputs.append({"namespace": namespace, "name": f"bench.created_{run_id[:12]}", "facets": {"schema": schema}})
    started = datetime.now(UTC)
    statistics = {"outputStatistics": {"rowCount": 1000 + iteration % 97, "size": 120_000}}

    def event(event_type, at, outputs):
        return {
            "eventType": event_type,
            "eventTime": at.isoformat(),
            "run": {"runId": run_id},
            "job": {"namespace": "airflow", "name": jobs[job]},
            "inputs": inputs,
            "outputs": outputs,
            "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.0.0/integration/airflow",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        }

    completed = [{**output, "outputFacets": statistics} for output in outputs]
    return [
        ("POST", "/api/v1/lineage", event("START", started, outputs)),
        ("POST", "/api/v1/lineage", event("COMPLETE", started + timedelta(minutes=5), completed)),
    ]


INGEST_BATCH = 1000
_INGEST_RUN = uuid.uuid4().hex[:8]  # prediction ids unique across runs on reused data


def _prediction_batch(context, iteration):
    """1,000 predictions as a client logs them (a JSON array; JSON lines, CSV and Parquet go the same way)."""
    import random

    rng = random.Random(iteration)
    when = datetime.now(UTC) - timedelta(minutes=5)
    rows = [
        {"id": f"bench-{_INGEST_RUN}-{iteration}-{n}", "time": (when - timedelta(seconds=n)).isoformat(),
         "features": {"tenure": rng.randint(1, 72), "orders": rng.randint(0, 12),
                      "segment": rng.choice(("consumer", "business", "public"))},
         "prediction": rng.randint(0, 1), "score": round(rng.random(), 6)}
        for n in range(INGEST_BATCH)
    ]  # fmt: skip
    path = f"/api/v1/models/{context['mlops_model']}/versions/{context['mlops_version']}/predictions/"
    return [("POST", path, rows)]


def _monitoring_job(context):
    """The monitoring job's work for the generated model in use, in process: every check over its last day."""
    from mlops.monitoring import monitor_model
    from registry.models import RegisteredModel

    model = RegisteredModel.objects.select_related("asset").get(asset__slug=context["mlops_model"])
    started = time.monotonic()
    summary = monitor_model(model)
    seconds = time.monotonic() - started
    return {
        "due": summary["rows"],
        "checked": summary["rows"],
        "seconds": seconds,
        "durations_ms": [seconds * 1000],
        "probe_errors": 0 if summary["rows"] else 1,
        "first_error": "" if summary["rows"] else "no predictions in the window: the generated data is wrong",
        "mode": "in process",
    }


BOTH = (KEEPALIVE, FRESH)
# MLflow's registry rows in both of its keep-alive behaviours (with and without the client's delayed ACKs): the
# comparison takes the faster (bench.report.comparisons).
MLFLOW_MODES = (KEEPALIVE, QUICKACK, FRESH)

OPERATIONS = [
    # --- pages, signed in as a member of the hub's owning team ---------------------------------------------------
    page("home", "/"),
    page("home of a reader with 200 watched assets", "/", reader=True, note="owns nothing; problems first"),
    page("catalog list", "/catalog/"),
    page("catalog list, filtered", "/catalog/?kind=dataset&team={team}&q=orders"),
    page("catalog list, page 200", "/catalog/?kind=dataset&page=200"),
    page("dataset list", "/catalog/?kind=dataset"),
    page("source list", "/catalog/?kind=source"),
    page("pipeline list", "/catalog/?kind=pipeline"),
    page("report list", "/catalog/reports/"),
    page("dataset page", "/catalog/dataset/{dataset}/"),
    page("dataset page of a hub", "/catalog/dataset/{hub}/", note="lists every direct downstream asset"),
    page("lineage view of a hub", "/catalog/dataset/{hub}/lineage/", note="3 hops each way, the default"),
    page(
        "impact CSV of a hub, 10 hops",
        "/catalog/dataset/{hub}/impact.csv?depth=10",
        target_ms=500,
        first_byte_ms=150,
        note="streamed a hop at a time; this row: the whole file",
    ),
    page("report page", "/catalog/report/{report}/"),
    page("pipeline page", "/catalog/pipeline/{pipeline}/"),
    page("source page", "/catalog/source/{source}/"),
    page("model list", "/models/"),
    page("model list, filtered", "/models/?team={team}&stage=production"),
    page("model page", "/models/{model}/"),
    page("model card, printable", "/models/{model}/card/print/"),
    page("model version page", "/models/{model}/versions/{version_number}/"),
    *[Operation(f"search '{q}'", "search", "portal", f"/search/?q={quote(q)}") for q in SEARCH_QUERIES],
    page("freshness board", "/monitoring/"),
    page("alerts", "/alerts/"),
    page("inbox", "/inbox/"),
    page("issues list", "/issues/"),
    page("issues list, filtered", "/issues/?status=open&severity=critical"),
    # --- API lists and details, with a token ---------------------------------------------------------------------
    api("API assets", "/api/v1/assets/"),
    api("API assets, filtered", "/api/v1/assets/?kind=dataset&team={team}&q=orders"),
    api("API datasets", "/api/v1/datasets/"),
    api("API dataset", "/api/v1/datasets/{dataset}/"),
    api("API sources", "/api/v1/sources/"),
    api("API reports", "/api/v1/reports/"),
    api("API pipelines", "/api/v1/pipelines/"),
    api("API models", "/api/v1/models/"),
    api("API issues", "/api/v1/issues/?status=open"),
    api("API freshness policies", "/api/v1/freshness-policies/"),
    api("API freshness checks", "/api/v1/freshness-checks/"),
    api("API alerts", "/api/v1/alerts/"),
    api("API notifications", "/api/v1/notifications/"),
    api("API teams", "/api/v1/teams/"),
    # --- lineage -------------------------------------------------------------------------------------------------
    Operation("impact analysis: 10 hops down from a hub (walk)", "lineage", "python", call=_walk_hub),
    Operation(
        "notification fan-out from the largest hub",
        "fanout",
        "python",
        call=_fan_out_hub,
        note="one grouped message per owner and watcher of every asset within 10 hops, computed and stored",
    ),
    Operation(
        "deprecating the largest hub: the request's part",
        "fanout",
        "python",
        call=_deprecate_hub,
        note="lifecycle, 39,000 impact rows, declared consumers told; the messages are the worker's (next row)",
    ),
    Operation(
        "deprecating the largest hub: request and the worker's messages",
        "fanout",
        "python",
        call=partial(_deprecate_hub, tell=True),
        note="as above, then one grouped message per person downstream (trust.tasks.tell_deprecation)",
    ),
    Operation(
        "OpenLineage ingest, 4 clients (START + COMPLETE per run)",
        "ingest",
        "portal",
        build=_openlineage_run,
        api=True,
        clients=4,
        note="per s = events accepted through POST /api/v1/lineage (202); the worker records them: next row",
    ),
    page("dataset page, 200 columns with column lineage (dbt import)", "/catalog/dataset/{wide_dataset}/"),
    # --- registry, side by side with MLflow ----------------------------------------------------------------------
    api("get model", "/api/v1/models/{model}/", group="registry", compare="get model", modes=BOTH),
    Operation(
        "get model",
        "registry",
        "mlflow",
        build=_mlflow_get("/api/2.0/mlflow/registered-models/get?name={model_name}"),
        compare="get model",
        modes=MLFLOW_MODES,
    ),
    api(
        "get version",
        "/api/v1/models/{model}/versions/{version_number}/",
        group="registry",
        compare="get version",
        modes=BOTH,
    ),
    Operation(
        "get version",
        "registry",
        "mlflow",
        compare="get version",
        modes=MLFLOW_MODES,
        build=_mlflow_get("/api/2.0/mlflow/model-versions/get?name={model_name}&version={version_number}"),
    ),
    api(
        "search models by name",
        "/api/v1/models/?name_prefix={model_prefix}",
        group="registry",
        compare="search models",
        modes=BOTH,
    ),
    Operation(
        "search models by name",
        "registry",
        "mlflow",
        build=_mlflow_search_prefix,
        compare="search models",
        modes=MLFLOW_MODES,
    ),
    api(
        "search versions of a model",
        "/api/v1/models/{model}/versions/",
        group="registry",
        compare="search versions",
        modes=BOTH,
    ),
    Operation(
        "search versions of a model",
        "registry",
        "mlflow",
        build=_mlflow_search_versions,
        compare="search versions",
        modes=MLFLOW_MODES,
    ),
    Operation(
        "create model + 5 versions", "registry", "portal", build=_portal_create, api=True, compare="create", modes=BOTH
    ),
    Operation(
        "create model + 5 versions", "registry", "mlflow", build=_mlflow_create, compare="create", modes=MLFLOW_MODES
    ),
    # Throughput with 8 clients at once (issue 18: the same ratio as at p50), each on a kept-alive connection.
    api("get model, 8 clients", "/api/v1/models/{model}/", group="registry", compare="get model, 8", clients=8),
    Operation(
        "get model, 8 clients",
        "registry",
        "mlflow",
        build=_mlflow_get("/api/2.0/mlflow/registered-models/get?name={model_name}"),
        compare="get model, 8",
        clients=8,
        modes=(KEEPALIVE, QUICKACK),
    ),
    api(
        "get version, 8 clients",
        "/api/v1/models/{model}/versions/{version_number}/",
        group="registry",
        compare="get version, 8",
        clients=8,
    ),
    Operation(
        "get version, 8 clients",
        "registry",
        "mlflow",
        build=_mlflow_get("/api/2.0/mlflow/model-versions/get?name={model_name}&version={version_number}"),
        compare="get version, 8",
        clients=8,
        modes=(KEEPALIVE, QUICKACK),
    ),
    # The floor through the same stack (gunicorn, middleware, a database and broker check): issue 18 asks for it
    # beside "get model".
    api("health check, /health/ (the stack's floor)", "/health/", group="floor", compare="floor, health"),
    Operation("get model by name, raw psycopg2", "floor", "python", call=_raw_get_model, compare="floor"),
    Operation(
        "get model by name, raw psycopg2, the API's statements",
        "floor",
        "python",
        call=_replay_get_model,
        compare="floor, same statements",
        note="every SQL statement the model API runs, replayed",
    ),
    Operation(
        "OpenLineage ingest, 4 clients, while 4 readers browse",
        "ingest",
        "portal",
        build=_openlineage_run,
        api=True,
        clients=4,
        busy=True,
        note="issue 18: at least 300 events/s with the machine busy (the readers' pages are counted in the note)",
    ),
    # --- a model after go-live (issue 19): the job first, so the page shows its charts; ingest last ------------
    Operation(
        "monitoring job: one day of a model's predictions (1,000,000 a day at full scale)",
        "mlops-monitoring",
        "worker",
        call=_monitoring_job,
        note="in process, once: drift (PSI, KS), input quality, performance on the outcomes; target ≤ 30 s",
    ),
    page(
        "monitoring page of a model, 10,000,000 predictions stored (full scale)",
        "/mlops/{mlops_model}/",
        note="status, latest checks, charts of the last 60 runs",
    ),
    Operation(
        "prediction ingest, batches of 1,000 through the API",
        "mlops-ingest",
        "portal",
        build=_prediction_batch,
        api=True,
        rows=INGEST_BATCH,
        note="per s = predictions stored (201, every row accepted), one client",
    ),
    # --- background work, last: its alerts and checks change what the pages above would show -------------------
    Operation(
        "OpenLineage events recorded by the worker, 2,000 queued at once",
        "ingest-worker",
        "worker",
        call=_lineage_drain,
        note="events/s from the wake-up to the last one recorded (one ingester at a time, in order)",
    ),
    Operation(
        "dbt import: generated project of 5,000 models (manifest, catalog, run results)",
        "dbt-import",
        "worker",
        call=_dbt_import,
        note="models/s for the first import; the issue asks for 5,000 models in at most 60 s (83/s)",
    ),
    Operation(
        "freshness sweep: every policy due at once",
        "sweep",
        "worker",
        call=_freshness_sweep,
        note="checks/s through beat's sweep task and 2 worker processes; p50/p95 of the probes' own durations",
    ),
    Operation(
        "freshness sweep: every policy due at once, while 4 readers browse",
        "sweep",
        "worker",
        call=_freshness_sweep,
        busy=True,
        note="issue 18: at least 100 checks/s with the machine busy (the readers' pages are counted in the note)",
    ),
    # Last: its writers file issues and save cards (the worker then has notices to send), which no row after it
    # should run beside.
    Operation(
        "many people at once (load): 50 readers, 10 writers",
        "load",
        "load",
        call=_load,
        note="locust; rows named 'load: …', see bench/load.py",
    ),
]


def encode(body):
    return None if body is None else json.dumps(body).encode()
