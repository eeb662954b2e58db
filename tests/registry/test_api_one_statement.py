"""Issue 18: the registry's hot reads (get a model, get a version, a page of either) in one SQL statement besides
the token's, with answers identical to the serializers' on rows read the classic way (``prefetch_related``)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIRequestFactory

from catalog.models import Tag
from registry.api.serializers import ModelVersionSerializer, RegisteredModelSerializer
from registry.choices import ChecklistItem
from registry.models import Assumption, ModelUser, ModelVersion, RegisteredModel
from registry.services import register_version, set_people
from tests import factories
from tests.helpers import count_queries
from tests.registry.helpers import model_with_card

pytestmark = pytest.mark.django_db


@pytest.fixture
def model(owner, outsider, staff):
    """A model with every related row the API shows: tags, developers, approvers, users, an assumption that needs
    verifying and one that does not, versions with and without training data and metrics, a ticked checklist."""
    model, _ = model_with_card(owner, name="Churn")
    model.asset.tags.add(Tag.objects.create(name="retention"), Tag.objects.create(name="crm"))
    set_people(model, developers=[owner, outsider], approvers=[staff])
    ModelUser.objects.create(model=model, name="CRM team", needs="A weekly list.")
    Assumption.objects.create(
        model=model, statement="Prices stay.", verified_on=timezone.localdate() - timedelta(days=400)
    )
    evaluation = factories.dataset("Churn holdout", owner=owner)
    second = register_version(model, created_by=owner, algorithm="", evaluation_datasets=[evaluation])
    second.tick(ChecklistItem.CODE_REVIEW, owner, link="https://git.example.com/review/1")
    return RegisteredModel.objects.get(pk=model.pk)


def classic_model(model, request):
    """The serializer's answer on rows read with ``prefetch_related``, as before the change."""
    classic = (
        RegisteredModel.objects.with_completeness_facts()
        .select_related("asset__owner", "asset__team")
        .prefetch_related("asset__tags", "approvers")
        .get(pk=model.pk)
    )
    return RegisteredModelSerializer(classic, context={"request": request}).data


def classic_version(version, request):
    classic = (
        ModelVersion.objects.select_related("asset", "created_by")
        .prefetch_related(
            "metrics", "training_datasets__asset", "evaluation_datasets__asset", "checklist_ticks__ticked_by"
        )
        .get(pk=version.pk)
    )
    return ModelVersionSerializer(classic, context={"request": request}).data


@pytest.mark.parametrize("prepared", [True, False], ids=["prepared statement", "plain statement"])
def test_get_model_answers_as_the_serializer_did_in_one_statement_besides_the_token(
    model, outsider, settings, prepared
):
    settings.DATABASE_PREPARE = prepared
    client = factories.api_client(outsider)
    client.get(f"/api/v1/models/{model.asset.slug}/")  # the token's first use of the minute is written
    with count_queries() as captured:
        answer = client.get(f"/api/v1/models/{model.asset.slug}/").json()
    assert len(captured) == 2, [query["sql"][:80] for query in captured]  # the token, the model
    assert all(query["sql"].startswith("EXECUTE") == prepared for query in captured)
    request = APIRequestFactory().get("/")
    assert answer == classic_model(model, request)
    assert sorted(answer["asset"]["tags"]) == ["crm", "retention"]
    assert sorted(answer["developers"]) == sorted([model.asset.owner.username, outsider.username])
    assert "Model assumptions (verified)" in answer["completeness"]["missing"]  # one needs verifying


def test_get_version_answers_as_the_serializer_did_in_one_statement_besides_the_token(model, outsider):
    client = factories.api_client(outsider)
    for version in model.versions.all():
        url = f"/api/v1/models/{model.asset.slug}/versions/{version.version}/"
        client.get(url)
        with count_queries() as captured:
            answer = client.get(url).json()
        assert len(captured) == 2, [query["sql"][:80] for query in captured]
        assert answer == classic_version(version, APIRequestFactory().get("/"))
    first, second = sorted(model.versions.all(), key=lambda version: version.version)
    second_answer = client.get(f"/api/v1/models/{model.asset.slug}/versions/{second.version}/").json()
    assert second_answer["evaluation_datasets"] == ["churn-holdout"]
    assert second_answer["checklist"][0]["item"] == ChecklistItem.CODE_REVIEW
    assert second_answer["checklist"][0]["ticked_by"] == model.asset.owner.username
    assert client.get(f"/api/v1/models/{model.asset.slug}/versions/{first.version}/").json()["metrics"] == [
        {"name": "f1", "value": 0.7, "split": "test"}
    ]


def test_a_page_of_models_and_of_versions_answers_as_the_serializer_did(model, owner, outsider):
    other, _ = model_with_card(owner, name="Basket", complete=False)
    client = factories.api_client(outsider)
    request = APIRequestFactory().get("/")
    listing = {row["slug"]: row for row in client.get("/api/v1/models/").json()["results"]}
    assert listing == {m.asset.slug: classic_model(m, request) for m in (model, other)}
    versions = client.get(f"/api/v1/models/{model.asset.slug}/versions/").json()["results"]
    assert versions == [classic_version(v, request) for v in model.versions.order_by("-version")]


def test_an_unknown_model_or_version_is_a_404_with_a_json_body(model, outsider):
    client = factories.api_client(outsider)
    for url in ("/api/v1/models/nope/", f"/api/v1/models/{model.asset.slug}/versions/99/"):
        response = client.get(url)
        assert response.status_code == 404 and "detail" in response.json()
