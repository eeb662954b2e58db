from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.response import Response

from core.api.serializers import AlertSerializer, JobRunSerializer, NotificationSerializer
from core.filtersets import AlertFilterSet, JobRunFilterSet
from core.models import Alert, JobRun, Notification
from core.notifications import mark_read


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """The signed-in user's inbox, newest first."""

    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        return Notification.objects.filter(recipient=self.request.user).select_related("asset")


class JobRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Background job runs with their live state. ``POST …/<uuid>/cancel/`` stops a queued or running one."""

    serializer_class = JobRunSerializer
    filterset_class = JobRunFilterSet
    lookup_field = "uuid"
    queryset = JobRun.objects.select_related("asset__team", "asset__owner", "requested_by").order_by(
        "-created_at", "-pk"
    )

    @action(detail=True, methods=["post"])
    def cancel(self, request, uuid=None):
        run = self.get_object()
        if run.is_finished:
            raise exceptions.ValidationError({"detail": f"This run already ended ({run.get_state_display()})."})
        if not run.can_cancel(request.user):
            raise exceptions.PermissionDenied("Only the person who started the run, the asset's owners and staff.")
        if not run.cancel(by=request.user):
            raise exceptions.ValidationError({"detail": "This run ended before it could be cancelled."})
        return Response(self.get_serializer(run).data)


class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    """The alert history: freshness transitions, failed jobs, pipeline drift."""

    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    queryset = Alert.objects.select_related("asset").order_by("-created_at", "-pk")


@extend_schema(request=None, responses={200: {"type": "object", "properties": {"marked_read": {"type": "integer"}}}})
@api_view(["POST"])
def notification_read(request, pk):
    """Mark one of your notifications read."""
    get_object_or_404(Notification, pk=pk, recipient=request.user)
    return Response({"marked_read": mark_read(request.user, [pk])})


@extend_schema(request=None, responses={200: {"type": "object", "properties": {"marked_read": {"type": "integer"}}}})
@api_view(["POST"])
def notifications_all_read(request):
    """Mark all your notifications read."""
    return Response({"marked_read": mark_read(request.user)})
