"""The registry as people use it, in Chromium: an owner takes a model to production, a teammate approves."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from registry.choices import ChecklistItem, Stage
from registry.models import ModelCard, ModelVersion, RegisteredModel
from registry.services import request_promotion
from tests import factories
from tests.registry.helpers import tick_everything

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def completeness(page):
    return int(re.search(r"(\d+)%", page.get_by_test_id("completeness").inner_text()).group(1))


def test_owner_takes_a_version_into_use_and_a_teammate_approves(
    page, browser, live_server, sign_in, page_errors, owner, teammate, team
):
    factories.dataset("Churn training", owner=owner, team=team)
    sign_in(page, owner)
    _register_the_model_and_its_first_version(page, live_server, team)
    _fill_the_card_and_add_a_verified_assumption(page)

    # v1 goes into use; then the owner registers v2 and takes it through the gate.
    model = RegisteredModel.objects.get(asset__slug="churn-predictor")
    v1 = model.versions.get(version=1)
    v1.change_stage(Stage.STAGING, owner)
    tick_everything(v1, owner)
    request_promotion(model, v1, owner).approve(teammate)
    _take_v2_through_the_gate(page, live_server, owner)

    # The teammate approves in their own session.
    other = browser.new_context().new_page()
    sign_in(other, teammate)
    other.goto(f"{live_server.url}/models/churn-predictor/versions/2/")
    expect(other.locator('[aria-current="step"]')).to_contain_text("Approval")
    other.get_by_test_id("step-next").get_by_role("link", name="Review the request").click()
    other.get_by_role("button", name="Approve: put v2 into use").click()
    expect(other.get_by_test_id("stage")).to_have_text("In use")
    expect(other.locator('[aria-current="step"]')).to_contain_text("In use")
    other.context.close()

    page.goto(f"{live_server.url}/models/churn-predictor/versions/")
    expect(page.get_by_test_id("version-2")).to_contain_text("In use")
    expect(page.get_by_test_id("version-1")).to_contain_text("Retired")
    assert ModelVersion.objects.get(model=model, version=1).stage == Stage.ARCHIVED
    assert page_errors == []


def _register_the_model_and_its_first_version(page, live_server, team):
    page.goto(f"{live_server.url}/models/")
    page.get_by_role("link", name="Register a model").click()
    page.fill("#id_name", "Churn predictor")
    page.select_option("#id_team", label=team.name)
    page.fill("#id_summary", "Probability that a customer leaves in 90 days.")
    page.fill("#id_goal", "Target retention offers.")
    page.fill("#id_users_description", "The CRM team, weekly scores.")
    page.get_by_role("button", name="Register model").click()
    expect(page.locator("h1")).to_have_text("Churn predictor")
    after_model = completeness(page)
    page.get_by_text("More actions").click()  # secondary actions live in the header's menu (issue 17)
    page.get_by_role("link", name="Register a version").click()
    page.fill("#id_algorithm", "Gradient boosting")
    page.get_by_label("Training datasets").fill("Churn training")
    # The field asks for suggestions as it is typed: they arrive before the form is sent (a request still on its
    # way when the page changes is cancelled, which the page-error check reports).
    expect(page.locator("#id_training_datasets-suggestions option").first).to_have_attribute(
        "value", "dataset/churn-training"
    )
    page.fill("#id_metrics", "roc_auc = 0.79")
    page.get_by_role("button", name="Register version").click()
    expect(page.get_by_test_id("stage")).to_have_text("Under development")
    page.get_by_role("link", name="Churn predictor").last.click()
    assert completeness(page) > after_model


def _fill_the_card_and_add_a_verified_assumption(page):
    """Every section, one previewed; the card is then complete."""
    after_version = completeness(page)
    page.get_by_role("link", name="Edit the card").click()
    page.fill("#id_limitations", "Weak on **new** customers.")
    page.locator("#id_limitations ~ button", has_text="Preview").click()
    expect(page.locator("#preview-limitations strong")).to_have_text("new")
    for name in ModelCard.TEXT_FIELDS:
        if name != "limitations":
            page.fill(f"#id_{name}", f"What we know about {name.replace('_', ' ')}.")
    page.get_by_label("Thresholds").fill("roc_auc test >= 0.75")  # the gates are in the editor too (issue 17)
    page.get_by_role("button", name="Save card").click()
    expect(page.locator(".flash-success")).to_contain_text("Card saved as revision 1. Quality gates saved.")
    assert completeness(page) > after_version
    page.get_by_text("Add an assumption").click()
    page.fill("#id_statement", "Customers behave as they did last year.")
    page.fill("#id_verified_on", timezone.localdate().isoformat())
    page.get_by_role("button", name="Add assumption").click()
    assert completeness(page) == 100


def _take_v2_through_the_gate(page, live_server, owner):
    """Following the stepper: into validation, the checklist ticked item by item, the request, then pending another
    person's approval."""
    page.goto(f"{live_server.url}/models/churn-predictor/versions/new/")
    page.fill("#id_algorithm", "Gradient boosting, more trees")
    page.fill("#id_metrics", "roc_auc = 0.81")
    page.get_by_role("button", name="Register version").click()
    # From here on, only the stepper (issue 17): its next action is always the primary button in its box.
    step = page.get_by_test_id("step-next")
    expect(page.locator('[aria-current="step"]')).to_contain_text("Under development")
    step.get_by_role("button", name="Start validation").click()
    expect(page.get_by_test_id("stage")).to_have_text("In validation")
    expect(page.locator('[aria-current="step"]')).to_contain_text("Checklist")
    for item in ChecklistItem:
        expect(page.get_by_test_id("step-missing")).to_contain_text(item.label)
    step.get_by_role("link", name="Tick the checklist").click()
    for item in ChecklistItem:
        row = page.get_by_test_id(f"check-{item.value}")
        if item == ChecklistItem.VERSION_CONTROL:
            row.get_by_role("textbox").fill("https://git.example.com/churn")
        row.get_by_role("button", name=f"Tick {item.label}").click()
        expect(page.get_by_test_id(f"check-{item.value}")).to_contain_text(f"ticked by {owner.username}")
    expect(page.locator('[aria-current="step"]')).to_contain_text("Request")
    step.get_by_role("button", name="Request promotion").click()
    expect(page.locator('[aria-current="step"]')).to_contain_text("Approval")
    expect(page.get_by_test_id("pending")).to_contain_text("You asked for this; another person must approve it.")


def test_a_second_save_of_the_same_card_shows_both_texts_and_undoes_nothing(
    page, browser, live_server, sign_in, page_errors, owner, teammate
):
    """Issue 13 item 7: Tom and Olivia edit the card at the same time. Olivia's save shows the sections both
    changed side by side; Tom's other change is in her form, so saving again cannot revert it."""
    factories.registered_model("Churn predictor", owner=owner, team=teammate.teams.first())
    sign_in(page, owner)
    page.goto(f"{live_server.url}/models/churn-predictor/card/edit/")
    other = browser.new_context().new_page()
    sign_in(other, teammate)
    other.goto(f"{live_server.url}/models/churn-predictor/card/edit/")

    other.get_by_label("Model limitations").fill("Weak on B2B customers.")
    other.get_by_label("Results", exact=True).fill("Tom's results.")
    other.get_by_label("Recommendations").fill("Tom's advice.")
    other.get_by_role("button", name="Save card").click()
    expect(other.locator(".flash-success")).to_contain_text("revision 1")
    other.context.close()

    page.get_by_label("Results", exact=True).fill("Olivia's results, written at the same time.")
    page.get_by_label("Recommendations").fill("Olivia's advice.")
    page.get_by_label("The problem").fill("Churn costs 2M a year.")
    page.get_by_role("button", name="Save card").click()
    conflict = page.get_by_test_id("conflict")
    expect(conflict).to_contain_text("Your changes were not saved")
    expect(conflict).to_contain_text("tom saved this card")
    # Side by side: hers and the saved text, for each section both changed; Tom's other section is in her form.
    expect(page.get_by_test_id("yours-results")).to_have_text("Olivia's results, written at the same time.")
    expect(page.get_by_test_id("saved-results")).to_have_text("Tom's results.")
    expect(page.get_by_test_id("saved-recommendations")).to_have_text("Tom's advice.")
    expect(page.get_by_test_id("conflict-limitations")).to_have_count(0)
    expect(page.get_by_label("Model limitations")).to_have_value("Weak on B2B customers.")
    expect(page.get_by_label("The problem")).to_have_value("Churn costs 2M a year.")
    assert ModelCard.objects.get(model__asset__slug="churn-predictor").results == "Tom's results."

    # Saving without choosing is refused, with everything kept.
    page.get_by_role("button", name="Save card").click()
    expect(page.get_by_test_id("conflict-results")).to_contain_text("Choose which text of results to save.")
    expect(page.get_by_test_id("yours-results")).to_have_text("Olivia's results, written at the same time.")

    # Results: keep hers. Recommendations: typing in the merge box chooses "Merge".
    page.get_by_test_id("conflict-results").get_by_label("Keep yours").check()
    box = page.get_by_label("Merge box for recommendations")
    expect(box).to_have_value("Tom's advice.\nOlivia's advice.")
    box.fill("Tom's advice, and Olivia's.")
    expect(page.get_by_test_id("conflict-recommendations").get_by_label("Merge: save the box below")).to_be_checked()
    page.get_by_role("button", name="Save card").click()
    expect(page.locator(".flash-success")).to_contain_text("revision 2")

    card = ModelCard.objects.get(model__asset__slug="churn-predictor")
    assert (card.limitations, card.results, card.recommendations, card.problem) == (
        "Weak on B2B customers.", "Olivia's results, written at the same time.", "Tom's advice, and Olivia's.",
        "Churn costs 2M a year.",
    )  # fmt: skip
    assert sorted(card.revisions.first().changed_fields) == ["problem", "recommendations", "results"]
    # The 409s of the refused saves are the point of this test, not errors.
    assert [error for error in page_errors if "409" not in error] == []


def test_an_owner_fills_every_completeness_item_from_the_one_editor_and_sees_100_percent(
    page, live_server, sign_in, page_errors, owner, teammate, team
):
    """Issue 17: the facts, every section, a verified assumption, a user, the quality gates and the first version,
    all typed in the card editor; the meter follows the typing to 100 % and one Save keeps it there."""
    from registry.cards import field_label
    from registry.services import register_model

    model = register_model("Churn predictor", owner=owner, team=team)
    model.developers.clear()
    training = factories.dataset("Churn training", owner=owner, team=team)
    sign_in(page, owner)
    page.goto(f"{live_server.url}/models/churn-predictor/")
    page.get_by_role("link", name="Edit the card").click()
    expect(page.get_by_role("heading", name="Edit the card of Churn predictor")).to_be_visible()
    assert completeness(page) < 100

    page.get_by_role("navigation", name="Sections of the card").get_by_role("link", name="The model's facts").click()
    page.get_by_label("Summary", exact=True).fill("Probability that a customer leaves in 90 days.")
    page.get_by_label("Goal", exact=True).fill("Target retention offers.")
    page.get_by_label("Developers", exact=True).select_option(label=teammate.username)
    for name in ModelCard.TEXT_FIELDS:
        page.get_by_label(field_label(name), exact=True).fill(f"What we know about {name.replace('_', ' ')}.")
    page.get_by_label("Statement").fill("Customers behave as they did last year.")
    page.get_by_label("Verified on").fill(timezone.localdate().isoformat())
    page.get_by_label("Team or organisation").fill("CRM team")
    page.get_by_label("Needs", exact=True).fill("Weekly scores to target retention offers.")
    page.get_by_role("navigation", name="Sections of the card").get_by_role("link", name="Quality gates").click()
    page.get_by_label("Thresholds").fill("roc_auc test >= 0.75")
    page.get_by_label("Sensitive column").fill("segment")
    page.get_by_label("Largest gap allowed between groups").fill("0.1")
    page.get_by_role("navigation", name="Sections of the card").get_by_role("link", name="Register a version").click()
    page.get_by_label("Algorithm or architecture").fill("Gradient boosting")
    # Typed, with suggestions (a catalog holds too many datasets to list them all); a person picks the suggestion.
    page.get_by_label("Training datasets").press_sequentially(training.asset.name[:6])
    suggestion = page.locator("#id_version-training_datasets-suggestions option").first
    expect(suggestion).to_have_attribute("value", f"dataset/{training.asset.slug}")
    page.get_by_label("Training datasets").fill(suggestion.get_attribute("value"))
    page.get_by_label("Metrics", exact=True).fill("roc_auc = 0.79")

    # The meter follows the typing, before anything is saved.
    expect(page.get_by_test_id("completeness")).to_contain_text("100%")
    expect(page.get_by_text("Every section is filled.")).to_be_visible()
    page.get_by_role("button", name="Save card").click()

    expect(page.locator(".flash-success")).to_contain_text("Card saved as revision 1.")
    expect(page.locator(".flash-success")).to_contain_text("Quality gates saved. Version 1 registered")
    expect(page.locator(".flash-success")).to_contain_text("It is 100% complete.")
    assert completeness(page) == 100
    model.refresh_from_db()
    assert model.card_completeness() == (100, [])
    assert [user.username for user in model.developers.all()] == [teammate.username]
    assert model.assumptions.get().verified_by == owner
    version = model.versions.get()
    assert (version.algorithm, list(version.training_datasets.all())) == ("Gradient boosting", [training])
    assert [str(threshold) for threshold in model.quality_thresholds.all()] == ["roc_auc on test at least 0.75"]
    assert page_errors == []
