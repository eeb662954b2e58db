"""Builders for registry tests: a model whose card and checklist are as complete as a test needs."""

from django.utils import timezone

from registry.choices import ChecklistItem
from registry.models import Assumption, Direction, ModelCard
from registry.services import register_model, register_version, set_quality_gates
from tests import factories

FULL_CARD = {name: f"Some text about {name.replace('_', ' ')}." for name in ModelCard.TEXT_FIELDS}


def model_with_card(owner, name="Churn predictor", team=None, complete=True):
    """A model of the owner's (first) team with one version under development; ``complete`` fills its card."""
    team = team or owner.teams.first()
    model = register_model(name, owner=owner, team=team, summary="Who will leave.", goal="Keep customers.")
    training = factories.dataset(f"{name} training", owner=owner)
    version = register_version(
        model, created_by=owner, training_datasets=[training], metrics={"f1": 0.7}, algorithm="Random forest"
    )
    if complete:
        model.users_description = "The CRM team, to target retention offers."
        model.save()
        Assumption.objects.create(
            model=model, statement="Customers behave as last year.", verified_on=timezone.localdate()
        )
        model.card.edit(FULL_CARD, owner, base_revision=0)
        # The card counts quality gates (issue 17): one every measured version meets; gate tests set their own.
        set_quality_gates(model, [("f1", "test", Direction.AT_LEAST, 0.0)])
    return model, version


def tick_everything(version, by):
    for item in ChecklistItem:
        version.tick(item, by, link="https://git.example.com/churn")
