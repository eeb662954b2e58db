from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from catalog.filtersets import AssetFilterSet
from catalog.models import Asset, Watch
from trust import watching
from trust.api.serializers import (
    AcknowledgeSerializer,
    BadgeSerializer,
    CommentSerializer,
    DataIssueSerializer,
    DeprecationSerializer,
    TransitionSerializer,
    WatchSerializer,
)
from trust.badges import badges_for
from trust.filtersets import DataIssueFilterSet
from trust.models import DataIssue, Deprecation, DeprecationImpact


class BadgeViewSet(viewsets.ReadOnlyModelViewSet):
    """Trust badges: the level and every rule's verdict. Filter like the catalog: ``?kind=report&team=finance-bi``."""

    serializer_class = BadgeSerializer
    filterset_class = AssetFilterSet
    lookup_field = "uuid"
    queryset = Asset.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        return Asset.objects.order_by("name", "pk")

    def get_serializer(self, *args, **kwargs):
        rows = args[0] if args else []
        rows = list(rows) if kwargs.get("many") else [rows]
        kwargs.setdefault("context", self.get_serializer_context())
        kwargs["context"]["badges"] = badges_for([row for row in rows if isinstance(row, Asset)])
        return super().get_serializer(*args, **kwargs)


class DeprecationViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Deprecations: propose (POST), withdraw, and acknowledge for a downstream asset that has moved."""

    serializer_class = DeprecationSerializer
    lookup_field = "uuid"
    queryset = Deprecation.objects.none()

    def get_queryset(self):
        return Deprecation.objects.select_related("asset", "replacement", "proposed_by").prefetch_related(
            "impacts__asset", "impacts__acknowledged_by"
        )

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = Deprecation.propose(
            data["asset"],
            by=self.request.user,
            reason=data["reason"],
            sunset_date=data["sunset_date"],
            replacement=data.get("replacement"),
        )

    @extend_schema(request=None, responses=DeprecationSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, uuid=None):
        deprecation = self.get_object()
        deprecation.withdraw(by=request.user)
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=AcknowledgeSerializer, responses=DeprecationSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, uuid=None):
        deprecation = self.get_object()
        payload = AcknowledgeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        impact = get_object_or_404(
            DeprecationImpact.objects.select_related("asset", "deprecation__asset"),
            deprecation=deprecation,
            asset=payload.validated_data["asset"],
        )
        impact.acknowledge(by=request.user, note=payload.validated_data["note"])
        return Response(self.get_serializer(self.get_object()).data)


class DataIssueViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Data issues: report (POST, multipart for an attachment), comment, and move through their states."""

    serializer_class = DataIssueSerializer
    filterset_class = DataIssueFilterSet
    lookup_field = "uuid"
    queryset = DataIssue.objects.none()

    def get_queryset(self):
        return (
            DataIssue.objects.select_related("asset__owner", "asset__team", "reported_by", "duplicate_of")
            .prefetch_related("events__author")
            .order_by("-created_at", "-pk")
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        asset = data.pop("asset")
        serializer.instance = DataIssue.report(asset, by=self.request.user, **data)

    @extend_schema(request=TransitionSerializer, responses=DataIssueSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, uuid=None):
        issue = self.get_object()
        payload = TransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        issue.transition(data["status"], by=request.user, comment=data["comment"], duplicate_of=data["duplicate_of"])
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=CommentSerializer, responses=DataIssueSerializer)
    @action(detail=True, methods=["post"])
    def comment(self, request, uuid=None):
        issue = self.get_object()
        payload = CommentSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        issue.comment(by=request.user, body=payload.validated_data["body"])
        return Response(self.get_serializer(self.get_object()).data, status=status.HTTP_201_CREATED)


class WatchViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """The assets you watch. POST ``{"asset": "<uuid>"}`` to watch; DELETE ``/watches/<asset uuid>/`` to stop."""

    serializer_class = WatchSerializer
    lookup_field = "asset__uuid"
    lookup_url_kwarg = "asset"
    queryset = Watch.objects.none()

    def get_queryset(self):
        return Watch.objects.filter(user=self.request.user).select_related("asset").order_by("asset__name")

    def perform_create(self, serializer):
        asset = serializer.validated_data["asset"]
        watching.watch(asset, self.request.user)
        serializer.instance = Watch.objects.select_related("asset").get(asset=asset, user=self.request.user)

    def perform_destroy(self, instance):
        watching.unwatch(instance.asset, self.request.user)
