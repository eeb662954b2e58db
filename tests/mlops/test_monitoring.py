"""The monitoring job on a real model's logged predictions: drift on a shifted feature only, performance once
outcomes arrive, an alert and an event on each transition, the trust badge reading the status."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import Alert, Notification
from mlops.choices import CheckKind, CheckStatus, MonitoringStatus
from mlops.events import monitoring_changed
from mlops.ingest import log_outcomes, log_predictions
from mlops.models import ModelOps, MonitoringResult, MonitoringRun
from mlops.monitoring import monitor_model
from registry.models import Direction
from registry.services import set_quality_gates
from tests.helpers import count_queries
from tests.mlops.conftest import churn_frame, scored_lines
from trust.facts import facts_for
from trust.rules import evaluate

pytestmark = pytest.mark.django_db


def log(version, frame, when):
    rows = [json.loads(line) for line in scored_lines(version, frame, when).splitlines()]
    accepted, rejected = log_predictions(version, rows)
    assert not rejected
    return accepted


def badge_reason(model):
    _, verdicts = evaluate(facts_for([model.asset])[model.asset_id])
    return next(v for v in verdicts if v.rule == "monitoring")


@pytest.fixture
def events():
    heard = []

    def receiver(sender, **kwargs):
        heard.append((kwargs["old"], kwargs["new"]))

    monitoring_changed.connect(receiver)
    yield heard
    monitoring_changed.disconnect(receiver)


def test_a_model_in_use_without_predictions_is_said_to_be_not_monitored(in_use):
    model, _ = in_use
    assert badge_reason(model).reason.startswith("Not monitored")
    summary = monitor_model(model)
    assert summary["status"] == MonitoringStatus.NOT_MONITORED
    assert "no predictions are logged" in summary["reason"]
    assert badge_reason(model).level == "unknown"


def test_drift_is_found_on_the_shifted_feature_and_not_on_the_others(in_use, owner, teammate, events):
    model, version = in_use
    now = timezone.now()
    log(version, churn_frame(400, seed=11), now - timedelta(hours=30))
    assert monitor_model(model, now=now - timedelta(hours=26))["status"] == MonitoringStatus.HEALTHY
    assert not Alert.objects.exists()  # starting to be watched and healthy is no news
    log(version, churn_frame(400, seed=12, tenure_shift=60), now - timedelta(hours=2))
    summary = monitor_model(model, now=now)
    assert summary["status"] == MonitoringStatus.DRIFTING
    run = model.monitoring_runs.first()
    drift = {r.name: r for r in run.results.filter(kind=CheckKind.FEATURE_DRIFT)}
    assert drift["tenure_months"].status == CheckStatus.ALERT and drift["tenure_months"].value > 1
    assert drift["tenure_months"].ks_p_value < 1e-6
    assert drift["orders_90d"].status != CheckStatus.ALERT and drift["orders_90d"].value < 0.1
    assert drift["segment"].status == CheckStatus.OK
    out_of_range = run.results.get(kind=CheckKind.OUT_OF_RANGE, name="tenure_months")
    assert out_of_range.status == CheckStatus.ALERT
    alert = Alert.objects.get()
    assert alert.asset_id == model.asset_id and "drifting" in alert.title and "tenure_months" in alert.body
    assert set(Notification.objects.filter(asset=model.asset).values_list("recipient__username", flat=True)) == {
        owner.username,
        teammate.username,
    }
    assert events == [("not_monitored", "healthy"), ("healthy", "drifting")]
    assert badge_reason(model).level == "caution" and badge_reason(model).reason.startswith("Drifting since")
    # The same state again is not a new alert.
    monitor_model(model, now=now + timedelta(minutes=1))
    assert Alert.objects.count() == 1


def test_performance_is_computed_once_outcomes_arrive(in_use):
    model, version = in_use
    now = timezone.now()
    frame = churn_frame(300, seed=21)
    log(version, frame, now - timedelta(hours=1))
    assert monitor_model(model, now=now)["labelled_rows"] == 0
    outcomes = [{"id": row["id"], "value": int(row["churned"])} for row in frame.to_dict("records")]
    assert log_outcomes(version, outcomes)[0] == 300
    set_quality_gates(model, [("f1", "test", Direction.AT_LEAST, 0.99)])
    summary = monitor_model(model, now=now + timedelta(seconds=1))
    assert summary["labelled_rows"] == 300
    assert summary["status"] == MonitoringStatus.DEGRADED
    performance = {r.name: r for r in model.monitoring_runs.first().results.filter(kind=CheckKind.PERFORMANCE)}
    assert set(performance) == {"accuracy", "precision", "recall", "f1", "roc_auc"}
    assert 0.6 < performance["roc_auc"].value <= 1 and performance["f1"].status == CheckStatus.ALERT
    ops = ModelOps.objects.get(model=model)
    assert ops.status_reason.startswith("Performance below threshold on live rows: f1")
    verdict = badge_reason(model)
    assert verdict.level == "do_not_use" and verdict.reason.startswith("Performance below threshold since")


def test_the_monitoring_page_shows_the_drifting_feature_with_charts(in_use, client_for, owner):
    model, version = in_use
    now = timezone.now()
    log(version, churn_frame(300, seed=31, tenure_shift=60), now - timedelta(hours=1))
    monitor_model(model, now=now)
    page = client_for(owner).get(f"/mlops/{model.asset.slug}/").content.decode()
    assert "Drifting" in page and "tenure_months" in page
    assert 'id="chart-data"' in page and "vendor/plotly/plotly.min.js" in page


def test_the_monitoring_tab_reads_its_runs_their_results_and_the_ops_row_once(in_use, client_for, owner):
    """The latest run's checks, the charts and the recent runs are one read of the runs and one of their results;
    the version in use is the one get_model read."""
    model, version = in_use
    end = timezone.now()
    for day, feature, status in ((2, "tenure_months", CheckStatus.OK), (1, "orders_90d", CheckStatus.ALERT)):
        run = MonitoringRun.objects.create(
            model=model, version=version, window_start=end - timedelta(days=day + 1),
            window_end=end - timedelta(days=day), rows=100 * day, status=MonitoringStatus.HEALTHY,
        )  # fmt: skip
        MonitoringResult.objects.create(run=run, kind=CheckKind.FEATURE_DRIFT, name=feature, value=0.1 * day,
                                        threshold=0.2, status=status, detail=f"PSI on {feature}")  # fmt: skip
    client = client_for(owner)
    with count_queries() as captured:
        page = client.get(f"/mlops/{model.asset.slug}/").content.decode()

    def reads(table):
        return [query["sql"] for query in captured if f'FROM "{table}"' in query["sql"]]

    assert len(reads("mlops_monitoringrun")) == 1
    assert len(reads("mlops_monitoringresult")) == 1
    assert len(reads("mlops_modelops")) == 1
    assert not [sql for sql in reads("registry_modelversion") if "'production'" in sql]
    checks = page.split('data-testid="checks"', 1)[1].split("</table>", 1)[0]
    assert "orders_90d" in checks and "tenure_months" not in checks  # the latest run's only
    assert '"tenure_months: PSI"' in page and '"orders_90d: PSI"' in page  # both charted
    assert f'href="{version.get_absolute_url()}"' in page
