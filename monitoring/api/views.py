from rest_framework import viewsets

from monitoring.api.serializers import NotificationSerializer
from monitoring.models import Notification


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """The signed-in user's inbox, newest first."""

    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        return Notification.objects.filter(recipient=self.request.user).select_related("asset")
