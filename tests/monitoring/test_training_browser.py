"""In a browser: start a training job, watch it reach "done" without reloading, then find the new version."""

import re

import pytest
from playwright.sync_api import expect

from registry.models import ModelVersion

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_start_training_and_watch_it_finish(
    page, live_server, sign_in, page_errors, celery_worker, owner, churn, model, mlflow_store
):
    sign_in(page, owner)
    page.goto(f"{live_server.url}/models/{model.asset.slug}/train/")
    page.get_by_label("Dataset").fill("Churn set")
    page.get_by_label("Dataset").blur()  # a change: the page shows the dataset's columns to pick from
    expect(page.get_by_role("heading", name="Columns of Churn set")).to_be_visible()
    expect(page.locator("#train-columns")).to_contain_text("tenure_months")
    page.get_by_label("Target").fill("churned")
    page.get_by_label("Features").fill("tenure_months, orders_90d, segment")
    page.get_by_label("Algorithm").select_option(label="Random forest")
    page.get_by_label("Hyperparameters").fill('{"n_estimators": 30}')
    page.get_by_label("Thresholds").fill('{"roc_auc": 0.6}')
    page.get_by_label("Sensitive column").fill("segment")
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_role("status")).to_contain_text("Training queued")
    row = page.get_by_test_id("training-run").first
    # The row is refreshed by htmx polling; the page itself is never reloaded.
    page.evaluate("window.__same_page = true")
    expect(row).to_have_attribute("data-state", "succeeded", timeout=120_000)
    expect(row.get_by_test_id("training-step")).to_have_text(re.compile("done"))
    assert page.evaluate("window.__same_page") is True
    version = ModelVersion.objects.get(model=model)
    row.get_by_test_id("new-version").click()
    expect(page.locator("h1")).to_have_text("Churn predictor")
    page.get_by_role("link", name="Versions", exact=True).click()  # the versions are on their own tab
    expect(page.get_by_role("cell", name=f"v{version.version}", exact=True)).to_be_visible()
    expect(page.locator("body")).to_contain_text("roc_auc")
    assert page_errors == []
