from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render

from catalog.choices import AssetKind
from catalog.models import Asset


def results(request):
    query = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    assets = Asset.objects.none()
    if query:
        assets = (
            Asset.objects.visible()
            .with_people()
            .filter(Q(name__icontains=query) | Q(description__icontains=query) | Q(tags__name__iexact=query))
        )
        if kind in AssetKind.values:
            assets = assets.filter(kind=kind)
        assets = assets.distinct().order_by("name")
    page = Paginator(assets, 25).get_page(request.GET.get("page"))
    return render(
        request, "catalog/search.html", {"query": query, "kind": kind, "page": page, "kinds": AssetKind.choices}
    )
