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


def promote(model, version, owner, approver):
    """Put ``version`` into use through the real gate: requested by the owner, approved by another person."""
    from registry.services import decide_promotion, request_promotion

    decide_promotion(request_promotion(model, version, owner), "approve", approver)
    version.refresh_from_db()
    return version


def churn_frame(rows=400, seed=7, tenure_shift=0):
    """Rows shaped like the training file (``write_churn``), with tenure_months moved by ``tenure_shift``."""
    import random

    import pandas as pd

    rng = random.Random(seed)
    records = []
    for index in range(rows):
        tenure, orders = rng.randint(1, 72), rng.randint(0, 12)
        segment = rng.choice(["consumer", "business"])
        churned = int(0.3 * (6 - orders) - 0.02 * tenure + rng.gauss(0, 0.5) > 0)
        records.append({"id": f"r{seed}-{index}", "tenure_months": tenure + tenure_shift, "orders_90d": orders,
                        "segment": segment, "churned": churned})  # fmt: skip
    return pd.DataFrame.from_records(records)


def scored_lines(version, frame, when):
    """JSON lines of ``frame`` scored by the real model of ``version``, as a client would log them."""
    import json

    from mlops.scoring import load_model, predict

    predictions, scores = predict(load_model(version), frame, version.features)
    lines = []
    for index, row in enumerate(frame.to_dict("records")):
        lines.append(json.dumps({
            "id": row["id"], "time": when.isoformat(),
            "features": {name: row[name] for name in version.features},
            "prediction": int(predictions[index]), "score": float(scores[index]),
        }))  # fmt: skip
    return "\n".join(lines)


@pytest.fixture
def in_use(trained, owner, teammate):
    model, version = trained
    promote(model, version, owner, teammate)
    return model, version
