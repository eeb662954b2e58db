"""The registry's API: the same domain methods and the same permission rules as the pages."""

from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from catalog.access import check_ownership
from catalog.choices import AssetKind
from core.api.conventions import full_clean_or_raise
from core.api.serializers import JobRunSerializer
from core.choices import JobKind
from core.filtersets import JobRunFilterSet
from core.models import JobRun
from registry.access import get_model, get_version
from registry.api.serializers import (
    CardRevisionSerializer,
    ChecklistTickSerializer,
    ModelCardSerializer,
    ModelVersionSerializer,
    NoteSerializer,
    PromotionRequestSerializer,
    RegisteredModelSerializer,
    StageChangeSerializer,
    StageMoveSerializer,
    TickSerializer,
    TrainingRunSerializer,
)
from registry.choices import PromotionState
from registry.filtersets import ModelVersionFilterSet, RegisteredModelFilterSet
from registry.models import CardEditConflict, ModelCard, ModelVersion, PromotionBlocked, RegisteredModel
from registry.services import (
    decide_promotion,
    register_model,
    register_version,
    request_promotion,
    set_people,
    update_model_facts,
)
from registry.training import start_training


def _refused(exc):
    return Response(
        {"detail": f"Promotion refused: {len(exc.missing)} item(s) missing.", "missing": exc.missing},
        status=status.HTTP_400_BAD_REQUEST,
    )


def _conflict(exc, used_if_match):
    """412 when the client sent If-Match (HTTP's own precondition), 409 when it sent a revision in the body."""
    revision = exc.revision
    return Response(
        {
            "detail": f"Not saved: {exc} Fetch the card again, merge, and send the new revision.",
            "current_revision": revision.number,
            "changed_by": revision.author.get_username() if revision.author else None,
            "changed_fields": revision.changed_fields,
        },
        status=status.HTTP_412_PRECONDITION_FAILED if used_if_match else status.HTTP_409_CONFLICT,
    )


class RegisteredModelViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Registered models with their cards. Filter with ``?q=churn&owner=alice&team=sales&stage=production``."""

    serializer_class = RegisteredModelSerializer
    filterset_class = RegisteredModelFilterSet
    lookup_field = "asset__slug"
    lookup_url_kwarg = "slug"

    def get_queryset(self):
        return (
            RegisteredModel.objects.with_completeness_facts()
            .select_related("asset__owner", "asset__team")
            .prefetch_related("asset__tags", "approvers")
            .by_name()
        )

    def get_object(self):
        if self.request.method in ("GET", "HEAD"):
            # Anyone signed in may read a model; the list's query set has all the serializer reads, and not the
            # versions' metrics and datasets the card page shows (four queries fewer for "get model").
            return get_object_or_404(self.get_queryset(), asset__slug=self.kwargs["slug"])
        model, _ = get_model(self.request, self.kwargs["slug"], edit=True)
        return model

    def perform_create(self, serializer):
        data = serializer.validated_data
        asset = data.get("asset", {})
        team = asset.get("team")
        check_ownership(self.request.user, self.request.user, team)
        with transaction.atomic():
            model = register_model(
                asset["name"], owner=self.request.user, team=team, summary=data.get("summary", ""),
                goal=data.get("goal", ""),
            )  # fmt: skip
            model.users_description = data.get("users_description", "")
            full_clean_or_raise(model)
            model.save()
            set_people(model, developers=data.get("developers"), approvers=data.get("approvers"))
        serializer.instance = model

    def perform_update(self, serializer):
        model = serializer.instance
        data = serializer.validated_data
        asset = data.pop("asset", {})
        if "team" in asset:
            check_ownership(self.request.user, model.asset.owner_id, asset["team"], asset=model.asset)
        with transaction.atomic():
            for name in ("summary", "goal", "users_description"):
                if name in data:
                    setattr(model, name, data[name])
            full_clean_or_raise(model)
            update_model_facts(
                model,
                {name: asset[name] for name in ("name", "team") if name in asset},
                actor=self.request.user,
                developers=data.get("developers"),
                approvers=data.get("approvers"),
            )

    @extend_schema(request=ModelCardSerializer, responses=ModelCardSerializer)
    @action(detail=True, methods=["get", "put", "patch"])
    def card(self, request, slug=None):
        """The card. GET answers with an ETag; PUT/PATCH need If-Match (or ``revision`` in the body)."""
        model, _ = get_model(request, slug, edit=request.method != "GET")
        card, _ = ModelCard.objects.get_or_create(model=model)
        if request.method != "GET":
            serializer = ModelCardSerializer(card, data=request.data, partial=request.method == "PATCH")
            serializer.is_valid(raise_exception=True)
            if_match = request.headers.get("If-Match", "").strip().removeprefix("W/").strip('"')
            base = if_match or serializer.validated_data.get("revision")
            if base in (None, ""):
                return Response(
                    {"detail": "Say which revision you edited: an If-Match header with the card's ETag, or "
                     "'revision' in the body."},
                    status=status.HTTP_428_PRECONDITION_REQUIRED,
                )  # fmt: skip
            try:
                base = int(base)
            except ValueError:
                return Response({"detail": f"If-Match {if_match!r} is not a card revision."}, status=400)
            changes = {
                name: serializer.validated_data[name]
                for name in ModelCard.TEXT_FIELDS
                if name in serializer.validated_data
            }
            try:
                card.edit(changes, request.user, base)
            except CardEditConflict as exc:
                return _conflict(exc, bool(if_match))
        response = Response(ModelCardSerializer(card).data)
        response["ETag"] = f'"{card.revision}"'
        return response

    @extend_schema(responses=CardRevisionSerializer(many=True))
    @action(detail=True, url_path="card/revisions", pagination_class=None)
    def card_revisions(self, request, slug=None):
        model, _ = get_model(request, slug)
        revisions = model.get_card().revisions.select_related("author") if hasattr(model, "card") else []
        return Response(CardRevisionSerializer(revisions, many=True).data)

    @extend_schema(request=None, responses=ModelCardSerializer)
    @action(detail=True, methods=["post"], url_path=r"card/revisions/(?P<number>\d+)/restore")
    def card_restore(self, request, slug=None, number=None):
        """Restore revision ``number`` as a new revision. Needs If-Match (or ``revision``) like an edit."""
        model, _ = get_model(request, slug, edit=True)
        card = get_object_or_404(ModelCard, model=model)
        get_object_or_404(card.revisions, number=number)
        if_match = request.headers.get("If-Match", "").strip().removeprefix("W/").strip('"')
        base = if_match or str(request.data.get("revision", ""))
        if not base.isdigit():
            return Response(
                {"detail": "Say which revision you are looking at: If-Match or 'revision'."},
                status=status.HTTP_428_PRECONDITION_REQUIRED,
            )
        try:
            card.restore(int(number), request.user, int(base))
        except CardEditConflict as exc:
            return _conflict(exc, bool(if_match))
        response = Response(ModelCardSerializer(card).data)
        response["ETag"] = f'"{card.revision}"'
        return response


class ModelVersionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Versions of one model, with stage changes, the production checklist and promotion requests."""

    serializer_class = ModelVersionSerializer
    filterset_class = ModelVersionFilterSet
    lookup_field = "version"
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator calls this without URL arguments
            return ModelVersion.objects.none()
        return (
            ModelVersion.objects.filter(model__asset__slug=self.kwargs["model_slug"])
            .select_related("asset", "created_by")
            .prefetch_related(
                "metrics", "training_datasets__asset", "evaluation_datasets__asset", "checklist_ticks__ticked_by"
            )
            .order_by("-version")
        )

    def list(self, request, *args, **kwargs):
        # An unknown model is a 404, not an empty list.
        models = RegisteredModel.objects.filter(asset__slug=self.kwargs["model_slug"], asset__kind=AssetKind.MODEL)
        if not models.exists():
            raise Http404("No such model.")
        return super().list(request, *args, **kwargs)

    def _version(self, edit=False):
        model, version, _ = get_version(self.request, self.kwargs["model_slug"], int(self.kwargs["version"]), edit)
        return model, version

    def get_object(self):
        # Reading a version (anyone signed in may) reads only it, not its model with every other version.
        return get_object_or_404(self.get_queryset(), version=int(self.kwargs["version"]))

    def perform_create(self, serializer):
        model, _ = get_model(self.request, self.kwargs["model_slug"], edit=True)
        data = dict(serializer.validated_data)
        metrics = {m["name"]: m["value"] for m in data.pop("metrics", [])}
        serializer.instance = register_version(
            model,
            created_by=self.request.user,
            training_datasets=data.pop("training_datasets", []),
            evaluation_datasets=data.pop("evaluation_datasets", []),
            metrics=metrics,
            split=data.pop("split", "test"),
            **data,
        )

    @extend_schema(request=StageMoveSerializer, responses=StageChangeSerializer)
    @action(detail=True, methods=["post"])
    def stage(self, request, model_slug=None, version=None):
        """Move the version to another stage. "production" is refused: request a promotion instead."""
        _, row = self._version(edit=True)
        move = StageMoveSerializer(data=request.data)
        move.is_valid(raise_exception=True)
        change = row.change_stage(move.validated_data["to"], request.user, reason=move.validated_data["reason"])
        return Response(StageChangeSerializer(change).data)

    @extend_schema(request=TickSerializer, responses=ChecklistTickSerializer)
    @action(detail=True, methods=["get", "post", "delete"])
    def checklist(self, request, model_slug=None, version=None):
        """GET the ticks; POST {item, link} to tick; DELETE ?item=… to untick."""
        _, row = self._version(edit=request.method != "GET")
        if request.method == "GET":
            return Response(ChecklistTickSerializer(row.checklist_ticks.select_related("ticked_by"), many=True).data)
        if request.method == "DELETE":
            tick = TickSerializer(data={"item": request.query_params.get("item", "")})
            tick.is_valid(raise_exception=True)
            row.untick(tick.validated_data["item"])
            return Response(status=status.HTTP_204_NO_CONTENT)
        tick = TickSerializer(data=request.data)
        tick.is_valid(raise_exception=True)
        made = row.tick(tick.validated_data["item"], request.user, link=tick.validated_data["link"])
        return Response(ChecklistTickSerializer(made).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=NoteSerializer, responses=PromotionRequestSerializer)
    @action(detail=True, methods=["get", "post"])
    def promotion(self, request, model_slug=None, version=None):
        """GET the requests; POST {note} to ask for this version to go into use (refused with what is missing)."""
        model, row = self._version(edit=request.method != "GET")
        if request.method == "GET":
            requests = row.promotion_requests.select_related("requested_by", "decided_by", "version")
            return Response(PromotionRequestSerializer(requests, many=True).data)
        note = NoteSerializer(data=request.data)
        note.is_valid(raise_exception=True)
        try:
            made = request_promotion(model, row, request.user, note=note.validated_data["note"])
        except PromotionBlocked as exc:
            return _refused(exc)
        return Response(PromotionRequestSerializer(made).data, status=status.HTTP_201_CREATED)

    def _decide(self, request, action):
        model, row = self._version()
        pending = row.promotion_requests.filter(state=PromotionState.PENDING).first()
        if pending is None:
            return Response({"detail": "No promotion request is waiting for this version."}, status=404)
        pending.model, pending.version = model, row
        note = NoteSerializer(data=request.data)
        note.is_valid(raise_exception=True)
        try:
            decide_promotion(pending, action, request.user, note=note.validated_data["note"])
        except PromotionBlocked as exc:
            return _refused(exc)
        return Response(PromotionRequestSerializer(pending).data)

    @extend_schema(request=NoteSerializer, responses=PromotionRequestSerializer)
    @action(detail=True, methods=["post"], url_path="promotion/approve")
    def approve(self, request, model_slug=None, version=None):
        """Approve the waiting request (not your own): the version goes into use, the previous one is retired."""
        return self._decide(request, "approve")

    @extend_schema(request=NoteSerializer, responses=PromotionRequestSerializer)
    @action(detail=True, methods=["post"], url_path="promotion/reject")
    def reject(self, request, model_slug=None, version=None):
        return self._decide(request, "reject")

    @extend_schema(request=None, responses=PromotionRequestSerializer)
    @action(detail=True, methods=["post"], url_path="promotion/withdraw")
    def withdraw(self, request, model_slug=None, version=None):
        return self._decide(request, "withdraw")


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
