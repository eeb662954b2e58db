from rest_framework import generics, viewsets

from accounts.api.serializers import MeSerializer, TeamSerializer
from accounts.models import Team


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TeamSerializer
    queryset = Team.objects.prefetch_related("members").order_by("name")
    lookup_field = "slug"


class MeView(generics.RetrieveAPIView):
    """Who the API thinks you are: a quick way to check a token."""

    serializer_class = MeSerializer

    def get_object(self):
        return self.request.user
