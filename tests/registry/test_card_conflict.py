"""Issue 13 item 7: two people edit one model card. The second save never reverts what the first saved: sections only
the first changed keep their text, sections only the second changed are applied, and sections both changed are shown
side by side (yours, the saved one) until the second person chooses: keep theirs, take the saved text, or merge."""

import pytest

from registry.models import ModelCard
from tests.registry.helpers import model_with_card

pytestmark = pytest.mark.django_db


def url(model):
    return f"/models/{model.asset.slug}/card/edit/"


def opened(card):
    """What the edit form posts as it was opened: every section and the revision it shows."""
    return {**{name: getattr(card, name) for name in ModelCard.TEXT_FIELDS}, "base_revision": card.revision}


def as_shown(response, **choices):
    """What a browser posts from the page ``response`` shows, with ``choices`` (``resolve_<section>``) picked and
    any merge box typed in (``<section>``)."""
    form, resolution = response.context["form"], response.context["conflict"]["resolution"]
    data = {name: form[name].value() for name in ModelCard.TEXT_FIELDS}
    data["base_revision"] = form["base_revision"].value()
    data.update({field.html_name: field.value() for field in resolution.hidden_fields()})
    return {**data, **choices}


@pytest.fixture
def card_edited_meanwhile(owner, teammate, client_for):
    """Olivia opened the card at revision 1; Tom then saved a new Limitations and Results (revision 2)."""
    model, _ = model_with_card(owner, complete=False)
    model.card.edit({"limitations": "Weak on B2B.", "results": "F1 0.70"}, owner, base_revision=0)
    model.card.refresh_from_db()
    olivias = opened(model.card)
    toms = {**opened(model.card), "limitations": "Weak on B2B and on new customers.", "results": "F1 0.72 on May."}
    assert client_for(teammate).post(url(model), toms).status_code == 302
    return model, olivias


def test_a_stale_save_keeps_the_sections_only_the_other_person_changed(card_edited_meanwhile, owner, client_for):
    model, olivias = card_edited_meanwhile
    client = client_for(owner)
    response = client.post(url(model), {**olivias, "results": "F1 0.70; AUC 0.81.", "problem": "Churn costs 2M."})
    assert response.status_code == 409
    form = response.context["form"]
    # Tom's Limitations is in the form Olivia now sees, not the text she opened: saving again cannot revert it.
    assert form["limitations"].value() == "Weak on B2B and on new customers."
    assert form["problem"].value() == "Churn costs 2M."
    page = response.content.decode()
    assert 'data-testid="conflict-results"' in page and 'data-testid="conflict-limitations"' not in page
    assert 'data-testid="yours-results">F1 0.70; AUC 0.81.<' in page
    assert 'data-testid="saved-results">F1 0.72 on May.<' in page
    assert "Their changes to sections you did not edit are in the form: Model limitations." in page

    saved = client.post(url(model), as_shown(response, resolve_results="yours"))
    assert saved.status_code == 302
    card = ModelCard.objects.get(pk=model.pk)
    assert (card.limitations, card.results, card.problem) == (
        "Weak on B2B and on new customers.", "F1 0.70; AUC 0.81.", "Churn costs 2M.",
    )  # fmt: skip
    latest = card.revisions.first()
    assert (latest.number, latest.author, sorted(latest.changed_fields)) == (3, owner, ["problem", "results"])


def test_edits_of_different_sections_are_saved_together_without_a_refusal(card_edited_meanwhile, owner, client_for):
    model, olivias = card_edited_meanwhile
    response = client_for(owner).post(url(model), {**olivias, "problem": "Churn costs 2M."}, follow=True)
    assert response.redirect_chain[-1][1] == 302
    card = ModelCard.objects.get(pk=model.pk)
    assert (card.problem, card.limitations, card.results) == (
        "Churn costs 2M.", "Weak on B2B and on new customers.", "F1 0.72 on May.",
    )  # fmt: skip
    assert card.revisions.first().changed_fields == ["problem"]
    assert "Changes others saved meanwhile are kept: Model limitations, Results." in response.content.decode()


def test_taking_the_saved_text_or_a_merge_per_section(card_edited_meanwhile, owner, client_for):
    model, olivias = card_edited_meanwhile
    client = client_for(owner)
    mine = {**olivias, "results": "F1 0.70; AUC 0.81.", "limitations": "Weak on B2B; retrain monthly."}
    response = client.post(url(model), mine)
    assert response.status_code == 409
    # The merge box starts with both texts.
    assert response.context["form"]["results"].value() == "F1 0.72 on May.\nF1 0.70; AUC 0.81."
    merged = "F1 0.72 on May; AUC 0.81."
    saved = client.post(url(model), as_shown(response, resolve_limitations="saved", resolve_results="merged",
                                             results=merged))  # fmt: skip
    assert saved.status_code == 302
    card = ModelCard.objects.get(pk=model.pk)
    assert (card.limitations, card.results) == ("Weak on B2B and on new customers.", merged)
    assert card.revisions.first().changed_fields == ["results"]


def test_saving_without_choosing_is_refused_and_keeps_everything_typed(card_edited_meanwhile, owner, client_for):
    model, olivias = card_edited_meanwhile
    client = client_for(owner)
    response = client.post(url(model), {**olivias, "results": "F1 0.70; AUC 0.81."})
    again = client.post(url(model), as_shown(response, results="My half-done merge"))
    assert again.status_code == 409
    page = again.content.decode()
    assert "Choose which text of results to save." in page
    assert "My half-done merge</textarea>" in page
    assert 'data-testid="yours-results">F1 0.70; AUC 0.81.<' in page
    assert ModelCard.objects.get(pk=model.pk).results == "F1 0.72 on May."


def test_a_third_save_while_resolving_is_caught_too(card_edited_meanwhile, owner, teammate, client_for):
    model, olivias = card_edited_meanwhile
    client = client_for(owner)
    response = client.post(url(model), {**olivias, "results": "F1 0.70; AUC 0.81."})
    model.card.refresh_from_db()
    ModelCard.objects.get(pk=model.pk).edit({"results": "F1 0.73 in June."}, teammate, base_revision=2)
    again = client.post(url(model), as_shown(response, resolve_results="yours"))
    assert again.status_code == 409
    assert 'data-testid="saved-results">F1 0.73 in June.<' in again.content.decode()
    assert ModelCard.objects.get(pk=model.pk).results == "F1 0.73 in June."
