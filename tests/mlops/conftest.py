"""The MLOps tests reuse the training fixtures (a churn CSV under DATA_ROOT, a private MLflow store)."""

import pytest

from tests.monitoring.conftest import churn, http_server, mlflow_store  # noqa: F401 (fixtures)
from tests.monitoring.test_training import run_training
from tests.registry.helpers import model_with_card, tick_everything


@pytest.fixture
def trained(churn, owner, mlflow_store):  # noqa: F811 (fixtures)
    """A churn model with a complete card and a version 2 trained by the real training job (logistic regression on
    tenure_months, orders_90d and segment, sensitive column segment), in validation with its checklist ticked."""
    model, _ = model_with_card(owner)
    run = run_training(model, owner)
    assert run.state == "succeeded", run.error
    version = model.versions.get(version=2)
    version.change_stage("staging", owner)
    tick_everything(version, owner)
    return model, version
