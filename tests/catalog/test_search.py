import pytest
from django.db import connection

from catalog.choices import AssetKind, Lifecycle
from catalog.models import Asset, Tag
from catalog.search import reindex, search_assets
from tests import factories
from tests.helpers import count_queries


def _index_all():
    reindex(Asset.objects.values_list("pk", flat=True))


@pytest.fixture
def catalog_content(owner):
    orders = factories.dataset(
        "Orders", owner=owner, description="Every validated order.", columns=[("order_id", "bigint")]
    )
    factories.dataset(
        "Order lines", owner=owner, description="One row per product in an order.", columns=[("sku", "text")]
    )
    factories.report("Revenue dashboard", description="Built from the orders table and the budget.")
    churn = factories.dataset("Churn training set", owner=factories.user("carol", first_name="Carol", last_name="Diaz"))
    churn.asset.tags.add(Tag.objects.create(name="marketing"))
    factories.asset(AssetKind.DATASET, "Old orders export", lifecycle=Lifecycle.RETIRED)
    factories.dataset("Customer emails", columns=[("email_address", "text")])
    _index_all()
    return orders


def _names(query, **options):
    return [asset.name for asset in search_assets(query, **options)]


@pytest.mark.django_db
def test_a_name_match_ranks_above_a_description_match(catalog_content):
    names = _names("orders")
    assert names[0] == "Orders"
    assert names.index("Orders") < names.index("Revenue dashboard")


@pytest.mark.django_db
def test_columns_tags_and_owners_are_searchable(catalog_content):
    assert _names("email_address") == ["Customer emails"]
    assert _names("marketing") == ["Churn training set"]
    assert _names("Carol Diaz", kind=AssetKind.DATASET) == ["Churn training set"]


@pytest.mark.django_db
def test_retired_assets_are_hidden_unless_asked_for_and_kind_filters(catalog_content):
    assert "Old orders export" not in _names("orders")
    assert "Old orders export" in _names("orders", include_retired=True)
    assert _names("orders", kind=AssetKind.REPORT) == ["Revenue dashboard"]


@pytest.mark.django_db
def test_a_short_or_misspelt_name_still_finds_the_asset(catalog_content):
    assert "Churn training set" in _names("churn")
    assert "Churn training set" in _names("chrun traning")


@pytest.mark.django_db
def test_a_misspelt_name_is_found_by_similarity_alone(catalog_content):
    # "chrun" is no word of any asset and no part of any name: only the trigram similarity finds it.
    assert _names("chrun") == ["Churn training set"]
    assert _names("chrun", kind=AssetKind.REPORT) == []


@pytest.mark.django_db
def test_a_word_only_in_the_description_or_part_of_a_name_is_found(catalog_content):
    assert _names("validated") == ["Orders"]
    assert _names("omer emai") == ["Customer emails"]


@pytest.mark.django_db
def test_a_query_too_short_for_trigrams_still_finds_whole_words(client_for, outsider, catalog_content):
    factories.report("HR headcount")
    _index_all()
    assert _names("hr") == ["HR headcount"]
    for query in ["%", "_", "x", "'", "-"]:
        response = client_for(outsider).get("/search/", {"q": query})
        assert response.status_code == 200
        assert "HR headcount" not in response.content.decode()


@pytest.mark.django_db
def test_past_the_limit_the_page_says_more_and_lists_the_best(monkeypatch, client_for, outsider, catalog_content):
    monkeypatch.setattr("catalog.search.MAX_RESULTS", 3)
    client = client_for(outsider)
    page = client.get("/search/?q=orders").content.decode()
    assert "3 results for “orders”" in page and "More than" not in page
    for index in range(3):
        factories.dataset(f"Orders copy {index}")
    _index_all()
    response = client.get("/search/?q=orders")
    assert "More than 3 results for “orders”" in response.content.decode()
    names = [asset.name for asset in response.context["page"]]
    assert len(names) == 3 and names[0] == "Orders"


@pytest.mark.django_db
def test_search_uses_the_gin_index(catalog_content):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'asset_search_vector_gin'")
        assert "USING gin (search_vector)" in cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_results_page_shows_kind_owner_and_status_in_constant_queries(client_for, outsider, catalog_content):
    client = client_for(outsider)
    response = client.get("/search/?q=orders&retired=1")
    html = response.content.decode()
    assert "Old orders export" in html and "Retired" in html and "olivia" in html and "Dataset" in html
    # Badges are computed on a result's first view and stored: measured once every result's is.
    client.get("/search/?q=orders")
    with count_queries() as few:
        client.get("/search/?q=orders")
    for index in range(40):
        factories.dataset(f"Orders copy {index}")
    _index_all()
    client.get("/search/?q=orders")
    with count_queries() as many:
        client.get("/search/?q=orders")
    assert len(few) == len(many)


@pytest.mark.django_db
def test_an_edit_through_the_page_is_searchable_at_once(client_for, owner, catalog_content):
    asset = catalog_content.asset
    client = client_for(owner)
    form = client.get("/catalog/dataset/orders/edit/").context["asset_form"]
    data = {
        "name": "Orders",
        "description": "Includes the loyalty programme.",
        "owner": owner.pk,
        "lifecycle": "active",
        "version": form["version"].value(),
        "detail-source": catalog_content.source_id,
        "detail-qualified_name": catalog_content.qualified_name,
        "detail-format": "table",
        "detail-classification": "internal",
    }
    assert client.post("/catalog/dataset/orders/edit/", data).status_code == 302
    assert _names("loyalty") == [asset.name]


@pytest.mark.django_db
def test_sqlite_style_fallback_matches_words_anywhere(monkeypatch, catalog_content):
    monkeypatch.setattr("catalog.search._is_postgres", lambda: False)
    _index_all()
    assert _names("order_id") == ["Orders"]
    assert _names("orders")[0] == "Orders"
