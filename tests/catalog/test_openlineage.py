import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.db import connections
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import output_statistics_output_dataset, schema_dataset
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

from accounts.models import ApiToken
from catalog.models import (
    Asset,
    AssetChange,
    Dataset,
    DataSource,
    LineageEdge,
    LineageEvent,
    PipelineRun,
    SchemaChange,
)
from catalog.openlineage import ingest, ingest_queued
from core.background import LINEAGE_INGESTER
from core.models import Notification
from tests import factories
from tests.helpers import count_queries, wait_until

NAMESPACE = "postgres://warehouse:5432"
T0 = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)


def _client(url, key, compression=None):
    config = HttpConfig(
        url=url, auth=ApiKeyTokenProvider({"api_key": key}), compression=compression, retry={"total": 0}
    )
    return OpenLineageClient(transport=HttpTransport(config))


def _schema(*columns):
    return {
        "schema": schema_dataset.SchemaDatasetFacet(
            fields=[schema_dataset.SchemaDatasetFacetFields(name=name, type=kind) for name, kind in columns]
        )
    }


def _event(state, run_id, at, orders_columns, rows=None, job_name="orders_etl"):
    output_facets = {}
    if rows is not None:
        output_facets["outputStatistics"] = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
            rowCount=rows, size=rows * 100
        )
    return RunEvent(
        eventType=state,
        eventTime=at.isoformat(),
        run=Run(runId=run_id),
        job=Job(namespace="airflow", name=job_name),
        inputs=[InputDataset(namespace=NAMESPACE, name="raw.orders", facets=_schema(("id", "bigint")))],
        outputs=[
            OutputDataset(
                namespace=NAMESPACE, name="sales.orders", facets=_schema(*orders_columns), outputFacets=output_facets
            )
        ],
        producer="https://example.com/tests",
    )


def _state():
    return (
        Asset.objects.count(),
        LineageEdge.objects.count(),
        PipelineRun.objects.count(),
        SchemaChange.objects.count(),
        LineageEvent.objects.count(),
    )


def _ingested(timeout=30):
    """Wait for the worker to ingest every accepted event (each accepted event wakes it)."""
    wait_until(
        lambda: not LineageEvent.objects.filter(error="").exists(),
        timeout=timeout,
        interval=0.1,
        message="the worker did not ingest the accepted events",
    )
    assert list(LineageEvent.objects.values_list("error", flat=True)) == []


@pytest.mark.django_db(transaction=True)
def test_the_real_client_records_datasets_a_pipeline_lineage_and_a_run(live_server, celery_worker, owner):
    _, key = ApiToken.issue(owner, "airflow")
    client = _client(live_server.url, key)
    run_id = str(uuid.uuid4())
    columns = [("id", "bigint"), ("amount", "numeric")]
    client.emit(_event(RunState.START, run_id, T0, columns))
    client.emit(_event(RunState.COMPLETE, run_id, T0 + timedelta(minutes=7), columns, rows=5000))
    _ingested()

    source = DataSource.objects.get(namespace=NAMESPACE)
    assert source.source_kind == "postgresql"
    orders = Dataset.objects.get(source=source, qualified_name="sales.orders")
    raw = Dataset.objects.get(source=source, qualified_name="raw.orders")
    assert list(orders.columns.values_list("name", "data_type")) == columns
    assert (orders.row_count, orders.size_bytes) == (5000, 500000)
    run = PipelineRun.objects.get(run_id=run_id)
    pipeline = run.pipeline
    assert (pipeline.namespace, pipeline.asset.name) == ("airflow", "orders_etl")
    assert (run.state, run.started_at, run.ended_at, run.output_rows) == (
        "complete",
        T0,
        T0 + timedelta(minutes=7),
        5000,
    )
    assert run.duration_seconds == 420
    assert LineageEdge.objects.filter(upstream=raw.asset, downstream=pipeline.asset, origin="openlineage").exists()
    assert LineageEdge.objects.filter(upstream=pipeline.asset, downstream=orders.asset).exists()


@pytest.mark.django_db(transaction=True)
def test_a_changed_schema_facet_goes_through_the_schema_change_path(live_server, celery_worker, owner):
    _, key = ApiToken.issue(owner, "airflow")
    client = _client(live_server.url, key, compression="gzip")
    client.emit(_event(RunState.COMPLETE, str(uuid.uuid4()), T0, [("id", "bigint"), ("amount", "numeric")]))
    _ingested()
    orders = Dataset.objects.get(qualified_name="sales.orders")
    Asset.objects.filter(pk=orders.pk).update(owner=owner)
    client.emit(_event(RunState.COMPLETE, str(uuid.uuid4()), T0, [("id", "bigint"), ("amount", "text")]))
    _ingested()
    change = SchemaChange.objects.get(dataset=orders)
    assert (change.origin, change.type_changed) == (
        "openlineage",
        [{"name": "amount", "before": "numeric", "after": "text"}],
    )
    assert Notification.objects.filter(recipient=owner, kind="schema_change").exists()


@pytest.mark.django_db(transaction=True)
def test_a_malformed_event_from_the_real_client_is_refused_and_changes_nothing(live_server, owner):
    _, key = ApiToken.issue(owner, "airflow")
    before = _state()
    broken = _event(RunState.START, str(uuid.uuid4()), T0, [("id", "bigint")], job_name="")
    with pytest.raises(requests.HTTPError) as error:
        _client(live_server.url, key).emit(broken)
    assert error.value.response.status_code == 400
    assert error.value.response.json() == {"detail": "job.name is required and must be a non-empty string."}
    assert _state() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (json.dumps({"eventType": "START"}).encode(), "no 'run'"),
        (json.dumps({"eventType": "EXPLODE", "run": {}}).encode(), "eventType must be one of"),
        (
            json.dumps(
                {"eventTime": "yesterday", "run": {"runId": "r"}, "job": {"namespace": "a", "name": "b"}}
            ).encode(),
            "ISO 8601",
        ),
        (
            json.dumps(
                {
                    "eventTime": "2026-11-28T06:00:00Z",
                    "run": {"runId": "r"},
                    "job": {"namespace": "a", "name": "b"},
                    "outputs": [
                        {"namespace": "n", "name": "t", "outputFacets": {"outputStatistics": {"rowCount": -1}}}
                    ],
                }
            ).encode(),
            "rowCount must be a whole number",
        ),
        (
            json.dumps(
                {
                    "eventTime": "2026-11-28T06:00:00Z",
                    "run": {"runId": "r"},
                    "job": {"namespace": "a", "name": "b"},
                    "inputs": [{"namespace": "n", "name": "ok"}, {"namespace": "n"}],
                }
            ).encode(),
            "inputs[1].name is required",
        ),
    ],
)
def test_malformed_events_get_a_400_with_the_reason_and_change_nothing(client, owner, body, reason):
    _, key = ApiToken.issue(owner, "script")
    before = _state()
    response = client.post(
        "/api/v1/lineage", body, content_type="application/json", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert _state() == before


@pytest.mark.django_db
def test_the_endpoint_needs_a_token(client, owner):
    response = client.post("/api/v1/lineage", gzip.compress(b"{}"), content_type="application/json")
    assert response.status_code == 401
    assert (
        client.post(
            "/api/v1/lineage", b"{}", content_type="application/json", headers={"Authorization": "Bearer nope"}
        ).status_code
        == 401
    )


@pytest.mark.django_db
def test_a_late_start_never_reopens_a_finished_run_and_known_datasets_are_reused(owner):
    source = factories.source("Warehouse", owner=owner)
    DataSource.objects.filter(pk=source.pk).update(namespace=NAMESPACE)
    orders = factories.dataset("Orders", source_=source, qualified_name="sales.orders", owner=owner)
    payload = {
        "eventTime": "2026-11-28T06:10:00+00:00",
        "run": {"runId": "run-1"},
        "job": {"namespace": "airflow", "name": "orders_etl"},
        "outputs": [{"namespace": NAMESPACE, "name": "sales.orders"}],
    }
    ingest({**payload, "eventType": "FAIL"}, owner)
    run = ingest({**payload, "eventType": "START", "eventTime": "2026-11-28T06:00:00+00:00"}, owner)
    assert run.state == "fail"
    assert run.started_at == T0
    assert Dataset.objects.count() == 1
    assert LineageEdge.objects.get(downstream=orders.asset).upstream == run.pipeline.asset


def _run_event(event_type, run_id, inputs, outputs, at="2026-11-28T06:00:00+00:00", job="orders_etl"):
    return {
        "eventType": event_type,
        "eventTime": at,
        "run": {"runId": run_id},
        "job": {"namespace": "airflow", "name": job},
        "inputs": [{"namespace": namespace, "name": name} for namespace, name in inputs],
        "outputs": [{"namespace": namespace, "name": name, **extra} for namespace, name, extra in outputs],
    }


def _catalog():
    """What a reader of the catalog sees: sources, datasets, edges, runs, history and search documents."""
    return (
        sorted(DataSource.objects.values_list("namespace", "asset__owner__username")),
        sorted(Dataset.objects.values_list("source__namespace", "qualified_name", "asset__owner__username")),
        sorted(LineageEdge.objects.values_list("upstream__name", "downstream__name", "origin")),
        sorted(PipelineRun.objects.values_list("run_id", "state", "started_at", "ended_at", "output_rows")),
        AssetChange.objects.count(),
        sorted(Asset.objects.values_list("name", "search_text")),
    )


@pytest.mark.django_db
def test_an_event_naming_known_and_new_datasets_in_several_namespaces_links_them_all_once(owner):
    warehouse = factories.source("Warehouse", owner=owner)
    DataSource.objects.filter(pk=warehouse.pk).update(namespace=NAMESPACE)
    factories.dataset("Orders", source_=warehouse, qualified_name="sales.orders", owner=owner)
    lake = "s3://lake"
    inputs = [(NAMESPACE, "sales.orders"), (lake, "raw/customers"), (NAMESPACE, "sales.orders")]
    outputs = [(NAMESPACE, "marts.revenue", {"outputFacets": {"outputStatistics": {"rowCount": 42}}})]

    ingest(_run_event("START", "run-1", inputs, outputs), owner)
    run = ingest(_run_event("COMPLETE", "run-1", inputs, outputs, at="2026-11-28T06:05:00+00:00"), owner)

    assert (run.state, run.output_rows, run.duration_seconds) == ("complete", 42, 300)
    lake_source = DataSource.objects.get(namespace=lake)
    assert (lake_source.source_kind, lake_source.asset.owner) == ("object_store", None)
    revenue = Dataset.objects.get(qualified_name="marts.revenue")
    assert (revenue.source_id, revenue.asset.owner, revenue.row_count) == (warehouse.pk, owner, 42)
    assert sorted(LineageEdge.objects.values_list("upstream__name", "downstream__name")) == [
        ("Orders", "orders_etl"),
        ("orders_etl", "marts.revenue"),
        ("raw/customers", "orders_etl"),
    ]
    assert "revenue" in Asset.objects.get(pk=revenue.pk).search_text


@pytest.mark.django_db
def test_replaying_events_changes_nothing_and_an_early_complete_opens_the_run(owner):
    inputs = [(NAMESPACE, "raw.orders")]
    outputs = [(NAMESPACE, "sales.orders", {"facets": {"schema": {"fields": [{"name": "id", "type": "bigint"}]}}})]
    events = [
        _run_event("COMPLETE", "run-1", inputs, outputs, at="2026-11-28T06:07:00+00:00"),
        _run_event("START", "run-1", inputs, outputs),
        _run_event("START", "run-2", inputs, outputs, at="2026-11-28T07:00:00+00:00"),
    ]
    for event in events:
        ingest(event, owner)
    after_once = _catalog()
    for event in events:
        ingest(event, owner)

    assert _catalog() == after_once
    runs = {run.run_id: run for run in PipelineRun.objects.all()}
    assert (runs["run-1"].state, runs["run-1"].started_at, runs["run-1"].ended_at) == (
        "complete",
        T0,
        T0 + timedelta(minutes=7),
    )
    assert (runs["run-2"].state, runs["run-2"].ended_at) == ("running", None)


@pytest.mark.django_db
def test_an_unchanged_schema_facet_rewrites_no_column(owner):
    outputs = [(NAMESPACE, "sales.orders", {"facets": {"schema": {"fields": [{"name": "id", "type": "bigint"}]}}})]
    ingest(_run_event("START", "run-1", [], outputs), owner)
    with count_queries() as captured:
        ingest(_run_event("START", "run-2", [], outputs), owner)
    assert not [query for query in captured if "catalog_column" in query["sql"] and "UPDATE" in query["sql"]]
    assert not SchemaChange.objects.exists()


@pytest.mark.django_db
def test_an_event_costs_the_same_queries_for_one_or_many_known_datasets(owner):
    warehouse = factories.source("Warehouse", owner=owner)
    DataSource.objects.filter(pk=warehouse.pk).update(namespace=NAMESPACE)
    for n in range(8):
        factories.dataset(f"Table {n}", source_=warehouse, qualified_name=f"t{n}", owner=owner)

    def queries(run_id, inputs, outputs):
        ingest(_run_event("START", f"{run_id}-warm-up", inputs, outputs), owner)  # first run: creates the edges
        with count_queries() as captured:
            ingest(_run_event("COMPLETE", run_id, inputs, outputs), owner)
        return len(captured)

    few = queries("few", [(NAMESPACE, "t0")], [(NAMESPACE, "t1", {})])
    many = queries("many", [(NAMESPACE, f"t{n}") for n in range(2, 7)], [(NAMESPACE, "t7", {})])
    assert few == many


@pytest.mark.django_db
def test_an_event_that_cannot_be_ingested_is_kept_with_why_and_the_queue_goes_on(owner):
    good = {
        "eventType": "COMPLETE",
        "eventTime": "2026-11-28T06:10:00+00:00",
        "run": {"runId": "run-1"},
        "job": {"namespace": "airflow", "name": "orders_etl"},
        "outputs": [{"namespace": NAMESPACE, "name": "sales.orders"}],
    }
    # Accepted by rules that have changed since: the ingester refuses it now.
    bad = LineageEvent.objects.create(payload={**good, "job": {"namespace": "airflow"}}, received_by=owner)
    LineageEvent.objects.create(payload=good, received_by=owner)
    assert ingest_queued() == 1
    assert PipelineRun.objects.get(run_id="run-1").state == "complete"
    kept = LineageEvent.objects.get()
    assert kept.pk == bad.pk and kept.error == "MalformedEvent: job.name is required and must be a non-empty string."
    assert ingest_queued() == 0  # a failed event is not tried again and again


@pytest.mark.django_db
def test_only_one_ingester_works_at_a_time_so_a_runs_events_keep_their_order(owner):
    LineageEvent.objects.create(payload={}, received_by=owner)
    other = connections.create_connection("default")  # another worker process, already ingesting
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [LINEAGE_INGESTER])
        assert ingest_queued() is None
        assert LineageEvent.objects.get().error == ""
    finally:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LINEAGE_INGESTER])
        other.close()
