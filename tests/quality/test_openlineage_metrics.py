"""OpenLineage's dataQualityMetrics input facet, sent by the real openlineage-python client to the portal's
endpoint with a Bearer token: each run's measurements become the dataset's metrics, shown on its quality tab."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import data_quality_metrics_input_dataset as metrics_facet
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

from accounts.models import ApiToken
from catalog.models import Dataset, LineageEvent
from quality.models import DatasetMetrics
from tests import factories
from tests.helpers import ingest_lineage

NAMESPACE = "postgres://warehouse:5432"
T0 = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)


def _client(url, key):
    config = HttpConfig(url=url, auth=ApiKeyTokenProvider({"api_key": key}), retry={"total": 0})
    return OpenLineageClient(transport=HttpTransport(config))


def _event(at, rows, status_nulls, amount):
    metrics = metrics_facet.DataQualityMetricsInputDatasetFacet(
        rowCount=rows,
        bytes=rows * 64,
        columnMetrics={
            "status": metrics_facet.ColumnMetrics(nullCount=status_nulls, distinctCount=3),
            "amount": metrics_facet.ColumnMetrics(
                nullCount=0, min=amount[0], max=amount[1], sum=amount[2], count=float(rows),
                quantiles={"0.5": amount[3], "0.95": amount[4]},
            ),
        },
    )  # fmt: skip
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=at.isoformat(),
        run=Run(runId=str(uuid.uuid4())),
        job=Job(namespace="airflow", name="orders_profile"),
        inputs=[InputDataset(namespace=NAMESPACE, name="sales.orders", inputFacets={"dataQualityMetrics": metrics})],
        outputs=[OutputDataset(namespace=NAMESPACE, name="sales.orders_profile")],
        producer="https://example.com/tests",
    )


def _recorded():
    ingest_lineage()


@pytest.mark.django_db(transaction=True)
def test_metrics_of_each_run_become_the_datasets_history_and_the_tab_shows_the_latest(live_server, owner, client):
    _, key = ApiToken.issue(owner, "profiler")
    sender = _client(live_server.url, key)
    sender.emit(_event(T0, 1200, 0, (1.5, 980.0, 40210.5, 31.0, 412.0)))
    sender.emit(_event(T0 + timedelta(days=1), 1350, 7, (0.5, 1020.0, 45012.0, 33.0, 430.0)))
    _recorded()

    orders = Dataset.objects.get(qualified_name="sales.orders").asset
    runs = list(DatasetMetrics.objects.filter(asset=orders).order_by("measured_at"))
    assert [(run.row_count, run.bytes) for run in runs] == [(1200, 76800), (1350, 86400)]
    assert runs[1].columns["status"] == {"nullCount": 7, "distinctCount": 3}
    assert runs[1].columns["amount"]["quantiles"] == {"0.5": 33.0, "0.95": 430.0}

    client.force_login(owner)
    page = client.get(f"/quality/dataset/{orders.slug}/").content.decode()
    latest = page.split('data-testid="quality-metrics-latest">', 1)[1].split("</p>", 1)[0]
    assert "<strong>1,350</strong> rows" in latest
    columns = page.split('data-testid="quality-column-metrics">')[1:]
    amount, status = columns  # sorted by name
    assert (
        "<code>amount</code>" in amount
        and "0.5" in amount
        and "1020.0" in amount
        and "0.5: 33.0; 0.95: 430.0" in amount
    )
    assert "<code>status</code>" in status and "<td>7</td><td>3</td>" in status
    assert page.count('data-testid="quality-metrics-run"') == 2
    assert 'id="quality-rows-figure"' in page and 'id="quality-nulls-figure"' in page


@pytest.mark.django_db(transaction=True)
def test_metrics_that_are_not_numbers_refuse_the_event_and_record_nothing(live_server, owner):
    _, key = ApiToken.issue(owner, "profiler")
    broken = _event(T0, 10, -1, (1.0, 2.0, 3.0, 1.5, 2.0))

    with pytest.raises(requests.HTTPError) as error:
        _client(live_server.url, key).emit(broken)

    assert error.value.response.status_code == 400
    assert (
        "dataQualityMetrics.columnMetrics.status.nullCount must be a whole number"
        in error.value.response.json()["detail"]
    )
    assert not LineageEvent.objects.exists() and not DatasetMetrics.objects.exists()


def test_a_dataset_without_metrics_says_so(client, owner, db):
    orders = factories.dataset("orders", owner=owner)
    client.force_login(owner)
    page = client.get(f"/quality/dataset/{orders.asset.slug}/").content.decode()
    assert "No metrics are recorded for this dataset" in page
