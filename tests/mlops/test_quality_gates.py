"""Quality gates in the promotion: thresholds per metric and split, the fairness limit, and recorded waivers."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from registry.choices import PromotionState
from registry.models import Direction, PromotionBlocked
from registry.services import decide_promotion, parse_thresholds, request_promotion, set_quality_gates, waive_gate

pytestmark = pytest.mark.django_db


def test_the_gate_refuses_a_missed_threshold_and_the_fairness_limit_naming_each(trained, owner):
    model, version = trained
    measured = {metric.name: metric.value for metric in version.metrics.filter(split="test")}
    set_quality_gates(model, [("roc_auc", "test", Direction.AT_LEAST, 0.999), ("f1", "test", Direction.AT_LEAST, 0.1)],
                      sensitive_column="segment", max_gap=measured["max_group_gap"] / 2)  # fmt: skip
    with pytest.raises(PromotionBlocked) as refused:
        request_promotion(model, version, owner)
    missing = refused.value.missing
    assert missing == [
        f"quality gate: roc_auc on test is {measured['roc_auc']:.4g}, needs at least 0.999",
        f"quality gate: fairness: largest gap between segment groups is {measured['max_group_gap']:.4g}, "
        f"needs at most {measured['max_group_gap'] / 2:g}",
    ]
    assert not version.promotion_requests.exists()


def test_met_gates_let_the_promotion_through(trained, owner):
    model, version = trained
    set_quality_gates(model, parse_thresholds("roc_auc test >= 0.5\nmax_group_gap <= 1"),
                      sensitive_column="segment", max_gap=1.0)  # fmt: skip
    assert request_promotion(model, version, owner).state == PromotionState.PENDING


def test_a_waiver_needs_an_approver_and_their_reason(trained, owner, teammate, outsider):
    model, version = trained
    set_quality_gates(model, [("roc_auc", "test", Direction.AT_LEAST, 0.999)])
    with pytest.raises(PermissionDenied):
        waive_gate(version, "roc_auc/test", by=outsider, reason="Because.")
    with pytest.raises(ValidationError, match="Say why"):
        waive_gate(version, "roc_auc/test", by=teammate, reason="  ")
    waiver = waive_gate(version, "roc_auc/test", by=teammate, reason="The business accepts 0.9 for the pilot.")
    assert waiver.approved_by == teammate
    promotion = request_promotion(model, version, owner)
    decide_promotion(promotion, "approve", teammate)
    version.refresh_from_db()
    assert version.stage == "production"


def test_bad_threshold_lines_are_named():
    with pytest.raises(ValidationError) as bad:
        parse_thresholds("roc_auc test >= 0.7\nf1 about 0.5\nroc_auc test <= 2")
    assert [message.split(":")[0] for message in bad.value.messages] == ["line 2 (f1 about 0.5)", "line 3"]


def test_the_version_page_shows_each_threshold_beside_its_measured_value(trained, client_for, owner, teammate):
    model, version = trained
    set_quality_gates(model, [("roc_auc", "test", Direction.AT_LEAST, 0.999)], sensitive_column="segment", max_gap=0.5)
    page = client_for(owner).get(version.get_absolute_url()).content.decode()
    roc_auc = version.metrics.get(name="roc_auc", split="test").value
    assert "roc_auc on test" in page and "at least 0.999" in page and f"{roc_auc:.4f}" in page
    assert "fairness: largest gap between segment groups" in page
    response = client_for(teammate).post(
        f"{version.get_absolute_url()}waivers/", {"gate": "roc_auc/test", "reason": ""}
    )
    assert response.status_code == 302 and not version.quality_waivers.exists()
    client_for(teammate).post(f"{version.get_absolute_url()}waivers/", {"gate": "roc_auc/test", "reason": "Pilot."})
    page = client_for(owner).get(version.get_absolute_url()).content.decode()
    assert "waived by tom" in page and "Pilot." in page


def test_the_gates_form_keeps_what_was_typed_and_names_the_bad_line(trained, client_for, owner):
    model, _ = trained
    response = client_for(owner).post(f"/models/{model.asset.slug}/gates/", {"thresholds": "roc_auc >= high"})
    assert response.status_code == 200
    assert "roc_auc &gt;= high" in response.content.decode() and "line 1" in response.content.decode()
    response = client_for(owner).post(f"/models/{model.asset.slug}/gates/",
                                      {"thresholds": "roc_auc test >= 0.7", "sensitive_column": "segment",
                                       "max_gap": "0.2"})  # fmt: skip
    assert response.status_code == 302
    assert [str(t) for t in model.quality_thresholds.all()] == ["roc_auc on test at least 0.7"]
