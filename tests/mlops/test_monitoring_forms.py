"""The monitoring page's forms: datasets are typed with suggestions (never a list of every dataset), the prediction
table setting, scoring now and on a schedule from the page, and who may do it."""

from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest

from catalog.choices import DatasetFormat, SourceKind
from catalog.models import Dataset
from core.choices import JobKind
from core.models import JobRun
from mlops.models import ModelOps, ScoringSchedule
from tests import factories
from tests.registry.helpers import model_with_card

pytestmark = pytest.mark.django_db


class _Fields(HTMLParser):
    """The attributes of every input and select of a page, by id."""

    def __init__(self, html):
        super().__init__()
        self.by_id = {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("input", "select") and "id" in attrs:
            self.by_id[attrs["id"]] = {"tag": tag, **attrs}


def fields_of(response):
    assert response.status_code == 200
    return _Fields(response.content.decode()).by_id


def suggestions(client, field):
    """What the page's typed field offers for what was typed in it (``field["value"]``), through its own URL."""
    # As htmx sends it: the field's own parameters, then what was typed under the input's name.
    html = client.get(f"{field['hx-get']}&{urlencode({field['name']: field['value']})}").content.decode()
    assert f'<datalist id="{field["list"]}">' in html
    return [line.split('value="')[1].split('"')[0] for line in html.split("<option")[1:]]


def datasets(names, source, fmt):
    made = [factories.dataset(name, source_=source) for name in names]
    Dataset.objects.filter(pk__in=[d.pk for d in made]).update(format=fmt)
    return made


@pytest.fixture
def model(owner):
    return model_with_card(owner)[0]


@pytest.fixture
def warehouse(owner):
    return factories.source("Warehouse", SourceKind.POSTGRESQL, {"host": "db", "port": 5432}, owner=owner)


@pytest.fixture
def files(owner):
    return factories.source("Shared files", SourceKind.FILES, {}, owner=owner)


def page_url(model, *rest):
    return f"/mlops/{model.asset.slug}/" + "".join(f"{part}/" for part in rest)


def test_the_page_lists_no_datasets_however_many_tables_there_are(model, owner, warehouse, client_for):
    datasets([f"Table {i:03d}" for i in range(250)], warehouse, DatasetFormat.TABLE)
    response = client_for(owner).get(page_url(model))
    html = response.content.decode()
    # The versions (scoring now, on a schedule), the challenger's candidates: a handful, not 250 tables.
    assert html.count("<option") < 15
    fields = fields_of(response)
    for field_id in ("id_prediction_table", "score-dataset", "schedule-dataset"):
        assert fields[field_id]["tag"] == "input" and "hx-get" in fields[field_id], field_id


def test_a_dataset_beyond_the_first_200_is_scored_from_the_page(model, owner, files, client_for):
    datasets([f"Input {i:03d}" for i in range(210)], files, DatasetFormat.CSV)
    datasets(["Zebra scores input"], files, DatasetFormat.CSV)
    datasets(["Zebra dashboard extract"], files, DatasetFormat.JSON)  # not scorable: not suggested
    client = client_for(owner)
    field = fields_of(client.get(page_url(model)))["score-dataset"]
    assert suggestions(client, {**field, "value": "zebra"}) == ["dataset/zebra-scores-input"]
    response = client.post(page_url(model, "score"), {"version": "1", "dataset": "dataset/zebra-scores-input"})
    run = JobRun.objects.get(kind=JobKind.BATCH_SCORING)
    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    assert run.params["dataset"] == "zebra-scores-input"


def test_scoring_a_dataset_that_cannot_be_scored_says_why_and_keeps_what_was_typed(model, owner, files, client_for):
    datasets(["Dashboard extract"], files, DatasetFormat.JSON)
    response = client_for(owner).post(
        page_url(model, "score"), {"version": "1", "dataset": "Dashboard extract", "id_column": "customer_id"}
    )
    assert "No CSV, Parquet or database table dataset called “Dashboard extract”" in response.content.decode()
    fields = fields_of(response)
    assert (
        fields["score-dataset"]["value"] == "Dashboard extract" and fields["score-id_column"]["value"] == "customer_id"
    )
    assert not JobRun.objects.exists()


def test_the_prediction_table_is_typed_and_only_a_table_of_a_sql_source_is_accepted(
    model, owner, warehouse, files, client_for
):
    table = datasets(["Churn scores"], warehouse, DatasetFormat.TABLE)[0]
    datasets(["Churn scores export"], files, DatasetFormat.CSV)
    datasets(["Churn scores view"], warehouse, DatasetFormat.VIEW)
    client = client_for(owner)
    field = fields_of(client.get(page_url(model)))["id_prediction_table"]
    assert suggestions(client, {**field, "value": "churn sc"}) == ["dataset/churn-scores"]
    form = {"psi_threshold": 0.35, "ks_p_value": 0.01, "missing_rate_limit": 0.1, "out_of_range_limit": 0.05,
            "retrain_every_days": 7}  # fmt: skip

    refused = client.post(page_url(model, "settings"), {**form, "prediction_table": "Churn scores export"})
    assert "No table of a SQLite, PostgreSQL or MySQL source called “Churn scores export”" in refused.content.decode()
    fields = fields_of(refused)
    assert fields["id_prediction_table"]["value"] == "Churn scores export"
    assert fields["id_psi_threshold"]["value"] == "0.35"
    assert not ModelOps.objects.filter(model=model, psi_threshold=0.35).exists()

    assert client.post(page_url(model, "settings"), {**form, "prediction_table": "churn scores"}).status_code == 302
    assert ModelOps.objects.get(model=model).prediction_table == table
    # The page shows the current one by name; saved unchanged, it stays.
    assert fields_of(client.get(page_url(model)))["id_prediction_table"]["value"] == "Churn scores"
    assert client.post(page_url(model, "settings"), {**form, "prediction_table": "Churn scores"}).status_code == 302
    assert ModelOps.objects.get(model=model).prediction_table == table
    # Empty: no prediction table.
    assert client.post(page_url(model, "settings"), {**form, "prediction_table": ""}).status_code == 302
    assert ModelOps.objects.get(model=model).prediction_table is None


def test_two_prediction_tables_of_one_name_are_told_apart_by_the_suggestion(model, owner, warehouse, client_for):
    other_warehouse = factories.source("Reporting database", SourceKind.MYSQL, {"host": "db2"}, owner=owner)
    datasets(["Scores"], warehouse, DatasetFormat.TABLE)
    second = factories.dataset("Scores", source_=other_warehouse, slug="scores-2")
    Dataset.objects.filter(pk=second.pk).update(format=DatasetFormat.TABLE)
    form = {"psi_threshold": 0.2, "ks_p_value": 0.01, "missing_rate_limit": 0.1, "out_of_range_limit": 0.05,
            "retrain_every_days": 7}  # fmt: skip
    client = client_for(owner)
    refused = client.post(page_url(model, "settings"), {**form, "prediction_table": "scores"}).content.decode()
    assert "Several tables of SQLite, PostgreSQL or MySQL sources are called “scores”" in refused
    assert client.post(page_url(model, "settings"), {**form, "prediction_table": "dataset/scores-2"}).status_code == 302
    assert ModelOps.objects.get(model=model).prediction_table_id == second.pk
    # Saved unchanged (the name shown), the current one stays although another table has its name.
    assert client.post(page_url(model, "settings"), {**form, "prediction_table": "Scores"}).status_code == 302
    assert ModelOps.objects.get(model=model).prediction_table_id == second.pk


def test_the_owner_adds_pauses_resumes_and_deletes_a_schedule_from_the_page(model, owner, files, client_for):
    datasets([f"Input {i:03d}" for i in range(3)], files, DatasetFormat.CSV)
    datasets(["Weekly customers"], files, DatasetFormat.PARQUET)
    client = client_for(owner)
    added = client.post(
        page_url(model, "schedules"),
        {"version": "", "dataset": "dataset/weekly-customers", "id_column": "customer_id", "every_hours": "6"},
        follow=True,
    )
    html = added.content.decode()
    assert "Scoring of Weekly customers every 6 h scheduled." in html
    schedule = ScoringSchedule.objects.get()
    assert schedule.version is None and schedule.dataset.asset.name == "Weekly customers"
    assert (schedule.id_column, schedule.every_hours, schedule.active) == ("customer_id", 6, True)
    row = html.split('data-testid="schedules"')[1].split("</table>")[0]
    assert "the version in use" in row and "Weekly customers" in row and "6 h" in row and "due now" in row

    paused = client.post(page_url(model, "schedules", schedule.pk, "active"), {"active": "false"}, follow=True)
    assert "Scoring of Weekly customers paused." in paused.content.decode()
    assert not ScoringSchedule.objects.get().active
    assert "Resume" in paused.content.decode().split('data-testid="schedules"')[1].split("</table>")[0]
    client.post(page_url(model, "schedules", schedule.pk, "active"), {"active": "true"})
    assert ScoringSchedule.objects.get().active

    deleted = client.post(page_url(model, "schedules", schedule.pk, "delete"), follow=True)
    assert "Scheduled scoring of Weekly customers deleted." in deleted.content.decode()
    assert not ScoringSchedule.objects.exists()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"every_hours": "0"}, "Every 1 to 744 hours (a month at most)."),
        ({"every_hours": "745"}, "Every 1 to 744 hours (a month at most)."),
        ({"dataset": "Dashboard extract"}, "No CSV, Parquet or database table dataset called “Dashboard extract”"),
        ({"dataset": ""}, "This field is required."),
        ({"version": "7"}, "Select a valid choice."),
    ],
)
def test_a_bad_schedule_is_refused_with_the_field_error_and_what_was_typed_kept(
    model, owner, files, client_for, data, error
):
    datasets(["Weekly customers"], files, DatasetFormat.CSV)
    datasets(["Dashboard extract"], files, DatasetFormat.JSON)
    typed = {"version": "1", "dataset": "Weekly customers", "id_column": "customer_id", "every_hours": "6", **data}
    response = client_for(owner).post(page_url(model, "schedules"), typed)
    assert error in response.content.decode()
    fields = fields_of(response)
    assert fields["schedule-dataset"].get("value", "") == typed["dataset"]
    assert fields["schedule-id_column"]["value"] == "customer_id"
    assert fields["schedule-every_hours"]["value"] == typed["every_hours"]
    assert not ScoringSchedule.objects.exists()


def test_an_ordinary_user_cannot_schedule_pause_or_delete(model, owner, outsider, files, client_for):
    dataset = datasets(["Weekly customers"], files, DatasetFormat.CSV)[0]
    schedule = ScoringSchedule.objects.create(model=model, dataset=dataset, every_hours=6, created_by=owner)
    client = client_for(outsider)
    page = client.get(page_url(model)).content.decode()
    assert "Add schedule" not in page and "Batch scoring" not in page
    assert client.post(page_url(model, "schedules"), {"dataset": "dataset/weekly-customers",
                                                       "every_hours": "1"}).status_code == 403  # fmt: skip
    assert client.post(page_url(model, "schedules", schedule.pk, "active"), {"active": "false"}).status_code == 403
    assert client.post(page_url(model, "schedules", schedule.pk, "delete")).status_code == 403
    assert list(ScoringSchedule.objects.values_list("pk", "active", "every_hours")) == [(schedule.pk, True, 6)]


def test_a_schedule_of_another_model_is_not_found_from_this_models_page(model, owner, files, client_for):
    other, _ = model_with_card(owner, name="Upsell predictor")
    dataset = datasets(["Weekly customers"], files, DatasetFormat.CSV)[0]
    schedule = ScoringSchedule.objects.create(model=other, dataset=dataset, created_by=owner)
    assert client_for(owner).post(page_url(model, "schedules", schedule.pk, "delete")).status_code == 404
    assert ScoringSchedule.objects.filter(pk=schedule.pk).exists()
