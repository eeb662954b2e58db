import pytest
from django.core.exceptions import ValidationError

from registry.choices import Stage
from registry.models import Metric, ModelVersion, StageChange
from registry.services import request_promotion
from tests import factories
from tests.registry.helpers import model_with_card, tick_everything

pytestmark = pytest.mark.django_db

LEGAL = [
    (Stage.DEVELOPMENT, Stage.STAGING),
    (Stage.DEVELOPMENT, Stage.ARCHIVED),
    (Stage.STAGING, Stage.DEVELOPMENT),
    (Stage.STAGING, Stage.ARCHIVED),
    (Stage.PRODUCTION, Stage.ARCHIVED),
    (Stage.ARCHIVED, Stage.DEVELOPMENT),
]
ILLEGAL = [
    (Stage.DEVELOPMENT, Stage.PRODUCTION),
    (Stage.STAGING, Stage.PRODUCTION),  # only through an approved promotion request
    (Stage.ARCHIVED, Stage.PRODUCTION),
    (Stage.ARCHIVED, Stage.STAGING),
    (Stage.PRODUCTION, Stage.STAGING),
    (Stage.PRODUCTION, Stage.DEVELOPMENT),
    (Stage.DEVELOPMENT, Stage.DEVELOPMENT),
]


@pytest.mark.parametrize(("start", "to"), LEGAL)
def test_a_legal_move_changes_the_stage_and_is_recorded_with_actor_and_reason(owner, start, to):
    model = factories.registered_model("Churn", owner=owner)
    version = factories.model_version(model, stage=start)
    version.change_stage(to, owner, reason="Because")
    assert ModelVersion.objects.get(pk=version.pk).stage == to
    change = StageChange.objects.get(version=version)
    assert (change.from_stage, change.to_stage, change.actor, change.reason) == (start, to, owner, "Because")
    assert change.created_at is not None


@pytest.mark.parametrize(("start", "to"), ILLEGAL)
def test_an_illegal_move_is_refused_and_changes_nothing(owner, start, to):
    model = factories.registered_model("Churn", owner=owner)
    version = factories.model_version(model, stage=start)
    with pytest.raises(ValidationError):
        version.change_stage(to, owner)
    assert ModelVersion.objects.get(pk=version.pk).stage == start
    assert not StageChange.objects.exists()


def test_an_unknown_stage_is_refused(owner):
    version = factories.model_version(factories.registered_model("Churn", owner=owner))
    with pytest.raises(ValidationError, match="not a stage"):
        version.change_stage("live", owner)


def test_the_admin_form_refuses_an_illegal_move_through_clean(owner):
    version = factories.model_version(factories.registered_model("Churn", owner=owner), stage=Stage.ARCHIVED)
    version.stage = Stage.PRODUCTION
    with pytest.raises(ValidationError) as error:
        version.full_clean()
    assert "stage" in error.value.message_dict


def test_approving_a_promotion_puts_the_version_in_use_and_retires_the_previous_one(owner, teammate):
    model, old = model_with_card(owner)
    old.change_stage(Stage.STAGING, owner)
    tick_everything(old, owner)
    request_promotion(model, old, owner).approve(teammate)
    new = factories.model_version(model, stage=Stage.STAGING)
    Metric.objects.create(version=new, name="f1", value=0.7, split="test")  # the card's quality gate
    tick_everything(new, owner)
    request_promotion(model, new, owner).approve(teammate)
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.stage, new.stage) == (Stage.ARCHIVED, Stage.PRODUCTION)
    retirement = StageChange.objects.get(version=old, to_stage=Stage.ARCHIVED)
    assert retirement.actor == teammate
    assert retirement.reason == f"Replaced by v{new.version}."
    assert ModelVersion.objects.filter(model=model, stage=Stage.PRODUCTION).count() == 1
