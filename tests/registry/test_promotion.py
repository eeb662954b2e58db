import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from core.models import Notification
from registry.choices import ChecklistItem, PromotionState, Stage
from registry.models import ChecklistTick, PromotionBlocked, PromotionRequest
from registry.services import decide_promotion, request_promotion
from tests import factories
from tests.registry.helpers import model_with_card, tick_everything

pytestmark = pytest.mark.django_db


@pytest.fixture
def staged(owner):
    model, version = model_with_card(owner)
    version.change_stage(Stage.STAGING, owner)
    return model, version


def test_a_request_is_refused_naming_exactly_the_unticked_items(owner, staged):
    model, version = staged
    version.tick(ChecklistItem.CODE_REVIEW, owner)
    with pytest.raises(PromotionBlocked) as refused:
        request_promotion(model, version, owner)
    expected = [f"checklist: {item.label}" for item in ChecklistItem if item != ChecklistItem.CODE_REVIEW]
    assert refused.value.missing == expected
    assert not PromotionRequest.objects.exists()


@override_settings(MODEL_CARD_COMPLETENESS_THRESHOLD=80)
def test_a_request_is_refused_when_the_card_is_below_the_threshold(owner):
    model, version = model_with_card(owner, complete=False)
    version.change_stage(Stage.STAGING, owner)
    tick_everything(version, owner)
    with pytest.raises(PromotionBlocked) as refused:
        request_promotion(model, version, owner)
    [blocker] = refused.value.missing
    percent, _ = model.card_completeness()
    assert blocker.startswith(f"model card {percent}% complete, needs 80%")
    assert "Model limitations" in blocker and "Recommendations" in blocker


def test_a_version_not_in_validation_cannot_be_requested(owner):
    model, version = model_with_card(owner)
    tick_everything(version, owner)
    with pytest.raises(PromotionBlocked, match="must be in validation"):
        request_promotion(model, version, owner)


def test_a_version_of_another_model_cannot_be_promoted_as_this_one(owner, staged):
    model, _ = staged
    _, other_version = model_with_card(owner, name="Lifetime value")
    with pytest.raises(ValidationError, match="belongs to another model"):
        request_promotion(model, other_version, owner)


def test_the_requester_cannot_approve_their_own_request(owner, staged):
    model, version = staged
    tick_everything(version, owner)
    promotion = request_promotion(model, version, owner)
    with pytest.raises(ValidationError, match="another person must approve"):
        promotion.approve(owner)
    promotion.refresh_from_db()
    version.refresh_from_db()
    assert (promotion.state, version.stage) == (PromotionState.PENDING, Stage.STAGING)


def test_staff_can_restrict_who_approves(owner, teammate, staged):
    model, version = staged
    approver = factories.user("amy")
    model.approvers.set([approver])
    tick_everything(version, owner)
    promotion = request_promotion(model, version, owner)
    with pytest.raises(PermissionDenied, match="not one of the people"):
        promotion.approve(teammate)
    promotion.approve(approver)
    version.refresh_from_db()
    assert version.stage == Stage.PRODUCTION


def test_an_outsider_cannot_approve_when_no_approvers_are_configured(owner, outsider, staged):
    model, version = staged
    tick_everything(version, owner)
    promotion = request_promotion(model, version, owner)
    with pytest.raises(PermissionDenied):
        promotion.approve(outsider)


def test_approval_rechecks_the_gate(owner, teammate, staged):
    model, version = staged
    tick_everything(version, owner)
    promotion = request_promotion(model, version, owner)
    version.untick(ChecklistItem.VALIDATION_MEETING)
    with pytest.raises(PromotionBlocked, match="Validation review meeting held"):
        promotion.approve(teammate)
    promotion.refresh_from_db()
    assert promotion.state == PromotionState.PENDING


def test_a_second_request_while_one_waits_is_refused(owner, staged):
    model, version = staged
    tick_everything(version, owner)
    request_promotion(model, version, owner)
    with pytest.raises(ValidationError, match="already waiting"):
        request_promotion(model, version, owner)


def test_a_decided_request_cannot_be_decided_again(owner, teammate, staged):
    model, version = staged
    tick_everything(version, owner)
    promotion = request_promotion(model, version, owner)
    promotion.reject(teammate, note="Not yet")
    with pytest.raises(ValidationError, match="already rejected"):
        promotion.approve(teammate)


def test_requesting_and_approving_notify_the_approvers_then_the_audience(owner, teammate, staged):
    model, version = staged
    tick_everything(version, owner)
    promotion = request_promotion(model, version, owner, note="Ready")
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == [teammate.username]
    decide_promotion(promotion, "approve", teammate)
    assert Notification.objects.filter(recipient=owner, title__contains="is now in use").exists()


def test_each_tick_records_who_when_and_the_link(owner, teammate, staged):
    _, version = staged
    version.tick(ChecklistItem.CODE_REVIEW, owner, link="https://review.example.com/1")
    first = ChecklistTick.objects.get(version=version, item=ChecklistItem.CODE_REVIEW)
    version.tick(ChecklistItem.CODE_REVIEW, teammate)
    again = ChecklistTick.objects.get(version=version, item=ChecklistItem.CODE_REVIEW)
    assert (first.ticked_by, first.link) == (owner, "https://review.example.com/1")
    assert (again.ticked_by, again.link) == (teammate, "")
    assert again.ticked_at >= first.ticked_at
    assert version.untick(ChecklistItem.CODE_REVIEW) is True
    assert not ChecklistTick.objects.filter(version=version).exists()


def test_the_version_control_item_needs_a_link(owner, staged):
    _, version = staged
    with pytest.raises(ValidationError) as error:
        version.tick(ChecklistItem.VERSION_CONTROL, owner)
    assert "link" in error.value.message_dict
    assert not ChecklistTick.objects.exists()
