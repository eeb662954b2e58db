from rest_framework import viewsets

from registry.api.serializers import RegisteredModelSerializer
from registry.models import RegisteredModel


class RegisteredModelViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RegisteredModelSerializer
    lookup_field = "asset__slug"
    lookup_url_kwarg = "slug"

    def get_queryset(self):
        return (
            RegisteredModel.objects.select_related("asset__owner", "asset__team")
            .prefetch_related("asset__tags")
            .order_by("asset__name", "pk")
        )
