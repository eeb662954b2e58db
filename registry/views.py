from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, render

from catalog.choices import AssetKind
from registry.models import ModelVersion, RegisteredModel


def model_list(request):
    models = (
        RegisteredModel.objects.select_related("asset__owner", "asset__team")
        .annotate(version_count=Count("versions"))
        .prefetch_related(
            Prefetch("versions", queryset=ModelVersion.objects.filter(stage="production"), to_attr="in_use")
        )
        .order_by("asset__name")
    )
    page = Paginator(models, 50).get_page(request.GET.get("page"))
    return render(request, "registry/model_list.html", {"page": page, "nav": "models", "query": ""})


def model_detail(request, slug):
    model = get_object_or_404(
        RegisteredModel.objects.select_related("asset__owner", "asset__team"),
        asset__slug=slug,
        asset__kind=AssetKind.MODEL,
    )
    versions = model.versions.select_related("asset").prefetch_related("metrics")
    return render(request, "registry/model_detail.html", {"model": model, "versions": versions, "nav": "models"})
