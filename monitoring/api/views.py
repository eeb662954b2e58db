from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from monitoring import freshness
from monitoring.api.serializers import (
    AlertSerializer,
    FreshnessCheckSerializer,
    FreshnessPolicySerializer,
    JobRunSerializer,
    NotificationSerializer,
    TrainingRunSerializer,
)
from monitoring.choices import JobKind
from monitoring.filtersets import AlertFilterSet, FreshnessCheckFilterSet, FreshnessPolicyFilterSet, JobRunFilterSet
from monitoring.models import Alert, FreshnessCheck, FreshnessPolicy, JobRun, Notification
from monitoring.training import start_training


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


class TrainingRunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Training runs. ``POST`` starts one for a model you may edit; the answer is the queued run (202)."""

    filterset_class = JobRunFilterSet
    lookup_field = "uuid"
    queryset = (
        JobRun.objects.filter(kind=JobKind.TRAINING)
        .select_related("asset__team", "asset__owner", "requested_by")
        .order_by("-created_at", "-pk")
    )

    def get_serializer_class(self):
        return TrainingRunSerializer if self.action == "create" else JobRunSerializer

    def create(self, request, *args, **kwargs):
        serializer = TrainingRunSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        model = serializer.validated_data["model"]
        if not model.asset.can_edit(request.user):
            raise exceptions.PermissionDenied("Only the model's owner, its team and staff train new versions.")
        run = start_training(serializer.validated_data["request"], requested_by=request.user)
        return Response(
            JobRunSerializer(run, context=self.get_serializer_context()).data, status=status.HTTP_202_ACCEPTED
        )


class FreshnessPolicyViewSet(viewsets.ModelViewSet):
    """Freshness policies, one per asset, addressed by the asset's UUID. Status and reason are computed."""

    serializer_class = FreshnessPolicySerializer
    filterset_class = FreshnessPolicyFilterSet
    lookup_field = "asset__uuid"
    lookup_url_kwarg = "asset"
    queryset = FreshnessPolicy.objects.select_related("asset__team", "asset__owner").order_by("asset__name", "pk")

    def _require_editor(self, asset):
        if not asset.can_edit(self.request.user):
            raise exceptions.PermissionDenied("Only the asset's owner, its team and staff set its freshness policy.")

    def perform_create(self, serializer):
        self._require_editor(serializer.validated_data["asset"])
        serializer.instance = freshness.save_policy(
            FreshnessPolicy(created_by=self.request.user, **serializer.validated_data)
        )

    def perform_update(self, serializer):
        self._require_editor(serializer.instance.asset)
        policy = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(policy, name, value)
        freshness.save_policy(policy)

    def perform_destroy(self, instance):
        self._require_editor(instance.asset)
        instance.delete()


class FreshnessCheckViewSet(viewsets.ReadOnlyModelViewSet):
    """The results of freshness checks and pings, newest first. Filter with ``?asset=<uuid>``."""

    serializer_class = FreshnessCheckSerializer
    queryset = FreshnessCheck.objects.select_related("policy__asset").order_by("-checked_at", "-pk")
    filterset_class = FreshnessCheckFilterSet


class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    """The alert history: freshness transitions, failed jobs, pipeline drift."""

    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    queryset = Alert.objects.select_related("asset").order_by("-created_at", "-pk")
