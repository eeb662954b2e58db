import pytest

from catalog.models import LineageEdge
from registry.choices import ChecklistItem, PromotionState, Stage
from registry.models import ChecklistTick, ModelCard, ModelVersion, PromotionRequest, RegisteredModel
from registry.services import register_model, register_version
from tests import factories
from tests.registry.helpers import model_with_card, tick_everything

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client_for):
    def make(user):
        client = client_for(user)
        client.defaults["HTTP_ACCEPT"] = "application/json"
        return client

    return make


def test_models_list_and_detail_carry_slug_and_completeness(api, owner, outsider):
    model, _ = model_with_card(owner, complete=False)
    listing = api(outsider).get("/api/v1/models/?q=churn").json()
    assert [row["slug"] for row in listing["results"]] == ["churn-predictor"]
    detail = api(outsider).get(f"/api/v1/models/{model.asset.slug}/").json()
    percent, missing = model.card_completeness()
    assert detail["completeness"] == {"percent": percent, "missing": missing}


def test_the_list_and_the_card_agree_on_training_data_and_metrics(api, owner, outsider):
    with_both, _ = model_with_card(owner, name="Churn")
    without = register_model("Basket", owner=owner, summary="Items.", goal="Sell more.")
    register_version(without, created_by=owner, algorithm="Trees")
    listing = {row["slug"]: row["completeness"] for row in api(outsider).get("/api/v1/models/").json()["results"]}
    assert (
        "Training data" not in listing["churn"]["missing"] and "Diagnostic metrics" not in listing["churn"]["missing"]
    )
    assert {"Training data", "Diagnostic metrics"} <= set(listing["basket"]["missing"])
    for model in (with_both, without):
        model = RegisteredModel.objects.get(pk=model.pk)  # read alone, as the model's own page reads it
        percent, missing = model.card_completeness()
        assert listing[model.asset.slug] == {"percent": percent, "missing": missing}


def test_models_found_by_the_start_of_their_name_as_in_mlflow_search(api, owner, outsider):
    for name in ("churn-eu", "Churn-US", "basket-churn"):
        register_model(name, owner=owner)
    listing = api(outsider).get("/api/v1/models/?name_prefix=churn-").json()
    assert sorted(row["name"] for row in listing["results"]) == ["Churn-US", "churn-eu"]


def test_create_a_model_and_refuse_bad_input(api, owner, team):
    response = api(owner).post(
        "/api/v1/models/", {"name": "Basket", "team": team.slug, "summary": "Items"}, "application/json"
    )
    assert response.status_code == 201, response.json()
    assert RegisteredModel.objects.get(asset__slug="basket").asset.owner == owner
    bad = api(owner).post("/api/v1/models/", {"summary": "No name"}, "application/json")
    assert bad.status_code == 400 and "name" in bad.json()["errors"]


def test_only_staff_choose_approvers(api, owner, staff):
    model, _ = model_with_card(owner, complete=False)
    url = f"/api/v1/models/{model.asset.slug}/"
    assert api(owner).patch(url, {"approvers": [owner.username]}, "application/json").status_code == 400
    assert api(staff).patch(url, {"approvers": [owner.username]}, "application/json").status_code == 200
    assert list(model.approvers.all()) == [owner]


def test_an_outsider_cannot_change_a_model(api, owner, outsider):
    model, _ = model_with_card(owner, complete=False)
    response = api(outsider).patch(f"/api/v1/models/{model.asset.slug}/", {"summary": "Hacked"}, "application/json")
    assert response.status_code == 403
    assert RegisteredModel.objects.get(pk=model.pk).summary == "Who will leave."


def test_card_edit_with_etag_and_if_match_and_a_stale_one_is_refused(api, owner, teammate):
    model, _ = model_with_card(owner, complete=False)
    url = f"/api/v1/models/{model.asset.slug}/card/"
    got = api(owner).get(url)
    etag = got["ETag"]
    assert etag == '"0"'
    saved = api(teammate).patch(url, {"results": "Theirs"}, "application/json", HTTP_IF_MATCH=etag)
    assert saved.status_code == 200 and saved["ETag"] == '"1"'
    stale = api(owner).patch(url, {"results": "Mine"}, "application/json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert stale.json()["current_revision"] == 1 and stale.json()["changed_by"] == "tom"
    assert ModelCard.objects.get(pk=model.pk).results == "Theirs"


def test_card_edit_with_a_revision_in_the_body_and_without_any(api, owner):
    model, _ = model_with_card(owner, complete=False)
    url = f"/api/v1/models/{model.asset.slug}/card/"
    assert api(owner).patch(url, {"results": "x"}, "application/json").status_code == 428
    assert api(owner).patch(url, {"results": "x", "revision": 0}, "application/json").status_code == 200
    assert api(owner).patch(url, {"results": "y", "revision": 0}, "application/json").status_code == 409


def test_an_outsider_cannot_edit_the_card_through_the_api(api, owner, outsider):
    model, _ = model_with_card(owner, complete=False)
    url = f"/api/v1/models/{model.asset.slug}/card/"
    assert api(outsider).patch(url, {"results": "x", "revision": 0}, "application/json").status_code == 403
    assert ModelCard.objects.get(pk=model.pk).revision == 0


def test_revisions_and_restore_through_the_api(api, owner):
    model, _ = model_with_card(owner, complete=False)
    model.card.edit({"results": "First"}, owner, base_revision=0)
    model.card.edit({"results": "Second"}, owner, base_revision=1)
    revisions = api(owner).get(f"/api/v1/models/{model.asset.slug}/card/revisions/").json()
    assert [r["number"] for r in revisions] == [2, 1]
    url = f"/api/v1/models/{model.asset.slug}/card/revisions/1/restore/"
    assert api(owner).post(url, {}, "application/json", HTTP_IF_MATCH='"1"').status_code == 412
    response = api(owner).post(url, {}, "application/json", HTTP_IF_MATCH='"2"')
    assert response.status_code == 200 and response.json()["results"] == "First"


def test_register_a_version_through_the_api_with_datasets_and_metrics(api, owner):
    model, _ = model_with_card(owner, complete=False)
    dataset = factories.dataset("Orders", owner=owner)
    response = api(owner).post(
        f"/api/v1/models/{model.asset.slug}/versions/",
        {"algorithm": "XGBoost", "training_datasets": ["orders"], "metrics": [{"name": "f1", "value": 0.8}],
         "split": "holdout", "hyperparameters": {"depth": 3}},
        "application/json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    assert response.json()["version"] == 2 and response.json()["metrics"] == [
        {"name": "f1", "value": 0.8, "split": "holdout"}
    ]
    version = ModelVersion.objects.get(model=model, version=2)
    assert LineageEdge.objects.filter(upstream=dataset.asset, downstream=version.asset).exists()
    bad = api(owner).post(f"/api/v1/models/{model.asset.slug}/versions/", {"hyperparameters": [1]}, "application/json")
    assert bad.status_code == 400 and "hyperparameters" in bad.json()["errors"]


def test_stage_moves_through_the_api_obey_the_model_rules(api, owner, outsider):
    model, _ = model_with_card(owner, complete=False)
    url = f"/api/v1/models/{model.asset.slug}/versions/1/stage/"
    assert api(outsider).post(url, {"to": "staging"}, "application/json").status_code == 403
    refused = api(owner).post(url, {"to": "production"}, "application/json")
    assert refused.status_code == 400 and "must be in validation" in str(refused.json()["detail"])
    moved = api(owner).post(url, {"to": "staging", "reason": "Review"}, "application/json")
    assert moved.status_code == 200 and moved.json()["actor"] == owner.username
    assert ModelVersion.objects.get(model=model).stage == Stage.STAGING


def test_ticking_checklist_items_through_the_api(api, owner, outsider):
    model, _ = model_with_card(owner)
    url = f"/api/v1/models/{model.asset.slug}/versions/1/checklist/"
    assert api(outsider).post(url, {"item": "code_review"}, "application/json").status_code == 403
    no_link = api(owner).post(url, {"item": "version_control"}, "application/json")
    assert no_link.status_code == 400 and "link" in no_link.json()["errors"]
    made = api(owner).post(url, {"item": "code_review", "link": "https://review.example.com/1"}, "application/json")
    assert made.status_code == 201 and made.json()["ticked_by"] == owner.username
    assert [t["item"] for t in api(outsider).get(url).json()] == ["code_review"]
    assert api(owner).delete(f"{url}?item=code_review").status_code == 204
    assert not ChecklistTick.objects.exists()


def test_promotion_through_the_api_refused_then_requested_then_approved_by_another(api, owner, teammate):
    model, version = model_with_card(owner)
    version.change_stage(Stage.STAGING, owner)
    base = f"/api/v1/models/{model.asset.slug}/versions/1"
    refused = api(owner).post(f"{base}/promotion/", {}, "application/json")
    assert refused.status_code == 400
    assert refused.json()["missing"] == [f"checklist: {item.label}" for item in ChecklistItem]
    tick_everything(version, owner)
    assert api(owner).post(f"{base}/promotion/", {"note": "Go"}, "application/json").status_code == 201
    self_approval = api(owner).post(f"{base}/promotion/approve/", {}, "application/json")
    assert self_approval.status_code == 400 and "another person" in str(self_approval.json()["detail"])
    approved = api(teammate).post(f"{base}/promotion/approve/", {}, "application/json")
    assert approved.status_code == 200 and approved.json()["state"] == PromotionState.APPROVED
    assert ModelVersion.objects.get(pk=version.pk).stage == Stage.PRODUCTION
    assert api(teammate).post(f"{base}/promotion/approve/", {}, "application/json").status_code == 404
    assert PromotionRequest.objects.get().decided_by == teammate


def test_a_summary_edited_through_the_api_describes_the_model_in_the_catalog_and_search(api, owner):
    from catalog.search import search_assets

    model, _ = model_with_card(owner)
    url = f"/api/v1/models/{model.asset.slug}/"
    response = api(owner).patch(url, {"summary": "Predicts basket abandonment."}, "application/json")
    assert response.status_code == 200
    model.asset.refresh_from_db()
    assert model.asset.description == "Predicts basket abandonment."
    assert model.asset in search_assets("abandonment")


def test_versions_are_read_one_at_a_time_and_an_unknown_model_or_version_is_a_404(api, owner, outsider):
    model, _ = model_with_card(owner)
    register_version(model, created_by=owner, algorithm="Boosted trees", metrics={"f1": 0.8})
    reader = api(outsider)
    listing = reader.get(f"/api/v1/models/{model.asset.slug}/versions/").json()
    assert [row["version"] for row in listing["results"]] == [2, 1]
    second = reader.get(f"/api/v1/models/{model.asset.slug}/versions/2/").json()
    assert second["algorithm"] == "Boosted trees" and [m["name"] for m in second["metrics"]] == ["f1"]
    assert reader.get(f"/api/v1/models/{model.asset.slug}/versions/3/").status_code == 404
    missing = reader.get("/api/v1/models/no-such-model/versions/")
    assert missing.status_code == 404 and "detail" in missing.json()
