"""Issue 14, finding 3: an OpenLineage event changes only what its token's owner may change.

The attacker is an ordinary signed-in reader with an API token of her own, sending events with the real
openlineage-python client, as any pipeline would.
"""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import output_statistics_output_dataset, schema_dataset

from accounts.models import ApiToken
from catalog.models import Column, Dataset, DataSource, LineageEdge, LineageEvent, LineageGrant, PipelineRun
from catalog.openlineage import ingest_queued
from tests import factories
from tests.catalog.test_openlineage import _client
from tests.helpers import ingest_lineage, wait_until

WAREHOUSE = "postgres://warehouse:5432"
T0 = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
COLUMNS = [("id", "bigint"), ("email", "text"), ("amount", "numeric"), ("country", "text"), ("created", "date")]


@pytest.fixture
def orders(owner, team):
    """The owner's dataset: five columns, one of them personal data with its description, 1,000 rows."""
    source = factories.source("Warehouse", owner=owner, team=team)
    DataSource.objects.filter(pk=source.pk).update(namespace=WAREHOUSE)
    dataset = factories.dataset(
        "Orders", source_=source, qualified_name="sales.orders", columns=COLUMNS, owner=owner, team=team
    )
    Column.objects.filter(dataset=dataset, name="email").update(is_pii=True, description="The customer's address.")
    Dataset.objects.filter(pk=dataset.pk).update(row_count=1000, last_updated_at=T0 - timedelta(days=3))
    return dataset


def _facets(*columns):
    return {
        "schema": schema_dataset.SchemaDatasetFacet(
            fields=[schema_dataset.SchemaDatasetFacetFields(name=name, type="text") for name in columns]
        )
    }


def _attack(run_id=None, output="sales.orders", inputs=(("raw.stolen", None),), namespace=WAREHOUSE):
    """The event of the finding: it drops four columns of the output, sets its row count and last update and
    gives it an upstream pipeline."""
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=T0.isoformat(),
        run=Run(runId=run_id or str(uuid.uuid4())),
        job=Job(namespace="airflow", name="innocent_job"),
        inputs=[
            InputDataset(namespace=namespace, name=name, facets=_facets(*columns) if columns else None)
            for name, columns in inputs
        ],
        outputs=[
            OutputDataset(
                namespace=namespace,
                name=output,
                facets=_facets("id"),
                outputFacets={
                    "outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                        rowCount=7, size=70
                    )
                },
            )
        ],
        producer="https://example.com/attacker",
    )


def _state(dataset):
    dataset.refresh_from_db()
    columns = list(dataset.columns.order_by("position").values_list("name", "is_pii", "description"))
    return (
        columns,
        dataset.row_count,
        dataset.last_updated_at,
        LineageEdge.objects.count(),
        PipelineRun.objects.count(),
        Dataset.objects.count(),
    )


def _refused(live_server, user, event, name="mine"):
    _, key = ApiToken.issue(user, name)
    with pytest.raises(requests.HTTPError) as error:
        _client(live_server.url, key).emit(event)
    return error.value.response


@pytest.mark.django_db(transaction=True)
def test_a_readers_event_cannot_rewrite_another_owners_dataset(live_server, outsider, orders):
    before = _state(orders)
    response = _refused(live_server, outsider, _attack())

    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["refused"] is True
    assert "outputs[0] is the dataset 'sales.orders'" in body["detail"]
    assert "only its owner, its team, staff" in body["detail"]
    # Nothing of it was written: the columns (the PII flag and description too), the count, the date, the edges.
    assert _state(orders) == before
    # Kept for staff, with the reason, and never ingested.
    kept = LineageEvent.objects.get(pk=body["event"])
    assert (kept.refused, kept.received_by, kept.error) == (True, outsider, body["detail"])
    assert ingest_queued() == 0
    assert _state(orders) == before


@pytest.mark.django_db(transaction=True)
def test_a_reader_cannot_add_datasets_to_another_owners_source(live_server, outsider, orders):
    before = _state(orders)
    response = _refused(live_server, outsider, _attack(output="sales.planted"))
    assert response.status_code == 403
    assert "would add the dataset 'sales.planted' to the source 'Warehouse'" in response.json()["detail"]
    assert _state(orders) == before
    assert not Dataset.objects.filter(qualified_name="sales.planted").exists()


@pytest.mark.django_db(transaction=True)
def test_a_reader_cannot_report_runs_of_another_owners_pipeline(live_server, owner, outsider):
    pipeline = factories.pipeline("Nightly orders", owner=owner)
    pipeline.namespace = "airflow"
    pipeline.save(update_fields=["namespace"])
    event = _attack(namespace="s3://attacker-bucket")
    event = RunEvent(
        eventType=event.eventType,
        eventTime=event.eventTime,
        run=event.run,
        job=Job(namespace="airflow", name="Nightly orders"),
        inputs=[],
        outputs=event.outputs,
        producer=event.producer,
    )
    response = _refused(live_server, outsider, event)
    assert response.status_code == 403
    assert "is the pipeline 'Nightly orders'" in response.json()["detail"]
    assert not PipelineRun.objects.exists()
    assert not DataSource.objects.filter(namespace="s3://attacker-bucket").exists()


@pytest.mark.django_db(transaction=True)
def test_the_owner_and_a_granted_service_account_may_write_it(live_server, owner, orders):
    _, key = ApiToken.issue(owner, "airflow")
    _client(live_server.url, key).emit(_attack())  # raises unless accepted (202)
    # The suite's background worker may take the event first: ``ingest_queued`` would then leave it to that worker
    # and return at once (CI dry run at 22:30 on 2026-12-07 read the table before the worker had written it).
    ingest_lineage()
    orders.refresh_from_db()
    assert (orders.row_count, list(orders.columns.values_list("name", flat=True))) == (7, ["id"])

    robot = factories.user("airflow-bot")
    LineageGrant.objects.create(user=robot, namespace=WAREHOUSE, note="the warehouse's loader")
    _, robot_key = ApiToken.issue(robot, "airflow")
    LineageEvent.objects.all().delete()
    event = _attack()
    event.outputs[0].outputFacets["outputStatistics"].rowCount = 9
    # The job innocent_job was created by the owner's event: nobody owns it yet, so any event may report its runs.
    _client(live_server.url, robot_key).emit(event)  # raises unless accepted (202)
    ingest_lineage()
    orders.refresh_from_db()
    assert orders.row_count == 9
    assert not LineageEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_token_limited_to_some_namespaces_is_refused_elsewhere(live_server, owner, orders):
    token, key = ApiToken.issue(owner, "dbt")
    ApiToken.objects.filter(pk=token.pk).update(lineage_namespaces="airflow\ns3://dbt-artifacts\n")
    before = _state(orders)
    with pytest.raises(requests.HTTPError) as error:
        _client(live_server.url, key).emit(_attack())
    assert error.value.response.status_code == 403
    assert error.value.response.json()["detail"].startswith(
        f"This token may report only on the namespaces airflow, s3://dbt-artifacts; the event names {WAREHOUSE}."
    )
    assert _state(orders) == before


@pytest.mark.django_db(transaction=True)
def test_reading_someone_elses_table_is_recorded_but_does_not_describe_it(live_server, outsider, orders):
    """An input is only read: the reader's pipeline may say it reads the owner's table (an edge out of it), but its
    schema facet does not rewrite the owner's columns."""
    before_columns = list(orders.columns.values_list("name", flat=True))
    _, key = ApiToken.issue(outsider, "mine")
    event = _attack(output="reports.mine", inputs=[("sales.orders", ["id"])], namespace="postgres://mine:5432")
    event = RunEvent(
        eventType=event.eventType,
        eventTime=event.eventTime,
        run=event.run,
        job=event.job,
        inputs=[InputDataset(namespace=WAREHOUSE, name="sales.orders", facets=_facets("id"))],
        outputs=event.outputs,
        producer=event.producer,
    )
    _client(live_server.url, key).emit(event)  # raises unless accepted (202)
    ingest_queued()
    # The suite's background worker may have taken the queued event first (ingest_queued leaves one being recorded).
    wait_until(
        lambda: LineageEdge.objects.filter(upstream=orders.asset, downstream__name="innocent_job").exists(),
        timeout=30, message="the accepted event was never recorded",
    )  # fmt: skip
    assert list(orders.columns.values_list("name", flat=True)) == before_columns


@pytest.mark.django_db
def test_rights_are_checked_again_when_the_worker_ingests(owner, outsider):
    """Accepted while the dataset did not exist; the owner created it before the worker came: refused then, kept."""
    event = {
        "eventType": "COMPLETE",
        "eventTime": T0.isoformat(),
        "run": {"runId": "r1"},
        "job": {"namespace": "airflow", "name": "late"},
        "outputs": [{"namespace": WAREHOUSE, "name": "sales.late"}],
    }
    queued = LineageEvent.objects.create(payload=event, received_by=outsider)
    source = factories.source("Warehouse", owner=owner)
    DataSource.objects.filter(pk=source.pk).update(namespace=WAREHOUSE)
    factories.dataset("Late", source_=source, qualified_name="sales.late", owner=owner)
    assert ingest_queued() == 0
    queued.refresh_from_db()
    assert queued.refused and "outputs[0] is the dataset 'sales.late'" in queued.error
    assert not PipelineRun.objects.exists()


def _naming(tables, job="nightly_load"):
    return {
        "eventType": "START",
        "eventTime": T0.isoformat(),
        "run": {"runId": str(uuid.uuid4())},
        "job": {"namespace": "airflow", "name": job},
        "inputs": [{"namespace": WAREHOUSE, "name": name} for name in tables[:-1]],
        "outputs": [{"namespace": WAREHOUSE, "name": tables[-1]}],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 3, 12])  # 12: more tables than the reading queries compiled ahead
def test_rights_follow_each_sender_whatever_the_number_of_tables(owner, team, outsider, orders, count):
    """The reading queries are compiled once per process with stand-ins for the sender and the tables: the same
    event is accepted from the owner and from a teammate, refused from a reader, one after the other."""
    from catalog.openlineage import RefusedEvent, accept

    teammate = factories.user("teammate")
    team.members.add(teammate)
    robot = factories.user("robot")
    LineageGrant.objects.create(user=robot, namespace=WAREHOUSE)
    LineageGrant.objects.create(user=robot, namespace="airflow")
    tables = [f"sales.unknown_{n}" for n in range(count - 1)] + ["sales.orders"]
    for sender, accepted in [(owner, True), (outsider, False), (teammate, True), (outsider, False), (robot, True)]:
        if accepted:
            assert accept(_naming(tables), sender).refused is False
        else:
            with pytest.raises(RefusedEvent, match=r"is the dataset 'sales\.orders'"):
                accept(_naming(tables), sender)
    staff = factories.user("admin", is_staff=True)
    assert accept(_naming(tables), staff).refused is False
