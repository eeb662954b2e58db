import json

import pytest
import yaml

from registry.models import Metric
from tests.registry.helpers import model_with_card

pytestmark = pytest.mark.django_db


@pytest.fixture
def model(owner):
    model, version = model_with_card(owner)
    Metric.objects.create(version=version, name="roc_auc", value=0.81, split="holdout")
    return model


def test_the_markdown_export_has_hugging_face_front_matter_with_model_index_metrics(client_for, owner, model):
    response = client_for(owner).get(f"/models/{model.asset.slug}/card.md")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="churn-predictor-model-card.md"'
    text = response.content.decode()
    _, front, body = text.split("---\n", 2)
    meta = yaml.safe_load(front)
    [entry] = meta["model-index"]
    assert entry["name"] == "churn-predictor"
    results = {r["dataset"]["name"]: {m["type"]: m["value"] for m in r["metrics"]} for r in entry["results"]}
    assert results == {"test": {"f1": 0.7}, "holdout": {"roc_auc": 0.81}}
    assert body.lstrip().startswith("# Churn predictor")
    assert "### Fairness validation result" in body
    assert "Some text about limitations." in body


def test_the_json_export_follows_model_card_toolkit(client_for, outsider, model):
    response = client_for(outsider).get(f"/models/{model.asset.slug}/card.json")
    assert response.status_code == 200
    card = json.loads(response.content)
    assert card["model_details"]["name"] == "Churn predictor"
    assert card["model_details"]["owners"][0]["name"] == "olivia"
    assert card["model_parameters"]["model_architecture"] == "Random forest"
    assert {"type": "roc_auc", "value": 0.81, "slice": "holdout"} in card["quantitative_analysis"][
        "performance_metrics"
    ]
    assert card["considerations"]["limitations"] == [{"description": "Some text about limitations."}]
    assert card["considerations"]["assumptions"][0]["statement"] == "Customers behave as last year."
    assert card["project"]["recommendations"] == "Some text about recommendations."
