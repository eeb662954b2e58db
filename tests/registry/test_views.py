import pytest
from django.utils import timezone

from catalog.models import LineageEdge
from registry.choices import ChecklistItem, PromotionState, Stage
from registry.models import Assumption, ChecklistTick, ModelCard, ModelVersion, PromotionRequest, RegisteredModel
from registry.services import register_version
from tests import factories
from tests.helpers import assert_num_queries, count_queries
from tests.registry.helpers import model_with_card, tick_everything

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("x")</script><a href="javascript:alert(1)">link</a><img src=x onerror="alert(2)">'


def card_post(card, **changes):
    data = {name: getattr(card, name) for name in ModelCard.TEXT_FIELDS}
    return {**data, **changes, "base_revision": card.revision}


def test_anyone_signed_in_reads_the_card_with_its_sections_versions_and_hooks(client_for, owner, outsider):
    model, _ = model_with_card(owner)
    response = client_for(outsider).get(f"/models/{model.asset.slug}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Some text about fairness validation." in page
    assert "100%" in page and "Edit the card" not in page
    # The versions are on their own tab, at their own URL (issue 17).
    versions = client_for(outsider).get(f"/models/{model.asset.slug}/versions/").content.decode()
    assert 'data-testid="version-1"' in versions and 'aria-current="page">Versions<' in versions


def test_the_owner_registers_a_model_and_becomes_its_owner(client_for, owner, team):
    response = client_for(owner).post(
        "/models/new/", {"name": "Basket size", "team": team.pk, "summary": "Items per order.", "goal": "Stock"}
    )
    model = RegisteredModel.objects.get(asset__slug="basket-size")
    assert response.url == "/models/basket-size/"
    assert (model.asset.owner, model.asset.team, model.card.revision) == (owner, team, 0)


def test_registering_a_model_without_a_name_shows_the_error_and_keeps_the_input(client_for, owner):
    response = client_for(owner).post("/models/new/", {"name": "", "summary": "Kept summary"})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert "Kept summary" in response.content.decode()
    assert not RegisteredModel.objects.exists()


def test_a_model_cannot_take_a_slug_that_is_a_page():
    model = factories.user("u")
    from registry.services import register_model

    assert register_model("New", owner=model).asset.slug == "new-2"


def test_the_owner_saves_the_card_and_it_becomes_a_revision(client_for, owner):
    model, _ = model_with_card(owner, complete=False)
    response = client_for(owner).post(
        f"/models/{model.asset.slug}/card/edit/", card_post(model.card, limitations="Weak on B2B.")
    )
    assert response.status_code == 302
    card = ModelCard.objects.get(pk=model.pk)
    assert (card.limitations, card.revision, card.revisions.get().author) == ("Weak on B2B.", 1, owner)


def test_a_stale_save_is_refused_keeps_the_text_and_links_the_other_change(client_for, owner, teammate):
    model, _ = model_with_card(owner, complete=False)
    opened = card_post(model.card)
    client_for(teammate).post(f"/models/{model.asset.slug}/card/edit/", {**opened, "results": "Theirs"})
    response = client_for(owner).post(f"/models/{model.asset.slug}/card/edit/", {**opened, "results": "My results"})
    assert response.status_code == 409
    page = response.content.decode()
    assert "Your changes were not saved" in page and "tom saved this card" in page
    assert "My results</textarea>" in page
    assert f"/models/{model.asset.slug}/card/diff/?from=0&amp;to=1" in page
    assert ModelCard.objects.get(pk=model.pk).results == "Theirs"
    # Having seen the other change, the owner's next save goes through.
    assert response.context["form"]["base_revision"].value() == 1


def test_an_outsider_cannot_edit_the_card_or_see_the_edit_form(client_for, owner, outsider):
    model, _ = model_with_card(owner, complete=False)
    client = client_for(outsider)
    assert client.get(f"/models/{model.asset.slug}/card/edit/").status_code == 403
    response = client.post(f"/models/{model.asset.slug}/card/edit/", card_post(model.card, results="Hacked"))
    assert response.status_code == 403
    assert ModelCard.objects.get(pk=model.pk).results == ""


@pytest.mark.parametrize("field", ModelCard.TEXT_FIELDS)
def test_scripts_in_every_card_section_are_removed_on_the_card_and_the_print_view(client_for, owner, field):
    model, _ = model_with_card(owner, complete=False)
    model.card.edit({field: f"Hello {SCRIPT}"}, owner, base_revision=0)
    for url in (f"/models/{model.asset.slug}/", f"/models/{model.asset.slug}/card/print/"):
        page = client_for(owner).get(url).content.decode()
        assert "Hello" in page
        assert "<script>alert" not in page and "javascript:alert" not in page and "onerror" not in page


@pytest.mark.parametrize("field", ["goal", "users_description"])
def test_scripts_in_the_models_own_markdown_fields_are_removed(client_for, owner, field):
    model, _ = model_with_card(owner, complete=False)
    setattr(model, field, f"Hello {SCRIPT}")
    model.save()
    page = client_for(owner).get(f"/models/{model.asset.slug}/").content.decode()
    assert "<script>alert" not in page and "javascript:alert" not in page and "onerror" not in page


def test_the_preview_renders_markdown_without_scripts(client_for, owner):
    response = client_for(owner).post("/models/markdown-preview/?field=results", {"results": f"**bold** {SCRIPT}"})
    html = response.content.decode()
    assert "<strong>bold</strong>" in html
    assert "<script>" not in html and "javascript:" not in html
    assert client_for(owner).post("/models/markdown-preview/?field=revision").status_code == 400


def test_history_diff_and_restore(client_for, owner, teammate):
    model, _ = model_with_card(owner, complete=False)
    model.card.edit({"results": "First"}, owner, base_revision=0)
    model.card.edit({"results": "Second"}, teammate, base_revision=1)
    client = client_for(owner)
    history = client.get(f"/models/{model.asset.slug}/card/history/").content.decode()
    assert 'data-testid="revision-2"' in history and "Results" in history
    diff = client.get(f"/models/{model.asset.slug}/card/diff/?from=1&to=2").content.decode()
    assert '<span class="removed">\u2212 First</span>' in diff and '<span class="added">+ Second</span>' in diff
    assert client.get(f"/models/{model.asset.slug}/card/diff/?from=1&to=9").status_code == 404
    response = client.post(f"/models/{model.asset.slug}/card/revisions/1/restore/", {"base_revision": 2})
    assert response.status_code == 302
    assert ModelCard.objects.get(pk=model.pk).results == "First"


def test_an_outsider_cannot_restore(client_for, owner, outsider):
    model, _ = model_with_card(owner, complete=False)
    model.card.edit({"results": "First"}, owner, base_revision=0)
    model.card.edit({"results": "Second"}, owner, base_revision=1)
    response = client_for(outsider).post(f"/models/{model.asset.slug}/card/revisions/1/restore/", {"base_revision": 2})
    assert response.status_code == 403
    assert ModelCard.objects.get(pk=model.pk).results == "Second"


def test_a_version_registered_by_hand_links_its_datasets_in_the_lineage(client_for, owner):
    model, _ = model_with_card(owner, complete=False)
    training = factories.dataset("Orders 2025", owner=owner)
    holdout = factories.dataset("Orders holdout", owner=owner)
    response = client_for(owner).post(
        f"/models/{model.asset.slug}/versions/new/",
        {
            "algorithm": "XGBoost", "hyperparameters": '{"max_depth": 6}', "features": "age, tenure",
            "training_datasets": "Orders 2025", "evaluation_datasets": f"dataset/{holdout.asset.slug}",
            "metrics": "f1 = 0.8\nauc=0.9", "split": "holdout",
        },
    )  # fmt: skip
    version = ModelVersion.objects.get(model=model, version=2)
    assert response.url == f"/models/{model.asset.slug}/versions/2/"
    assert (version.hyperparameters, version.features) == ({"max_depth": 6}, ["age", "tenure"])
    assert {(m.name, m.value, m.split) for m in version.metrics.all()} == {
        ("f1", 0.8, "holdout"),
        ("auc", 0.9, "holdout"),
    }
    assert (
        LineageEdge.objects.filter(downstream=version.asset, upstream__in=[training.asset, holdout.asset]).count() == 2
    )


def test_bad_metrics_and_hyperparameters_are_refused_with_the_input_kept(client_for, owner):
    model, _ = model_with_card(owner, complete=False)
    response = client_for(owner).post(
        f"/models/{model.asset.slug}/versions/new/",
        {"algorithm": "XGBoost", "hyperparameters": "[1, 2]", "metrics": "f1 is good", "split": "test"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Line 1 is not" in page and "Give an object" in page and "f1 is good" in page
    assert model.versions.count() == 1


def test_ticking_through_the_page_records_the_person_and_an_outsider_is_refused(client_for, owner, outsider):
    model, _ = model_with_card(owner)
    url = f"/models/{model.asset.slug}/versions/1/checklist/"
    assert client_for(outsider).post(url, {"item": ChecklistItem.CODE_REVIEW}).status_code == 403
    assert not ChecklistTick.objects.exists()
    client_for(owner).post(url, {"item": ChecklistItem.CODE_REVIEW, "link": "https://review.example.com/7"})
    tick = ChecklistTick.objects.get()
    assert (tick.ticked_by, tick.link) == (owner, "https://review.example.com/7")


def test_the_version_control_item_needs_a_link_and_can_be_unticked(client_for, owner):
    model, _ = model_with_card(owner)
    url = f"/models/{model.asset.slug}/versions/1/checklist/"
    page = client_for(owner).post(url, {"item": ChecklistItem.VERSION_CONTROL}, follow=True).content.decode()
    assert "Give the link to the code in version control." in page
    assert not ChecklistTick.objects.exists()
    client_for(owner).post(url, {"item": ChecklistItem.VERSION_CONTROL, "link": "https://git.example.com/c"})
    client_for(owner).post(url, {"item": ChecklistItem.VERSION_CONTROL, "action": "untick"})
    assert not ChecklistTick.objects.exists()
    assert client_for(owner).post(url, {"item": "coffee"}).status_code == 400


def test_a_refused_promotion_lists_the_missing_items_on_the_page(client_for, owner):
    model, version = model_with_card(owner)
    version.change_stage(Stage.STAGING, owner)
    client = client_for(owner)
    response = client.post(f"/models/{model.asset.slug}/versions/1/promotion/", follow=True)
    page = response.content.decode()
    assert "Promotion refused" in page
    for item in ChecklistItem:
        assert f"checklist: {item.label}" in page
    assert not PromotionRequest.objects.exists()


def test_promotion_through_the_pages_request_then_approval_by_someone_else(client_for, owner, teammate):
    model, version = model_with_card(owner)
    version.change_stage(Stage.STAGING, owner)
    tick_everything(version, owner)
    client_for(owner).post(f"/models/{model.asset.slug}/versions/1/promotion/", {"note": "Ready"})
    promotion = PromotionRequest.objects.get()
    url = f"/models/{model.asset.slug}/versions/1/promotion/{promotion.pk}/"
    client_for(owner).post(url, {"action": "approve"})
    promotion.refresh_from_db()
    assert promotion.state == PromotionState.PENDING
    client_for(teammate).post(url, {"action": "approve"})
    version.refresh_from_db()
    assert version.stage == Stage.PRODUCTION


def test_stage_change_through_the_page_and_a_refused_one(client_for, owner, outsider):
    model, version = model_with_card(owner)
    url = f"/models/{model.asset.slug}/versions/1/stage/"
    assert client_for(outsider).post(url, {"to": Stage.STAGING}).status_code == 403
    page = client_for(owner).post(url, {"to": Stage.PRODUCTION}, follow=True).content.decode()
    assert "must be in validation before it can be in use" in page
    client_for(owner).post(url, {"to": Stage.STAGING, "reason": "Ready for review"})
    version.refresh_from_db()
    assert version.stage == Stage.STAGING
    assert "Ready for review" in client_for(owner).get(f"/models/{model.asset.slug}/versions/1/").content.decode()


def test_assumptions_are_added_and_verified_by_editors_only(client_for, owner, outsider):
    model, _ = model_with_card(owner, complete=False)
    url = f"/models/{model.asset.slug}/assumptions/"
    assert client_for(outsider).post(url, {"statement": "X", "valid_for_days": 30}).status_code == 403
    client_for(owner).post(url, {"statement": "Prices are stable.", "valid_for_days": 30})
    assumption = Assumption.objects.get()
    assert assumption.verified_on is None
    client_for(owner).post(f"{url}{assumption.pk}/", {"action": "verify"})
    assumption.refresh_from_db()
    assert (assumption.verified_on, assumption.verified_by) == (timezone.localdate(), owner)


def test_model_users_are_listed_and_a_duplicate_is_refused(client_for, owner):
    model, _ = model_with_card(owner, complete=False)
    url = f"/models/{model.asset.slug}/users/"
    client_for(owner).post(url, {"name": "CRM team", "kind": "internal", "needs": "Weekly scores"})
    page = client_for(owner).post(url, {"name": "crm team", "kind": "internal"}, follow=True).content.decode()
    assert "already listed" in page
    assert model.model_users.count() == 1


def test_compare_shows_each_metric_side_by_side_and_a_chart_per_metric(client_for, owner):
    model, _ = model_with_card(owner)
    register_version(model, created_by=owner, metrics={"f1": 0.75, "auc": 0.9})
    response = client_for(owner).get(f"/models/{model.asset.slug}/compare/")
    page = response.content.decode()
    assert [row["values"] for row in response.context["rows"]] == [[None, 0.9], [0.7, 0.75]]
    assert 'id="chart-auc-test"' in page and 'id="chart-f1-test"' in page
    assert "/static/vendor/plotly/plotly.min.js" in page


def test_the_model_list_costs_the_same_queries_for_one_or_many_models(client_for, owner):
    client = client_for(owner)
    model_with_card(owner)
    # session, user, paginator count, unread notifications badge, the models with owner and team, their versions
    # in use (6); then the trust badge of every row at once: the stored badges, none yet for a new model, so
    # the facts (assets, a lineage walk from each, deprecations, deprecated inputs, serious issues, freshness) and
    # what card completeness reads (cards, assumptions, developers, model users, quality thresholds (issue 17),
    # versions with whether they have training data and metrics), the models in use with their monitoring status,
    # the maintenance windows (issue 15), the quality checks (issue 16), and storing them (a statement in a
    # savepoint: 3)
    with assert_num_queries(24):
        client.get("/models/")
    for number in range(10):
        model_with_card(owner, name=f"Model {number}")
    with assert_num_queries(24):
        assert client.get("/models/").status_code == 200


def test_the_list_filters_by_stage_and_text(client_for, owner):
    model_with_card(owner, name="Churn")
    _, version = model_with_card(owner, name="Basket")
    version.change_stage(Stage.STAGING, owner)
    page = client_for(owner).get("/models/?stage=staging").content.decode()
    assert ">Basket<" in page and ">Churn<" not in page
    assert ">Churn<" in client_for(owner).get("/models/?q=chu").content.decode()


def test_the_card_shows_the_mlflow_run_parameters_and_metrics_of_the_version_in_use(client_for, owner, outsider):
    model, version = model_with_card(owner)
    version.mlflow_run_id, version.model_uri = "abc123", "models:/churn/1"
    version.run_params, version.run_metrics = {"max_depth": "6"}, {"val_auc": 0.8123}
    version.save()
    page = client_for(outsider).get(f"/models/{model.asset.slug}/").content.decode()
    assert "MLflow run abc123" in page and "models:/churn/1" in page
    assert "<td>max_depth</td><td>6</td>" in page and "<td>val_auc</td><td>0.8123</td>" in page


def test_the_list_counts_each_models_versions(client_for, owner):
    model_with_card(owner, name="Churn")
    factories.registered_model("Uplift", owner=owner)
    page = client_for(owner).get("/models/")
    counts = {model.asset.name: model.version_count for model in page.context["page"]}
    assert counts == {"Churn": 1, "Uplift": 0}


# --- what the model's pages cost, and that they compute once ------------------------------------------------------
def _model_page(owner):
    """A model with a complete card and one version trained on a dataset, fed by that dataset, badge stored."""
    from trust.badges import badges_for

    model, version = model_with_card(owner)
    factories.edge(version.training_datasets.get(), model.asset)
    badges_for([model.asset])
    return model, version


def test_the_model_page_costs_a_pinned_number_of_queries(client_for, owner, outsider):
    model, _ = _model_page(owner)
    client = client_for(outsider)
    # session, user; the model's asset with owner, team, the model, its card and its last editor, and can_edit
    # (one query, ``asset_for_user``); what the card shows: developers, approvers, model users, tags, assumptions
    # with who verified them, versions, their metrics, training datasets, their assets, evaluation datasets; the
    # pending promotion; the one walk upstream; the menu's unread notifications; the trust header: deprecation,
    # deprecated inputs, open issues, the stored badge, watching, pending acknowledgements, last review,
    # certification; the latest training run; the header's freshness panel: the inputs' policies, its own; the
    # model's monitoring status (issue 19).
    with assert_num_queries(28):
        assert client.get(f"/models/{model.asset.slug}/").status_code == 200


def test_the_model_page_walks_upstream_once_checks_can_edit_once_and_writes_nothing(client_for, owner, teammate):
    model, _ = _model_page(owner)
    client = client_for(teammate)
    with count_queries() as captured:
        page = client.get(f"/models/{model.asset.slug}/")
    assert page.context["can_edit"] is True and "Edit the card" in page.content.decode()
    sql = [query["sql"] for query in captured]
    assert sum("WITH RECURSIVE" in statement for statement in sql) == 1
    # can_edit is an EXISTS on the team membership inside the asset's query, not a query of its own.
    assert sum("accounts_team_members" in statement for statement in sql) == 1
    assert not [statement for statement in sql if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


def test_the_version_page_costs_a_pinned_number_of_queries(client_for, owner, outsider):
    _, version = _model_page(owner)
    client = client_for(outsider)
    # session, user; the model's asset, its card and can_edit (one query, as on the model page) and the same nine
    # prefetches; the version's checklist ticks, its promotion requests, the menu's unread notifications, its stage
    # changes; the model's quality thresholds (with get_model) and the version's waivers.
    with assert_num_queries(19):
        assert client.get(version.get_absolute_url()).status_code == 200


def test_several_datasets_are_typed_and_each_unknown_one_is_named_with_nothing_registered(client_for, owner):
    model, _ = model_with_card(owner, complete=False)
    training = factories.dataset("Orders 2025", owner=owner)
    extra = factories.dataset("Refunds 2025", owner=owner)
    versions_before = ModelVersion.objects.filter(model=model).count()
    typed = f"Orders 2025, dataset/{extra.asset.slug}, Nowhere, Gone too"
    url = f"/models/{model.asset.slug}/versions/new/"
    response = client_for(owner).post(url, {"algorithm": "XGBoost", "training_datasets": typed, "split": "test"})
    assert response.status_code == 200
    errors = response.context["form"].errors["training_datasets"]
    assert errors == ["No dataset called “Nowhere”, “Gone too”. Start typing and pick each from the suggestions."]
    assert typed in response.content.decode()  # what was typed stays
    assert ModelVersion.objects.filter(model=model).count() == versions_before
    twice = f"Orders 2025, dataset/{extra.asset.slug}, Orders 2025"
    client_for(owner).post(url, {"algorithm": "XGBoost", "training_datasets": twice, "split": "test"})
    version = ModelVersion.objects.get(model=model, version=versions_before + 1)
    assert sorted(version.training_datasets.values_list("pk", flat=True)) == sorted([training.pk, extra.pk])
