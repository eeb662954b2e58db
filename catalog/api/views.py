from rest_framework import viewsets

from catalog.api.serializers import AssetSerializer, DatasetSerializer
from catalog.filtersets import AssetFilterSet
from catalog.models import Asset, Dataset


class AssetViewSet(viewsets.ReadOnlyModelViewSet):
    """Every catalogued thing, whatever its kind. Filter with ``?kind=dataset&owner=alice&tag=finance``."""

    serializer_class = AssetSerializer
    filterset_class = AssetFilterSet
    lookup_field = "uuid"
    ordering_fields = ["name", "updated_at"]

    def get_queryset(self):
        return Asset.objects.with_people().prefetch_related("tags").order_by("name", "pk")


class DatasetViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DatasetSerializer
    lookup_field = "asset__slug"
    lookup_url_kwarg = "slug"

    def get_queryset(self):
        return (
            Dataset.objects.select_related("asset__owner", "asset__team", "source__asset")
            .prefetch_related("asset__tags", "columns")
            .order_by("asset__name", "pk")
        )
