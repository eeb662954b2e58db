import pytest

from catalog.models import LineageEdge
from registry.choices import Stage
from registry.services import register_version
from tests import factories


@pytest.mark.django_db
def test_a_new_version_gets_the_next_number_its_metrics_and_lineage(owner):
    model = factories.registered_model("Churn", owner=owner)
    factories.model_version(model)
    training = factories.dataset("Churn training", owner=owner)
    version = register_version(
        model, created_by=owner, training_datasets=[training], metrics={"f1": 0.7}, algorithm="Random forest"
    )
    assert (version.version, version.stage, version.asset.slug) == (2, Stage.DEVELOPMENT, "churn-v2")
    assert version.asset.owner == owner
    assert {m.name: m.value for m in version.metrics.all()} == {"f1": 0.7}
    assert LineageEdge.objects.filter(upstream=training.asset, downstream=version.asset).exists()
