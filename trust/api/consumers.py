"""The API of declared dependencies and change requests: the same model methods as the pages, so the same
validation (``full_clean`` in the models) and the same refusals (403 for whoever may not act)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Team
from catalog.models import Asset
from trust.api.serializers import AssetRefField
from trust.choices import ChangeRequestStatus
from trust.filtersets import ChangeRequestFilterSet
from trust.models import ChangeRequest, ChangeRequestEvent, Dependency
from trust.models.dependencies import OWNER_REFUSAL


class DependencySerializer(serializers.ModelSerializer):
    """Declare with ``dataset`` and one consumer: ``consumer_user`` (yourself), ``consumer_team`` (a team slug of
    yours) or ``consumer_asset`` (the UUID of an asset you may change)."""

    dataset = AssetRefField()
    consumer_user = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.all(), required=False, allow_null=True
    )
    consumer_team = serializers.SlugRelatedField(
        slug_field="slug", queryset=Team.objects.all(), required=False, allow_null=True
    )
    consumer_asset = AssetRefField(required=False, allow_null=True)
    consumer_name = serializers.CharField(read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    declared_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Dependency
        fields = [
            "uuid", "dataset", "consumer_user", "consumer_team", "consumer_asset", "consumer_name", "columns",
            "needed_by", "purpose", "status", "decline_reason", "declared_by", "declared_at", "decided_by",
            "decided_at",
        ]  # fmt: skip
        read_only_fields = ["status", "decline_reason", "declared_at", "decided_at"]
        # The model's full_clean checks "one declaration per consumer", with a sentence; DRF's own unique-together
        # validators would demand every consumer field.
        validators = []

    def validate(self, attrs):
        consumers = [attrs.get(name) for name in ("consumer_user", "consumer_team", "consumer_asset")]
        if sum(1 for consumer in consumers if consumer is not None) != 1:
            raise serializers.ValidationError(
                "Say who depends on it: consumer_user (you), consumer_team or consumer_asset, exactly one."
            )
        return attrs


class DeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class DependencyViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Declared dependencies: ``?dataset=<uuid>`` lists a dataset's consumers, ``?mine=true`` the ones you speak
    for. POST declares; the dataset's owners ``acknowledge`` or ``decline``; the consumer ``withdraw``s."""

    serializer_class = DependencySerializer
    lookup_field = "uuid"
    queryset = Dependency.objects.none()

    def get_queryset(self):
        rows = Dependency.objects.with_consumers().order_by("declared_at", "pk")
        if dataset := self.request.query_params.get("dataset"):
            rows = rows.filter(dataset__uuid=dataset)
        if self.request.query_params.get("mine") in ("true", "1"):
            rows = rows.filter(pk__in=Dependency.objects.of_user(self.request.user).values("pk"))
        return rows

    def perform_create(self, serializer):
        data = serializer.validated_data
        consumer = data.get("consumer_user") or data.get("consumer_team") or data.get("consumer_asset")
        serializer.instance = Dependency.declare(
            data["dataset"],
            by=self.request.user,
            consumer=consumer,
            columns=data.get("columns") or [],
            needed_by=data.get("needed_by"),
            purpose=data.get("purpose", ""),
        )

    @extend_schema(request=None, responses=DependencySerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, uuid=None):
        dependency = self.get_object()
        dependency.acknowledge(by=request.user)
        return Response(self.get_serializer(dependency).data)

    @extend_schema(request=DeclineSerializer, responses=DependencySerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, uuid=None):
        dependency = self.get_object()
        if not dependency.dataset.can_edit(request.user):
            raise PermissionDenied(OWNER_REFUSAL)
        payload = DeclineSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        dependency.decline(by=request.user, reason=payload.validated_data["reason"])
        return Response(self.get_serializer(dependency).data)

    @extend_schema(request=None, responses=None)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, uuid=None):
        self.get_object().withdraw(by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChangeRequestEventSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ChangeRequestEvent
        fields = ["author", "from_status", "to_status", "body", "created_at"]


class ChangeRequestSerializer(serializers.ModelSerializer):
    asset = AssetRefField(queryset=Asset.objects.all())
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    events = ChangeRequestEventSerializer(many=True, read_only=True)

    class Meta:
        model = ChangeRequest
        fields = [
            "uuid", "asset", "title", "wanted", "why", "status", "decline_reason", "requested_by", "created_at",
            "updated_at", "closed_at", "events",
        ]  # fmt: skip
        read_only_fields = ["status", "decline_reason", "created_at", "updated_at", "closed_at"]


class ChangeRequestTransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ChangeRequestStatus.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ChangeRequestViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Change requests: request (POST), and move through proposed → accepted → in progress → delivered, or
    declined with a reason (``transition``, the asset's owners only). Filters as on the requests page."""

    serializer_class = ChangeRequestSerializer
    filterset_class = ChangeRequestFilterSet
    lookup_field = "uuid"
    queryset = ChangeRequest.objects.none()

    def get_queryset(self):
        return (
            ChangeRequest.objects.select_related("asset", "requested_by")
            .prefetch_related("events__author")
            .order_by("-created_at", "-pk")
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = ChangeRequest.propose(data.pop("asset"), by=self.request.user, **data)

    @extend_schema(request=ChangeRequestTransitionSerializer, responses=ChangeRequestSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, uuid=None):
        change = self.get_object()
        payload = ChangeRequestTransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        change.transition(payload.validated_data["status"], by=request.user, comment=payload.validated_data["comment"])
        return Response(self.get_serializer(self.get_object()).data)
