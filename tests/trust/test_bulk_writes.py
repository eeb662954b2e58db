"""Bulk writers announce their changes like single writes do: a badge downstream of what they changed is
recomputed without any other event (issue 12: OpenLineage added edges with ``bulk_create``, which sends no row
signal, so a new input with a critical issue left the report downstream "Trusted")."""

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

from accounts.models import ApiToken
from catalog.models import Asset, LineageEvent
from tests import factories
from trust.badges import refresh_badges
from trust.models import StoredBadge

NAMESPACE = "postgres://warehouse:5432"
T0 = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)


def _emit(url, key, event_type, run_id, at):
    config = HttpConfig(url=url, auth=ApiKeyTokenProvider({"api_key": key}), retry={"total": 0})
    OpenLineageClient(transport=HttpTransport(config)).emit(
        RunEvent(
            eventType=event_type,
            eventTime=at.isoformat(),
            run=Run(runId=run_id),
            job=Job(namespace="airflow", name="orders_etl"),
            inputs=[InputDataset(namespace=NAMESPACE, name="raw.returns")],
            outputs=[OutputDataset(namespace=NAMESPACE, name="sales.orders")],
            producer="https://example.com/tests",
        )
    )


def _badge_row(client, report):
    """The report's row on the report list, as a reader sees it."""
    page = client.get("/catalog/?kind=report").content.decode()
    start = page.index(report.asset.name)
    return page[start : page.index("</tr>", start)]


@pytest.mark.django_db(transaction=True)
def test_a_new_input_with_a_critical_issue_added_by_openlineage_turns_the_report_downstream_do_not_use(
    live_server, celery_worker, owner, client_for
):
    source = factories.source("Warehouse", owner=owner)
    source.namespace = NAMESPACE
    source.save(update_fields=["namespace"])
    orders = factories.dataset("Orders", source_=source, qualified_name="sales.orders", owner=owner)
    returns = factories.dataset("Returns", source_=source, qualified_name="raw.returns", owner=owner)
    report = factories.report("Executive sales", owner=owner)
    factories.edge(orders, report)
    factories.data_issue(returns, owner, severity="critical", title="Duplicated rows")
    refresh_badges([report.asset])
    reader = client_for(factories.user("erin"))
    assert "Do not use" not in _badge_row(reader, report)

    _, key = ApiToken.issue(owner, "airflow")
    run_id = str(uuid.uuid4())
    _emit(live_server.url, key, RunState.START, run_id, T0)
    _emit(live_server.url, key, RunState.COMPLETE, run_id, T0 + timedelta(minutes=5))

    deadline = time.monotonic() + 30
    while LineageEvent.objects.exists():
        assert time.monotonic() < deadline, "the worker did not ingest the events"
        time.sleep(0.1)
    # The report's stored badge was marked out of date by the new edges (or already recomputed by the worker), and
    # the list shows what it says now.
    stored = StoredBadge.objects.get(asset=report.asset)
    assert stored.stale or stored.level == "do_not_use"
    row = _badge_row(reader, report)
    assert "Do not use" in row
    stored.refresh_from_db()
    assert (stored.level, stored.stale) == ("do_not_use", False)
    assert any("1 critical issue open upstream on Returns" in verdict["reason"] for verdict in stored.verdicts)


@pytest.mark.django_db
def test_a_batch_of_events_marks_the_badges_downstream_of_its_new_edges_once(owner):
    """The ingester works through a batch of events, each in its own transaction: the walk downstream that marks
    badges is made once for the batch, for every edge it added."""
    from catalog import events
    from catalog.openlineage import ingest_queued

    heard = []

    def listen(sender, downstream_ids, **kwargs):
        heard.append(sorted(downstream_ids))

    events.lineage_changed.connect(listen)
    try:
        for n, table in enumerate(["raw.a", "raw.b", "raw.c"]):
            LineageEvent.objects.create(payload=_event_body(f"job_{n}", table), received_by=owner)
        assert ingest_queued() == 3
    finally:
        events.lineage_changed.disconnect(listen)
    assert len(heard) == 1
    jobs = set(Asset.objects.filter(kind="pipeline").values_list("pk", flat=True))
    outputs = set(Asset.objects.filter(dataset__qualified_name="sales.orders").values_list("pk", flat=True))
    assert set(heard[0]) == jobs | outputs
    assert StoredBadge.objects.filter(asset_id__in=outputs, stale=True).exists()


def _event_body(job, table):
    return {
        "eventType": "COMPLETE",
        "eventTime": T0.isoformat(),
        "run": {"runId": str(uuid.uuid4())},
        "job": {"namespace": "airflow", "name": job},
        "inputs": [{"namespace": NAMESPACE, "name": table}],
        "outputs": [{"namespace": NAMESPACE, "name": "sales.orders"}],
        "producer": "https://example.com/tests",
    }
