"""One search box over every asset: names, descriptions, column names, tags and owners.

On PostgreSQL each asset carries a weighted ``search_vector`` (name A; tags and columns B; owners C; description D)
behind a GIN index, ranked with ``ts_rank``, plus substring and trigram matching on names so that partial or misspelt
names still match; each of those reads its own index and only the candidates they find are ranked.
Elsewhere (SQLite for ``make run``) the same ``search_text`` is matched with ``icontains``, ranked by name first.
"""

import re
from collections.abc import Sequence

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector, TrigramWordSimilarity
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Prefetch, Q, Value, When
from django.db.models.functions import Greatest
from django.shortcuts import render

from catalog.choices import AssetKind
from catalog.models import Asset, Column
from core.http import query_without_page
from core.onequery import place_prefetched

PAGE_SIZE = 25
CONFIG = "english"
# Trigram word similarity from which a name counts as a match: catches one or two typos in a short name
# ("chrun" finds "Churn training set") without matching unrelated words.
SIMILAR_ENOUGH = 0.3
# The most results one search returns. Every way of matching stops after this many rows, so a word found in tens of
# thousands of assets costs about what a rare one does; past it the page says "more than 500 results" (GitHub shows
# "1k+" the same way) and a second word or a kind narrows the search.
MAX_RESULTS = 500
_TRIGRAM = re.compile(r"[^\W_]{3}")


def _is_postgres():
    return connection.vendor == "postgresql"


def _words(asset):
    """(name, tags and columns, owners, description): the four weights of an asset's search document."""
    tags = " ".join(tag.name for tag in asset.tags.all())
    dataset = getattr(asset, "dataset", None) if asset.kind == AssetKind.DATASET else None
    columns = " ".join(column.name for column in dataset.columns.all()) if dataset else ""
    people = []
    for person in (asset.owner, dataset.steward if dataset else None):
        if person is not None:
            people += [person.username, person.get_full_name()]
    if asset.team is not None:
        people.append(asset.team.name)
    return asset.name, f"{tags} {columns}".strip(), " ".join(filter(None, people)), asset.description


def reindex(asset_ids):
    """Rebuild the search document of these assets. Call it after any change to what search looks at."""
    assets = Asset.objects.filter(pk__in=list(asset_ids)).select_related("owner", "team", "dataset__steward")
    assets = assets.prefetch_related("tags", Prefetch("dataset__columns", queryset=Column.objects.only("name")))
    if _is_postgres() and len(asset_ids) > 1:
        _reindex_in_bulk(assets)
        return
    for asset in assets:
        _store_document(asset)


def index_created(asset, tags):
    """The search document of ``asset``, just created with ``tags``, from the rows the caller holds: one UPDATE
    instead of reading the asset, its owner, team and tags back (a model version registered through the API). Its
    owner and team are read if the caller set only their ids. A dataset goes through ``reindex`` (its columns)."""
    if asset.kind == AssetKind.DATASET:
        reindex([asset.pk])
        return
    place_prefetched(asset, "tags", list(tags))
    _store_document(asset)


def _store_document(asset):
    name, keywords, people, description = _words(asset)
    fields = {"search_text": " ".join(filter(None, [name, keywords, people, description]))}
    if _is_postgres():
        fields["search_vector"] = (
            SearchVector(Value(name), weight="A", config=CONFIG)
            + SearchVector(Value(keywords), weight="B", config=CONFIG)
            + SearchVector(Value(people), weight="C", config=CONFIG)
            + SearchVector(Value(description), weight="D", config=CONFIG)
        )
    Asset.objects.filter(pk=asset.pk).update(**fields)


# The same document as the one-by-one path above, for many assets in one statement per batch (an import of
# thousands of dbt models: one UPDATE each cost 10 ms).
_BULK_REINDEX = """
UPDATE catalog_asset a SET search_text = v.text,
    search_vector = setweight(to_tsvector(%s::regconfig, v.name), 'A')
        || setweight(to_tsvector(%s::regconfig, v.keywords), 'B')
        || setweight(to_tsvector(%s::regconfig, v.people), 'C')
        || setweight(to_tsvector(%s::regconfig, v.description), 'D')
FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[])
    AS v(id, text, name, keywords, people, description)
WHERE a.id = v.id
"""


def _reindex_in_bulk(assets, batch=1000):
    rows = []
    for asset in assets:
        name, keywords, people, description = _words(asset)
        text = " ".join(filter(None, [name, keywords, people, description]))
        rows.append((asset.pk, text, name, keywords, people, description))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            columns = [list(column) for column in zip(*rows[start : start + batch], strict=True)]
            cursor.execute(_BULK_REINDEX, [CONFIG] * 4 + columns)


class SearchResults(Sequence):
    """Asset ids ranked best first, read a slice at a time: the paginator takes one page, and only that page's
    assets are fetched, with the owner, team and tags the results table shows."""

    def __init__(self, ranked_ids):
        self.ids = list(ranked_ids[:MAX_RESULTS])
        # True when the search stopped at MAX_RESULTS: the page then says "more than", not an exact count.
        self.has_more = len(ranked_ids) > MAX_RESULTS

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, index):
        ids = self.ids[index] if isinstance(index, slice) else [self.ids[index]]
        rows = Asset.objects.with_people().prefetch_related("tags").order_by().in_bulk(ids)
        # An asset deleted since the search ran is left out rather than failing the page.
        assets = [rows[pk] for pk in ids if pk in rows]
        return assets if isinstance(index, slice) else assets[0]

    def __iter__(self):
        return iter(self[:])


def search_assets(query, kind="", include_retired=False):
    """Assets matching ``query``, best first: a ``SearchResults`` of at most ``MAX_RESULTS``."""
    matches = Asset.objects.all() if include_retired else Asset.objects.visible()
    if kind in AssetKind.values:
        matches = matches.filter(kind=kind)
    ranked = _ranked_by_postgres(matches, query) if _is_postgres() else _ranked_by_substring(matches, query)
    return SearchResults(ranked)


def _ranked_by_postgres(matches, query):
    """Ids of the best matches among ``matches``, at most ``MAX_RESULTS`` + 1 (the one more says "there are more").

    Each way of matching reads its own index and stops after that many rows; only those candidates are ranked. One
    filter ORing them could use no index: ranking every asset that mentions a common word ("orders" is in 37,000 of
    170,000) read the whole table, 0.5 to 1.4 s for the page's COUNT and as much again for the page.
    """
    enough = MAX_RESULTS + 1
    terms = SearchQuery(query, search_type="websearch", config=CONFIG)
    rank = Greatest(SearchRank(F("search_vector"), terms), TrigramWordSimilarity(query, "name"))
    # order_by() drops the model's ordering by name: each way takes the first rows its index gives, in any order.
    scored = matches.order_by().annotate(rank=rank).values_list("pk", "name", "rank")
    candidates = scored.filter(search_vector=terms)[:enough]  # the GIN index on search_vector
    # A trigram index serves only a query with three letters or digits in a row: "x" or "%" would read every name.
    by_trigrams = _TRIGRAM.search(query) is not None
    if by_trigrams:
        candidates = candidates.union(scored.filter(name__icontains=query)[:enough])  # trigram GIN on UPPER(name)
    found = list(candidates)
    if not found and by_trigrams:
        # Nothing matched as written: look for similar names instead (a typo: "chrun" finds "Churn training set").
        # Only then, as it is the dearest way: the index reads the entries of every trigram of the query (30 ms for
        # "custmer", up to 200 ms for a long name at 170,000 assets), and most names share a few with any query.
        with transaction.atomic(), connection.cursor() as cursor:
            # The `%>` operator compares with this setting, not with a value in the query. set_config(…, true) is
            # SET LOCAL: it ends with the transaction, so no other query on this connection sees it.
            cursor.execute("SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)", [str(SIMILAR_ENOUGH)])
            found = list(scored.filter(name__trigram_word_similar=query)[:enough])  # trigram GIN on name
    found.sort(key=lambda row: (-row[2], row[1], row[0]))
    return [pk for pk, _, _ in found][:enough]


def _ranked_by_substring(matches, query):
    """The fallback without PostgreSQL (SQLite for ``make run``): every word of the query somewhere in the search
    text or the name, names containing the whole query first."""
    matching = Q()
    for word in query.split():
        matching &= Q(search_text__icontains=word) | Q(name__icontains=word)
    name_first = Case(When(name__icontains=query, then=Value(1)), default=Value(0), output_field=IntegerField())
    ranked = matches.filter(matching).annotate(rank=name_first).order_by("-rank", "name", "pk")
    return list(ranked.values_list("pk", flat=True)[: MAX_RESULTS + 1])


def results(request):
    query = request.GET.get("q", "").strip()[:200]
    kind = request.GET.get("kind", "")
    include_retired = request.GET.get("retired") == "1"
    found = search_assets(query, kind, include_retired) if query else SearchResults([])
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/search.html",
        {
            "query": query,
            "kind": kind,
            "include_retired": include_retired,
            "page": page,
            "more_results": found.has_more,
            "kinds": AssetKind.choices,
            "params": query_without_page(request.GET),
        },
    )
