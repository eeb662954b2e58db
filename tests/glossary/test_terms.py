"""The business glossary (issue 17): terms with a definition, an owner, synonyms and what uses them; search finds
them; a report's page shows the terms it uses with their definitions; edits follow the owner and history rules."""

import pytest

from glossary.models import Term, TermChange
from tests import factories

pytestmark = pytest.mark.django_db


def _term(owner, team=None, **fields):
    fields = {"name": "Active customer", "definition": "A customer who **ordered** in the last 90 days.", **fields}
    return Term.objects.create(owner=owner, team=team, synonyms="active buyer\nrecent customer", **fields)


def test_anyone_signed_in_adds_a_term_and_owns_it_with_its_history(client_for, owner):
    report = factories.report("Sales", owner=owner).asset
    response = client_for(owner).post(
        "/glossary/new/",
        {
            "name": "Net revenue",
            "definition": "Revenue after refunds.",
            "synonyms": "net sales",
            "assets": [report.pk],
            "owner": owner.pk,
        },
    )
    term = Term.objects.get(name="Net revenue")
    assert response.status_code == 302 and response.url == "/glossary/net-revenue/"
    assert term.owner == owner and list(term.assets.all()) == [report]
    change = TermChange.objects.get(term=term)
    assert change.created and change.actor == owner


def test_a_report_page_lists_the_terms_it_uses_with_their_definitions(client_for, owner, outsider):
    report = factories.report("Sales", owner=owner).asset
    _term(owner).assets.add(report)
    html = client_for(outsider).get(report.get_absolute_url()).content.decode()
    terms = html.split('data-testid="asset-terms"', 1)[1].split("</section>", 1)[0]
    assert "Active customer" in terms
    assert 'title="A customer who ordered in the last 90 days."' in terms  # the definition on hover, plain text


def test_search_finds_a_term_by_name_synonym_or_definition(client_for, owner, outsider):
    _term(owner)
    client = client_for(outsider)
    for query in ["active cust", "recent customer", "90 days"]:
        assert "Active customer" in client.get("/glossary/", {"q": query}).content.decode(), query
    results = client.get("/search/", {"q": "active buyer"}).content.decode()
    assert 'data-testid="glossary-results"' in results and "Active customer" in results


def test_the_owner_and_team_edit_and_the_history_says_who_changed_what(client_for, owner, teammate, team):
    term = _term(owner, team)
    data = {"name": term.name, "definition": "Ordered in the last 60 days.", "owner": owner.pk, "team": team.pk,
            "version": term.updated_at.isoformat()}  # fmt: skip
    assert client_for(teammate).post(f"/glossary/{term.slug}/edit/", data).status_code == 302
    term.refresh_from_db()
    assert term.definition == "Ordered in the last 60 days."
    page = client_for(owner).get(term.get_absolute_url()).content.decode()
    history = page.split('data-testid="term-history"', 1)[1]
    assert "by tom" in history and "Ordered in the last 60 days." in history


def test_an_outsider_cannot_edit_a_term(client_for, owner, outsider):
    term = _term(owner)
    client = client_for(outsider)
    assert client.get(f"/glossary/{term.slug}/edit/").status_code == 403
    data = {"name": "Hacked", "definition": "x", "owner": outsider.pk}
    assert client.post(f"/glossary/{term.slug}/edit/", data).status_code == 403
    term.refresh_from_db()
    assert term.name == "Active customer" and not TermChange.objects.exists()


def test_a_stale_edit_is_refused_and_keeps_the_text(client_for, owner):
    term = _term(owner)
    opened = term.updated_at.isoformat()
    Term.objects.filter(pk=term.pk).update(definition="Changed meanwhile.")
    term.refresh_from_db()
    term.save()  # a later save: the form opened before it is stale
    data = {"name": term.name, "definition": "My version.", "owner": owner.pk, "version": opened}
    response = client_for(owner).post(f"/glossary/{term.slug}/edit/", data)
    assert response.status_code == 400 and "Someone else saved this term" in response.content.decode()
    assert "My version." in response.content.decode()


def test_naming_someone_else_owner_is_refused_like_for_assets(client_for, owner, outsider):
    response = client_for(outsider).post("/glossary/new/", {"name": "Basket", "definition": "x", "owner": owner.pk})
    assert response.status_code == 400 and not Term.objects.exists()


def test_two_names_with_the_same_slug_get_a_numbered_one_as_assets_do(owner):
    """The slug comes from the catalog's one slug maker: a second "Net revenue" spelled otherwise is numbered (it
    was refused by the database before)."""
    first = _term(owner, name="Net revenue")
    second = _term(owner, name="Net-revenue")
    long = _term(owner, name="a" * 100)
    shouting = _term(owner, name="A" * 100)
    assert (first.slug, second.slug) == ("net-revenue", "net-revenue-2")
    assert long.slug == "a" * 100 and shouting.slug == "a" * 98 + "-2"  # the number fits in the field
