from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from catalog.choices import AssetKind
from catalog.filtersets import AssetFilterSet
from catalog.models import Asset

PAGE_SIZE = 50

# What each kind's detail page needs joined in, so the page costs the same number of queries for any asset.
DETAIL_RELATED = {
    AssetKind.SOURCE: ["source"],
    AssetKind.DATASET: ["dataset", "dataset__source__asset"],
    AssetKind.REPORT: ["report"],
    AssetKind.PIPELINE: ["pipeline"],
    AssetKind.MODEL: ["registered_model"],
    AssetKind.MODEL_VERSION: ["model_version", "model_version__model__asset"],
}


def _asset_list(request, nav, title, base_queryset):
    filterset = AssetFilterSet(request.GET, queryset=base_queryset.with_people().prefetch_related("tags"))
    queryset = filterset.qs
    if not request.GET.get("lifecycle"):
        queryset = queryset.visible()
    page = Paginator(queryset.order_by("name", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "catalog/asset_list.html",
        {"filter": filterset, "page": page, "nav": nav, "title": title, "query": query.urlencode()},
    )


def asset_list(request):
    return _asset_list(request, "catalog", "Catalog", Asset.objects.all())


def report_list(request):
    return _asset_list(request, "reports", "Reports", Asset.objects.filter(kind=AssetKind.REPORT))


def asset_detail(request, kind, slug):
    related = ["owner", "team", *DETAIL_RELATED.get(kind, [])]
    asset = get_object_or_404(Asset.objects.select_related(*related), kind=kind, slug=slug)
    upstream = Asset.objects.with_people().filter(downstream_edges__downstream=asset).order_by("name")
    downstream = Asset.objects.with_people().filter(upstream_edges__upstream=asset).order_by("name")
    columns = asset.dataset.columns.all() if kind == AssetKind.DATASET else []
    return render(
        request,
        "catalog/asset_detail.html",
        {
            "asset": asset,
            "upstream": upstream,
            "downstream": downstream,
            "columns": columns,
            "can_edit": asset.can_edit(request.user),
            "nav": "reports" if kind == AssetKind.REPORT else "catalog",
        },
    )
