"""Batch scoring on a schedule the owner sets (run by beat through the scoring job), and scoring input and
prediction tables read from PostgreSQL and MariaDB sources through the freshness probes' reader."""

import json
import uuid
from datetime import timedelta

import psycopg2
import pymysql
import pytest
from django.db import connection
from django.utils import timezone

from catalog.choices import DatasetFormat, Lifecycle, SourceKind
from catalog.models import Asset, Dataset
from core.choices import JobKind, JobState
from core.models import JobRun
from core.tasks import run_job
from mlops.forms import ScoringForm
from mlops.models import ModelOps, Prediction, ScoringSchedule
from mlops.tasks import start_scheduled_scoring
from registry.choices import Stage
from registry.models import ModelVersion
from tests import factories
from tests.mlops.conftest import churn_frame
from tests.registry.helpers import model_with_card

pytestmark = pytest.mark.django_db

MARIADB = {"host": "127.0.0.1", "port": 3306, "database": "test", "user": "root"}
COLUMNS = "id varchar(40), tenure_months int, orders_90d int, segment varchar(20)"


@pytest.fixture
def pg_source():
    """A database of its own on the local PostgreSQL (the source a team scores from), dropped afterwards; yields
    ``(connection info, open psycopg2 connection)``."""
    own = connection.settings_dict
    info = {"host": own["HOST"] or "127.0.0.1", "port": int(own["PORT"] or 5432), "user": own["USER"] or "postgres"}
    name = f"{own['NAME']}_src_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(dbname="postgres", **info)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    database = psycopg2.connect(dbname=name, **info)
    database.autocommit = True
    yield {**info, "database": name}, database
    database.close()
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def mariadb():
    database = pymysql.connect(**MARIADB, autocommit=True, connect_timeout=5, init_command="SET time_zone = '+00:00'")
    tables = []
    yield database, tables
    with database.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DROP TABLE IF EXISTS `{table}`")
    database.close()


def table_dataset(owner, kind, info, table):
    source = factories.source(f"Warehouse {uuid.uuid4().hex[:6]}", kind, info, owner=owner)
    factories.allowed_host(*source.address())
    dataset = factories.dataset(f"{table} table", source_=source, qualified_name=table, owner=owner)
    Dataset.objects.filter(pk=dataset.pk).update(format=DatasetFormat.TABLE)
    dataset.refresh_from_db()
    return dataset


def schedules_url(model, *rest):
    return f"/api/v1/models/{model.asset.slug}/scoring-schedules/" + "".join(f"{part}/" for part in rest)


def _scheduled_run_scores(model, version, owner, dataset, rows):
    """The owner schedules scoring through the API; beat's task starts it; the scoring job runs it."""
    client = factories.api_client(owner)
    response = client.post(schedules_url(model), {"dataset": dataset.asset.slug, "id_column": "id",
                                                  "every_hours": 6}, format="json")  # fmt: skip
    assert response.status_code == 201, response.content
    assert response.json()["version"] is None and response.json()["every_hours"] == 6
    assert start_scheduled_scoring() == 1
    assert start_scheduled_scoring() == 0  # claimed: not due again for six hours
    schedule = ScoringSchedule.objects.get()
    run = schedule.last_run
    assert run.kind == JobKind.BATCH_SCORING and run.params["version"] == version.pk
    assert timedelta(hours=5, minutes=59) < schedule.next_run_at - timezone.now() <= timedelta(hours=6)
    run_job(run.pk)
    run.refresh_from_db()
    assert run.state == JobState.SUCCEEDED, run.error
    assert run.result["rows"] == rows and run.result["logged"] == rows
    assert client.get(schedules_url(model)).json()[0]["last_run"]["state"] == "succeeded"
    return run


def test_a_schedule_scores_a_postgresql_table_with_the_model_in_use(in_use, owner, pg_source):
    model, version = in_use
    info, database = pg_source
    frame = churn_frame(60, seed=3)
    with database.cursor() as cursor:
        cursor.execute(f"CREATE TABLE to_score ({COLUMNS})")
        cursor.executemany("INSERT INTO to_score VALUES (%s, %s, %s, %s)",
                           frame[["id", "tenure_months", "orders_90d", "segment"]].values.tolist())  # fmt: skip
    dataset = table_dataset(owner, SourceKind.POSTGRESQL, info, "public.to_score")
    _scheduled_run_scores(model, version, owner, dataset, 60)
    assert set(Prediction.objects.filter(version=version).values_list("prediction_id", flat=True)) == set(frame["id"])
    with database.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM to_score")
        assert cursor.fetchone()[0] == 60  # read, never written


def test_a_schedule_scores_a_mariadb_table(in_use, owner, mariadb):
    model, version = in_use
    database, tables = mariadb
    table = f"to_score_{uuid.uuid4().hex[:10]}"
    tables.append(table)
    frame = churn_frame(40, seed=5)
    with database.cursor() as cursor:
        cursor.execute(f"CREATE TABLE `{table}` ({COLUMNS})")
        cursor.executemany(f"INSERT INTO `{table}` VALUES (%s, %s, %s, %s)",
                           frame[["id", "tenure_months", "orders_90d", "segment"]].values.tolist())  # fmt: skip
    dataset = table_dataset(owner, SourceKind.MYSQL, MARIADB, table)
    _scheduled_run_scores(model, version, owner, dataset, 40)
    assert Prediction.objects.filter(version=version).count() == 40


def test_a_source_host_staff_did_not_allow_is_not_read(version, owner, pg_source):
    info, _ = pg_source
    source = factories.source("Unlisted", SourceKind.POSTGRESQL, info, owner=owner)
    dataset = factories.dataset("to_score", source_=source, qualified_name="public.to_score", owner=owner)
    Dataset.objects.filter(pk=dataset.pk).update(format=DatasetFormat.TABLE)
    from mlops.scoring import start_scoring

    run = start_scoring(version, Dataset.objects.get(pk=dataset.pk), requested_by=owner)
    run_job(run.pk)
    run.refresh_from_db()
    assert run.state == JobState.FAILED and "not on the portal's list of allowed source hosts" in run.error


@pytest.fixture
def version(owner):
    _, version = model_with_card(owner)
    ModelVersion.objects.filter(pk=version.pk).update(features=["tenure_months", "segment"], reference_profile={},
                                                      stage=Stage.PRODUCTION)  # fmt: skip
    version.refresh_from_db()
    return version


def _prediction_table_is_read_incrementally(version, owner, kind, info, table, write):
    from mlops.monitoring import monitor_model

    now = timezone.now().replace(microsecond=0)
    write([("a", now - timedelta(hours=3)), ("b", now - timedelta(hours=3))])
    ModelOps.objects.create(model=version.model, prediction_table=table_dataset(owner, kind, info, table))
    assert monitor_model(version.model)["rows"] == 2
    write([("c", now - timedelta(hours=1))])
    assert monitor_model(version.model)["rows"] == 3  # only c was read: a and b are not logged twice
    assert sorted(Prediction.objects.values_list("prediction_id", flat=True)) == ["a", "b", "c"]
    c = Prediction.objects.get(prediction_id="c")
    assert c.features == {"tenure_months": 12, "segment": "consumer"} and c.score == 0.7
    assert c.predicted_at == now - timedelta(hours=1)


def test_a_postgresql_prediction_table_is_read_incrementally(version, owner, pg_source):
    info, database = pg_source
    with database.cursor() as cursor:
        cursor.execute("CREATE TABLE churn_scores (id text, time timestamptz, tenure_months int, segment text, "
                       "prediction int, score numeric(4, 2))")  # fmt: skip

    def write(rows):
        with database.cursor() as cursor:
            cursor.executemany("INSERT INTO churn_scores VALUES (%s, %s, 12, 'consumer', 1, 0.7)", rows)

    _prediction_table_is_read_incrementally(version, owner, SourceKind.POSTGRESQL, info, "public.churn_scores", write)


def test_a_mariadb_prediction_table_is_read_incrementally(version, owner, mariadb):
    database, tables = mariadb
    table = f"churn_scores_{uuid.uuid4().hex[:10]}"
    tables.append(table)
    with database.cursor() as cursor:
        cursor.execute(f"CREATE TABLE `{table}` (id varchar(20), time datetime, tenure_months int, "
                       "segment varchar(20), prediction int, score decimal(4, 2))")  # fmt: skip

    def write(rows):
        with database.cursor() as cursor:
            cursor.executemany(f"INSERT INTO `{table}` VALUES (%s, %s, 12, 'consumer', 1, 0.7)",
                               [(i, t.replace(tzinfo=None)) for i, t in rows])  # fmt: skip

    _prediction_table_is_read_incrementally(version, owner, SourceKind.MYSQL, MARIADB, table, write)


def test_a_due_schedule_waits_for_its_previous_run_and_for_a_version_in_use(version, owner):
    model = version.model
    dataset = factories.dataset("Input", qualified_name="input.csv", owner=owner)
    Dataset.objects.filter(pk=dataset.pk).update(format=DatasetFormat.CSV)
    schedule = ScoringSchedule.objects.create(model=model, dataset=dataset, every_hours=1, created_by=owner)
    assert start_scheduled_scoring() == 1
    schedule.refresh_from_db()
    assert schedule.last_run.state == JobState.QUEUED and schedule.last_note == ""
    ScoringSchedule.objects.filter(pk=schedule.pk).update(next_run_at=timezone.now() - timedelta(seconds=1))
    assert start_scheduled_scoring() == 0
    schedule.refresh_from_db()
    assert "the previous run is still queued" in schedule.last_note
    JobRun.objects.filter(pk=schedule.last_run_id).update(state=JobState.SUCCEEDED)
    ModelVersion.objects.filter(pk=version.pk).update(stage=Stage.ARCHIVED)
    ScoringSchedule.objects.filter(pk=schedule.pk).update(next_run_at=timezone.now() - timedelta(seconds=1))
    assert start_scheduled_scoring() == 0
    schedule.refresh_from_db()
    assert "no version of the model is in use" in schedule.last_note
    # Paused: never started.
    ScoringSchedule.objects.filter(pk=schedule.pk).update(active=False, next_run_at=timezone.now())
    assert start_scheduled_scoring() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dataset": "no-such-dataset"}, "dataset"),
        ({"dataset": None}, "dataset"),
        ({"dataset": "{input}", "version": 99}, "version"),
        ({"dataset": "{input}", "every_hours": 0}, "every_hours"),
        ({"dataset": "{input}", "every_hours": "often"}, "every_hours"),
        ({"dataset": "{report}"}, "dataset"),
        ({"dataset": "{retired}"}, "dataset"),
    ],
)
def test_bad_schedules_are_400s_with_the_field(version, owner, body, field):
    inputs = _scoring_inputs(owner)
    body = json.loads(json.dumps(body).replace("{input}", inputs["input"].asset.slug)
                      .replace("{report}", inputs["extract"].asset.slug)
                      .replace("{retired}", inputs["retired"].asset.slug))  # fmt: skip
    response = factories.api_client(owner).post(schedules_url(version.model), body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"] and not ScoringSchedule.objects.exists()


def _scoring_inputs(owner):
    """A CSV dataset scoring may read; a JSON extract it may not; a CSV dataset that was retired."""
    made = {}
    for key, name, file_format, lifecycle in [
        ("input", "Input", DatasetFormat.CSV, Lifecycle.ACTIVE),
        ("extract", "Dashboard extract", DatasetFormat.JSON, Lifecycle.ACTIVE),
        ("retired", "Old input", DatasetFormat.CSV, Lifecycle.RETIRED),
    ]:
        dataset = factories.dataset(name, qualified_name=f"{key}.csv", owner=owner)
        Dataset.objects.filter(pk=dataset.pk).update(format=file_format)
        Asset.objects.filter(pk=dataset.asset_id).update(lifecycle=lifecycle)
        made[key] = dataset
    return made


@pytest.mark.parametrize(
    ("dataset", "reason"),
    [
        ("no-such-dataset", "No catalog dataset has the slug “no-such-dataset”."),
        ("{retired}", "Old input is retired; scoring reads datasets still in use."),
        ("{extract}", "Dashboard extract is a JSON; scoring reads CSV, Parquet or a database table."),
        (None, "This field may not be null."),
    ],
)
def test_scoring_now_through_the_api_refuses_what_the_page_refuses_with_the_reason(version, owner, dataset, reason):
    inputs = _scoring_inputs(owner)
    if dataset in ("{retired}", "{extract}"):
        dataset = inputs[dataset.strip("{}")].asset.slug
    url = f"/api/v1/models/{version.model.asset.slug}/versions/{version.version}/scoring/"
    response = factories.api_client(owner).post(url, {"dataset": dataset}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {"dataset": [reason]}
    assert not JobRun.objects.filter(kind=JobKind.BATCH_SCORING).exists()
    # The page's form refuses the same datasets.
    for refused in ("retired", "extract"):
        form = ScoringForm({"dataset": f"dataset/{inputs[refused].asset.slug}"}, model=version.model)
        assert not form.is_valid() and "dataset" in form.errors


def test_scoring_now_through_the_api_starts_a_run_over_a_dataset_the_page_accepts(version, owner):
    inputs = _scoring_inputs(owner)
    url = f"/api/v1/models/{version.model.asset.slug}/versions/{version.version}/scoring/"
    response = factories.api_client(owner).post(url, {"dataset": inputs["input"].asset.slug, "id_column": "id"},
                                                format="json")  # fmt: skip
    assert response.status_code == 202, response.content
    run = JobRun.objects.get(kind=JobKind.BATCH_SCORING)
    assert response.json() == {"run": str(run.uuid), "url": run.get_absolute_url(), "state": "queued"}
    assert run.params == {"version": version.pk, "dataset": inputs["input"].asset.slug, "id_column": "id"}
    form = ScoringForm({"dataset": f"dataset/{inputs['input'].asset.slug}"}, model=version.model)
    assert form.is_valid(), form.errors


@pytest.mark.parametrize("every_hours", [0, 745])
def test_hours_out_of_range_are_refused_through_the_api_in_the_page_s_words(version, owner, every_hours):
    dataset = factories.dataset("Input", qualified_name="input.csv", owner=owner)
    Dataset.objects.filter(pk=dataset.pk).update(format=DatasetFormat.CSV)
    client = factories.api_client(owner)
    said = "Every 1 to 744 hours (a month at most)."  # the page's words (test_monitoring_forms)
    response = client.post(schedules_url(version.model), {"dataset": dataset.asset.slug, "every_hours": every_hours},
                           format="json")  # fmt: skip
    assert response.status_code == 400 and response.json()["errors"] == {"every_hours": [said]}
    created = client.post(schedules_url(version.model), {"dataset": dataset.asset.slug}, format="json")
    changed = client.patch(schedules_url(version.model, created.json()["id"]), {"every_hours": every_hours},
                           format="json")  # fmt: skip
    assert changed.status_code == 400 and changed.json()["errors"] == {"every_hours": [said]}
    assert ScoringSchedule.objects.get().every_hours == 24


def test_the_owner_changes_and_removes_a_schedule_and_an_ordinary_user_cannot(version, owner, outsider):
    from django.test import Client

    model = version.model
    dataset = factories.dataset("Input", qualified_name="input.csv", owner=owner)
    Dataset.objects.filter(pk=dataset.pk).update(format=DatasetFormat.CSV)
    client = factories.api_client(owner)
    created = client.post(schedules_url(model), {"dataset": dataset.asset.slug, "version": 1}, format="json").json()
    assert created["version"] == 1 and created["every_hours"] == 24 and created["active"] is True
    session = Client()
    session.force_login(outsider)
    for other in (session, factories.api_client(outsider)):
        assert other.get(schedules_url(model)).status_code == 403
        assert other.post(schedules_url(model), json.dumps({"dataset": dataset.asset.slug}),
                          content_type="application/json").status_code == 403  # fmt: skip
        assert other.patch(schedules_url(model, created["id"]), json.dumps({"active": False}),
                           content_type="application/json").status_code == 403  # fmt: skip
        assert other.delete(schedules_url(model, created["id"])).status_code == 403
    assert ScoringSchedule.objects.get().active
    changed = client.patch(schedules_url(model, created["id"]), {"active": False, "every_hours": 2}, format="json")
    assert changed.status_code == 200 and changed.json()["active"] is False and changed.json()["every_hours"] == 2
    assert client.delete(schedules_url(model, created["id"])).status_code == 204
    assert not ScoringSchedule.objects.exists()
