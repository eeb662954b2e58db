"""One search box over every asset: names, descriptions, column names, tags and owners.

On PostgreSQL each asset carries a weighted ``search_vector`` (name A; tags and columns B; owners C; description D)
behind a GIN index, ranked with ``ts_rank``, plus trigram similarity so that short or partial names still match.
Elsewhere (SQLite for ``make run``) the same ``search_text`` is matched with ``icontains``, ranked by name first.
"""

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector, TrigramWordSimilarity
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Case, F, IntegerField, Prefetch, Q, Value, When
from django.db.models.functions import Greatest
from django.shortcuts import render

from catalog.choices import AssetKind
from catalog.models import Asset, Column

PAGE_SIZE = 25
CONFIG = "english"
# Trigram word similarity from which a name counts as a match: catches one or two typos in a short name
# ("chrun" finds "Churn training set") without matching unrelated words.
SIMILAR_ENOUGH = 0.3


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
    for asset in assets:
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


def search_assets(query, kind="", include_retired=False):
    """Assets matching ``query``, best first."""
    assets = Asset.objects.all() if include_retired else Asset.objects.visible()
    if kind in AssetKind.values:
        assets = assets.filter(kind=kind)
    if _is_postgres():
        terms = SearchQuery(query, search_type="websearch", config=CONFIG)
        return (
            assets.annotate(
                similarity=TrigramWordSimilarity(query, "name"),
                rank=Greatest(SearchRank(F("search_vector"), terms), F("similarity")),
            )
            .filter(Q(search_vector=terms) | Q(similarity__gte=SIMILAR_ENOUGH) | Q(name__icontains=query))
            .order_by("-rank", "name", "pk")
        )
    words = query.split()
    matching = Q()
    for word in words:
        matching &= Q(search_text__icontains=word) | Q(name__icontains=word)
    return (
        assets.filter(matching)
        .annotate(rank=Case(When(name__icontains=query, then=Value(1)), default=Value(0), output_field=IntegerField()))
        .order_by("-rank", "name", "pk")
    )


def results(request):
    query = request.GET.get("q", "").strip()[:200]
    kind = request.GET.get("kind", "")
    include_retired = request.GET.get("retired") == "1"
    assets = Asset.objects.none()
    if query:
        assets = search_assets(query, kind, include_retired).select_related("owner", "team").prefetch_related("tags")
    page = Paginator(assets, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "catalog/search.html",
        {
            "query": query,
            "kind": kind,
            "include_retired": include_retired,
            "page": page,
            "kinds": AssetKind.choices,
            "params": params.urlencode(),
        },
    )
