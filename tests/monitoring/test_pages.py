"""The monitoring pages as their users see them, with the refusals and the query counts."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from catalog.choices import DatasetFormat, RunOrigin, RunState
from catalog.models import Dataset, PipelineRun
from core.choices import JobKind, JobState
from core.models import Alert, JobRun, NotificationPreference
from monitoring.choices import DriftMeasure, FreshnessMethod
from monitoring.freshness import evaluate
from monitoring.models import DriftFinding, FreshnessCheck, FreshnessPolicy
from tests import factories
from tests.helpers import assert_num_queries
from tests.monitoring.conftest import policy_for


def checked_policy(asset, **fields):
    """A policy the sweep has checked, as every policy is within a minute of its deadline."""
    policy = policy_for(asset, **fields)
    evaluate(policy, trigger=FreshnessCheck.Trigger.SWEEP)
    return policy


def _policies(owner, team, count, start=0):
    now = timezone.now()
    for n in range(start, start + count):
        asset = factories.dataset(f"Table {n:03}", owner=owner, team=team).asset
        seen = now - (timedelta(days=3) if n % 3 == 0 else timedelta(hours=1))
        checked_policy(asset, last_seen_at=seen)


def _board_rows(page):
    """``[(status, asset name)]`` of the board's rows, in order."""
    return re.findall(r'data-testid="board-row" data-status="(\w+)">.*?>([^<>]+)</a>', page, re.S)


def _names_on_board(client, query):
    return {name for _, name in _board_rows(client.get(f"/monitoring/{query}").content.decode())}


# --- the freshness board -----------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_board_lists_stale_and_late_first(client_for, owner, team):
    now = timezone.now()
    checked_policy(factories.dataset("A fresh one", owner=owner, team=team), last_seen_at=now - timedelta(hours=1))
    checked_policy(factories.dataset("B stale one", owner=owner, team=team), last_seen_at=now - timedelta(days=3))
    checked_policy(
        factories.dataset("C late one", owner=owner, team=team), last_seen_at=now - timedelta(days=1, minutes=5)
    )
    page = client_for(owner).get("/monitoring/").content.decode()
    order = [page.index(name) for name in ("B stale one", "C late one", "A fresh one")]
    assert order == sorted(order)
    assert 'data-testid="checks-waiting"' not in page


@pytest.mark.django_db
def test_a_large_board_is_paged_with_the_counts_of_every_page(client_for, owner, team):
    _policies(owner, team, 60)  # every third stale: 20 stale, 40 fresh
    client = client_for(owner)
    first = client.get("/monitoring/").content.decode()
    second = client.get("/monitoring/?page=2").content.decode()
    rows = _board_rows(first) + _board_rows(second)
    assert len(_board_rows(first)) == 50 and len(rows) == 60 and len(set(rows)) == 60
    assert [status for status, _ in rows] == ["stale"] * 20 + ["fresh"] * 40
    assert [name for _, name in rows[:20]] == sorted(name for _, name in rows[:20])
    assert "Page 1 of 2 (60 in all)" in first
    assert re.search(r'data-testid="status">Stale</span>\s*20</a>', first)
    only_stale = client.get("/monitoring/?status=stale").content.decode()
    assert [status for status, _ in _board_rows(only_stale)] == ["stale"] * 20


@pytest.mark.django_db
def test_the_board_says_when_checks_wait_for_the_worker_and_shows_each_row_as_of_now(client_for, owner, team):
    # Checked fresh a day ago; its deadline passed half an hour ago and the worker has not checked it since.
    with time_machine.travel(timezone.now() - timedelta(days=1, minutes=30)):
        checked_policy(factories.dataset("Orders", owner=owner, team=team), last_seen_at=timezone.now())
    page = client_for(owner).get("/monitoring/").content.decode()
    assert "1 asset passed its deadline more than two minutes ago and has not been checked yet" in page
    assert re.search(r'data-status="late">.*?>Orders</a>', page, re.S)


@pytest.mark.django_db
def test_the_board_filters_by_team_kind_and_status(client_for, owner, team, outsider):
    other_team = factories.team("Finance")
    now = timezone.now()
    checked_policy(factories.dataset("Ours", owner=owner, team=team), last_seen_at=now)
    checked_policy(factories.dataset("Theirs", owner=outsider, team=other_team), last_seen_at=now - timedelta(days=4))
    checked_policy(factories.report("Our report", owner=owner, team=team), last_seen_at=now)
    client = client_for(outsider)  # anyone signed in may look
    assert _names_on_board(client, "") == {"Ours", "Theirs", "Our report"}
    assert _names_on_board(client, "?team=finance") == {"Theirs"}
    assert _names_on_board(client, "?kind=report") == {"Our report"}
    assert _names_on_board(client, "?status=stale") == {"Theirs"}
    assert _names_on_board(client, "?status=fresh&team=data-platform") == {"Ours", "Our report"}


@pytest.mark.django_db
def test_the_board_costs_the_same_queries_for_3_or_30_policies(client_for, owner, team):
    client = client_for(owner)
    _policies(owner, team, 3)
    client.get("/monitoring/")
    # session, user, unread count (base layout), counts by status, the page of policies with assets/owners/teams,
    # checks waiting for the worker, latest alerts, active jobs
    with assert_num_queries(9):
        assert client.get("/monitoring/").status_code == 200
    _policies(owner, team, 27, start=3)
    with assert_num_queries(9):
        assert client.get("/monitoring/").content.decode().count('data-testid="board-row"') == 30


# --- one asset's freshness ---------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_owner_sets_a_policy_and_gets_the_ping_url(client_for, owner, dataset):
    url = f"/monitoring/freshness/{dataset.asset.uuid}/"
    data = {"method": "heartbeat", "schedule_kind": "period", "period": "1 00:00:00", "grace": "02:00:00",
            "time_zone": "UTC", "timeout_seconds": 10}  # fmt: skip
    response = client_for(owner).post(url, data)
    assert response.status_code == 302
    policy = FreshnessPolicy.objects.get(asset=dataset.asset)
    assert (policy.period, policy.grace, policy.created_by) == (timedelta(days=1), timedelta(hours=2), owner)
    assert policy.next_check_at is not None
    page = client_for(owner).get(url).content.decode()
    assert f"/ping/{policy.ping_key}" in page


@pytest.mark.django_db
def test_bad_policy_input_shows_the_error_by_the_field_and_keeps_what_was_typed(client_for, owner, dataset):
    response = client_for(owner).post(
        f"/monitoring/freshness/{dataset.asset.uuid}/",
        {"method": "sql", "schedule_kind": "cron", "cron": "every morning", "time_zone": "Mars/Olympus",
         "grace": "01:00:00", "timestamp_column": "updated_at; drop table", "timeout_seconds": 10},
    )  # fmt: skip
    assert response.status_code == 200
    form = response.context["form"]
    assert "Give a cron schedule of five fields" in form.errors["cron"][0]
    assert "not a time zone" in form.errors["time_zone"][0]
    assert "Name the timestamp column" in form.errors["timestamp_column"][0]
    assert 'value="every morning"' in response.content.decode()
    assert not FreshnessPolicy.objects.exists()


@pytest.mark.django_db
def test_an_outsider_can_read_but_not_set_a_policy_nor_see_the_ping_url(client_for, outsider, dataset):
    policy = policy_for(dataset)
    url = f"/monitoring/freshness/{dataset.asset.uuid}/"
    page = client_for(outsider).get(url)
    assert page.status_code == 200
    assert str(policy.ping_key) not in page.content.decode()
    data = {"method": "heartbeat", "schedule_kind": "period", "period": "00:01:00", "grace": "00:00:00",
            "time_zone": "UTC", "timeout_seconds": 5}  # fmt: skip
    refused = client_for(outsider).post(url, data)
    assert refused.status_code == 403
    policy.refresh_from_db()
    assert policy.period == timedelta(days=1)
    assert client_for(outsider).post(f"{url}check/").status_code == 403
    assert not JobRun.objects.exists()


@pytest.mark.django_db
def test_check_now_queues_a_freshness_job(client_for, owner, dataset):
    policy_for(dataset, method=FreshnessMethod.FILE, file_path="orders.csv")
    response = client_for(owner).post(f"/monitoring/freshness/{dataset.asset.uuid}/check/")
    run = JobRun.objects.get()
    assert (run.kind, run.asset, run.requested_by) == (JobKind.FRESHNESS_CHECK, dataset.asset, owner)
    assert response.url == run.get_absolute_url()


@pytest.mark.django_db
def test_the_history_page_draws_a_timeline_with_the_local_plotly(client_for, owner, dataset):
    policy = policy_for(dataset)
    from monitoring.freshness import record_ping

    record_ping(policy, "success")
    record_ping(policy, "fail")
    page = client_for(owner).get(f"/monitoring/freshness/{dataset.asset.uuid}/").content.decode()
    assert "/static/vendor/plotly/plotly.min.js" in page
    assert 'id="freshness-timeline-figure"' in page and '"name": "Stale"' in page
    assert client_for(owner).get("/static/vendor/plotly/plotly.min.js").status_code == 200


@pytest.mark.django_db
def test_every_asset_page_shows_its_freshness_and_the_input_holding_it_back(client_for, owner, team):
    raw = factories.dataset("Raw orders", owner=owner, team=team)
    report = factories.report("Executive sales", owner=owner, team=team)
    factories.edge(raw, report)
    policy_for(raw, last_seen_at=timezone.now() - timedelta(days=5))
    page = client_for(owner).get(report.asset.get_absolute_url()).content.decode()
    assert 'data-testid="freshness-panel"' in page
    assert 'data-testid="held-back-by"' in page and "Raw orders" in page
    assert "Stale" in page


# --- pipeline runs -----------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_pipeline_runs_are_charted_with_drift_marked(client_for, owner, team):
    etl = factories.pipeline("Orders ETL", owner=owner, team=team)
    start = timezone.now() - timedelta(days=10)
    for n in range(8):
        run = PipelineRun.objects.create(pipeline=etl, run_id=f"r{n}", origin=RunOrigin.HEARTBEAT,
                                         state=RunState.COMPLETE, started_at=start + timedelta(days=n),
                                         ended_at=start + timedelta(days=n, seconds=600), output_rows=2000)  # fmt: skip
    DriftFinding.objects.create(pipeline_run=run, measure=DriftMeasure.DURATION, value=600, median=60, mad=1,
                                history_size=7)  # fmt: skip
    page = client_for(owner).get("/monitoring/pipelines/orders-etl/").content.decode()
    assert 'id="chart-duration-figure"' in page and 'id="chart-output_rows-figure"' in page
    assert '"name": "Drift"' in page
    assert 'data-testid="drift-finding"' in page


# --- jobs --------------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_job_list_polls_while_something_runs_and_answers_htmx_with_rows(client_for, owner):
    JobRun.objects.create(kind=JobKind.TRAINING, state=JobState.RUNNING, step="training", progress=40)
    client = client_for(owner)
    page = client.get("/jobs/").content.decode()
    assert 'hx-trigger="every 2s"' in page
    fragment = client.get("/jobs/", HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith("<tbody") and "training" in fragment and "<html" not in fragment
    JobRun.objects.update(state=JobState.SUCCEEDED)
    assert "hx-trigger" not in client.get("/jobs/").content.decode()


@pytest.mark.django_db
def test_the_job_list_costs_the_same_queries_for_2_or_40_runs(client_for, owner, team):
    model = factories.registered_model("Churn", owner=owner, team=team)
    client = client_for(owner)
    for _ in range(2):
        JobRun.objects.create(kind=JobKind.TRAINING, asset=model.asset, requested_by=owner)
    # session, user, unread count, count for the paginator, the page of runs with assets and requesters
    with assert_num_queries(5):
        client.get("/jobs/")
    for _ in range(38):
        JobRun.objects.create(kind=JobKind.TRAINING, asset=model.asset, requested_by=owner)
    with assert_num_queries(5):
        assert client.get("/jobs/").content.decode().count('data-testid="job-row"') == 40


@pytest.mark.django_db
def test_the_owner_cancels_a_run_and_an_outsider_cannot(client_for, owner, team, outsider):
    model = factories.registered_model("Churn", owner=owner, team=team)
    run = JobRun.objects.create(kind=JobKind.TRAINING, asset=model.asset, requested_by=owner)
    assert client_for(outsider).post(f"/jobs/{run.uuid}/cancel/").status_code == 403
    run.refresh_from_db()
    assert run.state == JobState.QUEUED
    assert "Cancel this run" not in client_for(outsider).get(run.get_absolute_url()).content.decode()
    assert "Cancel this run" in client_for(owner).get(run.get_absolute_url()).content.decode()
    client_for(owner).post(f"/jobs/{run.uuid}/cancel/")
    run.refresh_from_db()
    assert run.state == JobState.CANCELLED


@pytest.mark.django_db
def test_a_failed_job_page_shows_the_reason_and_the_log(client_for, owner):
    error = "Column tenure_months is recorded as int64 but holds text such as 'twelve'."
    run = JobRun.objects.create(
        kind=JobKind.TRAINING,
        state=JobState.FAILED,
        step="validating",
        log="reading x\n",
        error=error,
        requested_by=owner,  # the reason and the log are for the person who started it (and owners, staff)
    )
    page = client_for(owner).get(run.get_absolute_url()).content.decode()
    assert "holds text such as &#x27;twelve&#x27;" in page and "reading x" in page
    assert "hx-trigger" not in page  # finished: no more polling


# --- training page -----------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_owner_starts_training_from_the_page(client_for, owner, churn_model, churn_set):
    response = client_for(owner).post("/models/churn-predictor/train/", {
        "dataset": "Churn set", "target": "churned", "features": "tenure, segment",
        "algorithm": "random_forest_classifier", "hyperparameters": '{"n_estimators": 50}', "test_size": "0.2",
        "seed": "1", "thresholds": '{"f1": 0.5}', "sensitive_column": "segment",
    })  # fmt: skip
    assert response.status_code == 302
    run = JobRun.objects.get()
    assert (run.kind, run.state, run.asset, run.requested_by) == (
        JobKind.TRAINING,
        JobState.QUEUED,
        churn_model.asset,
        owner,
    )
    assert run.params["features"] == ["tenure", "segment"] and run.params["hyperparameters"] == {"n_estimators": 50}
    page = client_for(owner).get("/models/churn-predictor/train/").content.decode()
    assert 'hx-trigger="every 1s"' in page and 'data-testid="training-run"' in page


@pytest.mark.django_db
def test_bad_training_input_is_shown_by_the_field_and_nothing_starts(client_for, owner, churn_model, churn_set):
    response = client_for(owner).post("/models/churn-predictor/train/", {
        "dataset": "Churn set", "target": "churned", "features": "tenure, colour", "algorithm": "logistic_regression",
        "hyperparameters": "{not json", "test_size": "0.2", "seed": "1", "thresholds": "", "sensitive_column": "",
    })  # fmt: skip
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "Write a JSON object" in errors["hyperparameters"][0]
    assert 'value="tenure, colour"' in response.content.decode()
    response = client_for(owner).post("/models/churn-predictor/train/", {
        "dataset": "Churn set", "target": "churned", "features": "tenure, colour", "algorithm": "logistic_regression",
        "hyperparameters": "{}", "test_size": "0.2", "seed": "1", "thresholds": "", "sensitive_column": "",
    })  # fmt: skip
    assert response.context["form"].errors["features"] == ["Not a recorded column of Churn set: colour."]
    assert not JobRun.objects.exists()


@pytest.mark.django_db
def test_an_outsider_sees_the_runs_but_cannot_train(client_for, outsider, churn_model, churn_set):
    page = client_for(outsider).get("/models/churn-predictor/train/").content.decode()
    assert "Start training" not in page and "Only the model's owner" in page
    refused = client_for(outsider).post("/models/churn-predictor/train/", {"dataset": "Churn set"})
    assert refused.status_code == 403
    assert not JobRun.objects.exists()


@pytest.mark.django_db
def test_the_model_page_fragment_leads_to_training(owner, churn_model):
    request = RequestFactory().get("/models/churn-predictor/")
    request.user = owner
    html = Template('{% include "registry/partials/model_training.html" %}').render(
        Context({"model": churn_model, "request": request, "can_edit": True})  # the view's can_edit
    )
    assert 'href="/models/churn-predictor/train/"' in html and "Train a new version" in html


# --- alerts and preferences --------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_alert_history_lists_alerts_and_filters_by_kind(client_for, owner, dataset):
    Alert.objects.create(asset=dataset.asset, kind="freshness", title="Orders is stale", from_status="fresh",
                         to_status="stale", recipient_count=2)  # fmt: skip
    Alert.objects.create(asset=dataset.asset, kind="drift", title="Orders ETL: duration drift")
    client = client_for(owner)
    page = client.get("/alerts/").content.decode()
    assert "Orders is stale" in page and "Orders ETL: duration drift" in page and "2 people" in page
    only_drift = client.get("/alerts/?kind=drift").content.decode()
    assert "Orders is stale" not in only_drift


@pytest.mark.django_db
def test_a_person_turns_email_off(client_for, owner):
    client = client_for(owner)
    assert client.post("/inbox/preferences/", {"inbox": "on"}).status_code == 302
    preference = NotificationPreference.objects.get(user=owner)
    assert (preference.inbox, preference.email) == (True, False)


@pytest.mark.django_db
def test_the_alert_history_costs_the_same_queries_for_2_or_40_alerts(client_for, owner, dataset):
    client = client_for(owner)
    for n in range(2):
        Alert.objects.create(asset=dataset.asset, kind="freshness", title=f"Alert {n}")
    # session, user, unread count, count for the paginator, the page with assets and teams
    with assert_num_queries(5):
        client.get("/alerts/")
    for n in range(2, 40):
        Alert.objects.create(asset=dataset.asset, kind="freshness", title=f"Alert {n}")
    with assert_num_queries(5):
        assert client.get("/alerts/").content.decode().count('data-testid="alert-row"') == 40


@pytest.mark.django_db
def test_a_report_without_a_check_of_its_own_says_where_its_freshness_comes_from(client_for, owner):
    """Before: "No checks yet" under a green Fresh label (issue 17)."""
    sales = factories.dataset("Daily sales", owner=owner).asset
    report = factories.report("Executive sales", owner=owner).asset
    factories.edge(sales, report)
    factories.freshness_policy(sales, last_seen_at=timezone.now() - timedelta(hours=3))
    page = client_for(owner).get(f"/monitoring/freshness/{report.uuid}/").content.decode()
    assert "No checks yet." not in page
    assert "has no check of its own: the status above comes from its inputs upstream (updated" in page
    words = client_for(owner).get(report.get_absolute_url()).content.decode()
    assert "Updated <time" in words and "3 h ago" in words  # the header's words, with the date the panel lacked


@pytest.mark.django_db
def test_the_training_page_types_the_dataset_and_shows_only_its_columns(client_for, owner, churn_model, churn_set):
    """At full scale the page listed every CSV and Parquet dataset (about 40,000) with all their columns."""
    other = factories.dataset("Unrelated clicks", owner=owner)
    Dataset.objects.filter(pk=other.pk).update(format=DatasetFormat.CSV)
    page = client_for(owner).get("/models/churn-predictor/train/").content.decode()
    assert "Unrelated clicks" not in page and "Churn set" not in page
    assert 'name="dataset"' in page and "kind=dataset" in page
    columns = client_for(owner).get("/models/churn-predictor/train/columns/", {"dataset": "churn set"})
    text = columns.content.decode()
    assert "Columns of Churn set" in text and "tenure" in text and "Unrelated" not in text
    unknown = client_for(owner).get("/models/churn-predictor/train/columns/", {"dataset": "nothing like it"})
    assert "Type a CSV or Parquet dataset" in unknown.content.decode()
    refused = client_for(owner).post("/models/churn-predictor/train/", {"dataset": f"dataset/{other.asset.slug}x"})
    assert "No CSV or Parquet dataset called" in refused.content.decode()
    assert not JobRun.objects.exists()
