"""In a browser: the owner opens the monitoring page, sees the drifting feature, compares the challenger and
requests its promotion (through the same gate as any promotion); the owner schedules batch scoring of a dataset
found by typing part of its name."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog.choices import DatasetFormat
from catalog.models import Dataset
from mlops.challenger import set_challenger
from mlops.ingest import log_outcomes, log_predictions
from mlops.monitoring import monitor_model
from registry.choices import PromotionState
from registry.models import ModelVersion
from tests import factories
from tests.mlops.conftest import churn_frame, scored_lines
from tests.monitoring.test_training import run_training
from tests.registry.helpers import model_with_card, tick_everything

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log(version, frame, when):
    log_predictions(version, [json.loads(line) for line in scored_lines(version, frame, when).splitlines()])


def test_the_owner_sees_the_drift_compares_the_challenger_and_requests_its_promotion(
    page, live_server, sign_in, page_errors, in_use, owner
):
    model, champion = in_use
    run_training(model, owner, algorithm="random_forest_classifier", hyperparameters={"n_estimators": 30})
    challenger = ModelVersion.objects.get(model=model, version=3)
    challenger.change_stage("staging", owner)
    tick_everything(challenger, owner)
    set_challenger(model, challenger)
    frame = churn_frame(300, seed=61, tenure_shift=60)
    when = timezone.now() - timedelta(hours=1)
    log(champion, frame, when)
    log(challenger, frame, when)
    log_outcomes(champion, [{"id": row["id"], "value": int(row["churned"])} for row in frame.to_dict("records")])
    monitor_model(model)

    sign_in(page, owner)
    page.goto(f"{live_server.url}{model.get_absolute_url()}")
    page.get_by_role("link", name="Monitoring", exact=True).last.click()  # the model's Monitoring tab
    expect(page.get_by_test_id("monitoring-status")).to_contain_text("Drifting")
    drifting = page.get_by_role("region", name="Drifting now")
    expect(drifting).to_contain_text("tenure_months")
    expect(drifting).not_to_contain_text("orders_90d")
    page.wait_for_load_state("networkidle")
    assert page_errors == []
    # plotly drew the charts, from the vendored file (4.8 MB to parse: slow on a busy machine)
    expect(page.locator(".chart .main-svg").first).to_be_visible(timeout=30_000)
    comparison = page.get_by_test_id("comparison")
    expect(comparison).to_contain_text("Champion v2")
    expect(comparison).to_contain_text("Challenger v3")
    expect(page.get_by_test_id("difference")).to_contain_text("95% interval")
    page.get_by_label("Note for the approver").fill("Better on the drifted customers.")
    page.get_by_role("button", name="Promote challenger").click()
    expect(page.locator("h1")).to_have_text("Churn predictor v3")
    expect(page.get_by_test_id("pending")).to_contain_text("Better on the drifted customers.")
    assert challenger.promotion_requests.get().state == PromotionState.PENDING
    assert page_errors == []


def test_the_owner_schedules_scoring_by_typing_part_of_a_datasets_name(page, live_server, sign_in, page_errors, owner):
    model, _ = model_with_card(owner)
    for name, fmt in (("Weekly customers", DatasetFormat.CSV), ("Weekly orders", DatasetFormat.JSON)):
        dataset = factories.dataset(name, owner=owner)
        Dataset.objects.filter(pk=dataset.pk).update(format=fmt)

    sign_in(page, owner)
    page.goto(f"{live_server.url}/mlops/{model.asset.slug}/")
    form = page.get_by_role("form", name="Add a scoring schedule")
    field = form.get_by_label("Dataset")
    field.press_sequentially("weekly")
    suggestion = page.locator(f"#{field.get_attribute('list')} option")
    expect(suggestion).to_have_count(1)  # the JSON extract cannot be scored: not suggested
    assert suggestion.text_content() == "Dataset: Weekly customers"
    # Choosing the suggestion asks for suggestions again: wait for that answer before submitting (see the lineage
    # journey in tests/browser/test_catalog_journey.py).
    with page.expect_response(
        lambda response: "/catalog/suggest/" in response.url and "weekly-customers" in response.url
    ):
        field.fill(suggestion.get_attribute("value"))
    form.get_by_label("Every (hours)").fill("6")
    form.get_by_role("button", name="Add schedule").click()
    expect(page.get_by_text("Scoring of Weekly customers every 6 h scheduled.")).to_be_visible()
    schedules = page.get_by_test_id("schedules")
    expect(schedules).to_contain_text("the version in use")
    expect(schedules).to_contain_text("Weekly customers")
    schedules.get_by_role("button", name="Pause").click()
    expect(page.get_by_text("Scoring of Weekly customers paused.")).to_be_visible()
    expect(page.get_by_test_id("schedules").get_by_role("button", name="Resume")).to_be_visible()
    assert page_errors == []
