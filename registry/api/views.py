"""The registry's API: the same domain methods and the same permission rules as the pages."""

from django.db import transaction
from django.db.models import Value
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from catalog.access import asset_for_user, check_ownership
from catalog.choices import AssetKind
from catalog.models import Dataset
from core.api.conventions import BuiltOnceReads, full_clean_or_raise
from core.api.serializers import JobRunSerializer
from core.choices import JobKind
from core.filtersets import JobRunFilterSet
from core.models import JobRun
from core.onequery import Compiled, CompiledPage, Rows, place_rows, with_rows
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
from registry.models import (
    CardEditConflict,
    ChecklistTick,
    Metric,
    ModelCard,
    ModelVersion,
    PromotionBlocked,
    RegisteredModel,
    completeness_rows,
)
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


def _models():
    return RegisteredModel.objects.select_related("card", "asset__owner", "asset__team").by_name()


# "Get model" and "get version", the registry's hottest reads: one statement each, compiled once (core.onequery).
GET_MODEL = Compiled(
    lambda slug: with_rows(_models().filter(asset__slug=slug), *completeness_rows()),
    completeness_rows(),
    slug="\x1fslug\x1f",
)


# The list as MLflow's clients ask for it (all models, or those whose name starts with …): one statement, compiled
# once (core.onequery.CompiledPage). Any other filter or an ordering goes through the FilterSet.
MODEL_PAGE = CompiledPage(lambda: _models(), completeness_rows())
MODEL_PREFIX_PAGE = CompiledPage(
    lambda prefix: _models().filter(asset__name__istartswith=Value(prefix)),
    completeness_rows(),
    prefix="\x1fprefix\x1f",
)


def _compiled_list(view, request, compiled, **values):
    """The paginated answer of ``view.list`` from ``compiled``, or None when the page is empty: the ordinary path
    answers then (a count past the end, an unknown model's 404)."""
    paginator = view.paginator
    limit, offset = paginator.get_limit(request), paginator.get_offset(request)
    found, count = compiled.page(limit, offset, **values)
    if not found:
        return None
    paginator.request, paginator.limit, paginator.offset, paginator.count = request, limit, offset, count
    reader = view._reader()
    return paginator.get_paginated_response([reader.to_representation(item) for item in found])


class RegisteredModelViewSet(
    BuiltOnceReads,
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
        # What the serializer reads, in one statement: the model, its asset's owner and team, its card, and the
        # related rows as JSON arrays (core.onequery), placed on each model of the page by paginate_queryset.
        return _models()

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(with_rows(queryset, *completeness_rows()))
        return place_rows(page, *completeness_rows()) if page is not None else None

    def list(self, request, *args, **kwargs):
        asked = set(request.query_params)
        if asked <= {"limit", "offset"}:
            answer = _compiled_list(self, request, MODEL_PAGE)
        elif asked <= {"name_prefix", "limit", "offset"} and request.query_params["name_prefix"]:
            answer = _compiled_list(self, request, MODEL_PREFIX_PAGE, prefix=request.query_params["name_prefix"])
        else:
            answer = None
        return answer or super().list(request, *args, **kwargs)

    def get_object(self):
        if self.request.method in ("GET", "HEAD"):
            # Anyone signed in may read a model: one statement with what the serializer reads, and not the
            # versions' metrics and datasets the card page shows.
            model = GET_MODEL.first(slug=self.kwargs["slug"])
            if model is None:
                raise Http404("No such model.")
            return model
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
            # The asset was made just above: no query to check that it exists.
            full_clean_or_raise(model, exclude=["asset"])
            if model.users_description:
                model.save(update_fields=["users_description"])
            people = {"developers": data.get("developers"), "approvers": data.get("approvers")}
            if any(value is not None for value in people.values()):  # register_model announced the new card
                set_people(model, **people)
        # The answer reads the new model as "get model" does: one statement.
        serializer.instance = GET_MODEL.first(slug=model.asset.slug)

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


# What ModelVersionSerializer reads besides the version's own row, its asset and its author.
VERSION_ROWS = (
    Rows("metrics", Metric.objects.all(), "version", ("name", "value", "split")),
    Rows("training_datasets", Dataset.objects.all(), "trained_versions", ("asset__slug",)),
    Rows("evaluation_datasets", Dataset.objects.all(), "evaluated_versions", ("asset__slug",)),
    Rows(
        "checklist_ticks", ChecklistTick.objects.all(), "version", ("item", "ticked_at", "link", "ticked_by__username")
    ),
)


def _versions(slug):
    return (
        ModelVersion.objects.filter(model__asset__slug=slug).select_related("asset", "created_by").order_by("-version")
    )


GET_VERSION = Compiled(
    lambda slug, number: with_rows(_versions(slug).filter(version=number), *VERSION_ROWS),
    VERSION_ROWS,
    slug="\x1fslug\x1f",
    number=1_987_654_321,  # a stand-in inside the column's range
)


VERSION_PAGE = CompiledPage(lambda slug: _versions(slug), VERSION_ROWS, slug="\x1fslug\x1f")


class ModelVersionViewSet(BuiltOnceReads, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Versions of one model, with stage changes, the production checklist and promotion requests."""

    serializer_class = ModelVersionSerializer
    filterset_class = ModelVersionFilterSet
    lookup_field = "version"
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator calls this without URL arguments
            return ModelVersion.objects.none()
        # One statement for a version or a page of them: the related rows as JSON arrays (core.onequery).
        return _versions(self.kwargs["model_slug"])

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(with_rows(queryset, *VERSION_ROWS))
        return place_rows(page, *VERSION_ROWS) if page is not None else None

    def list(self, request, *args, **kwargs):
        if set(request.query_params) <= {"limit", "offset"}:  # a page of versions found: the model exists
            answer = _compiled_list(self, request, VERSION_PAGE, slug=self.kwargs["model_slug"])
            if answer is not None:
                return answer
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
        version = GET_VERSION.first(slug=self.kwargs["model_slug"], number=int(self.kwargs["version"]))
        if version is None:
            raise Http404("No such version.")
        return version

    def perform_create(self, serializer):
        # Only the rights and the model's row: register_version reads what it needs under its lock.
        asset, _ = asset_for_user(self.request, AssetKind.MODEL, self.kwargs["model_slug"], edit=True)
        try:
            model = asset.registered_model  # joined by asset_for_user
        except RegisteredModel.DoesNotExist:
            raise Http404("No such model.") from None
        data = dict(serializer.validated_data)
        metrics = {m["name"]: m["value"] for m in data.pop("metrics", [])}
        version = register_version(
            model,
            created_by=self.request.user,
            training_datasets=data.pop("training_datasets", []),
            evaluation_datasets=data.pop("evaluation_datasets", []),
            metrics=metrics,
            split=data.pop("split", "test"),
            **data,
        )
        # The answer reads the new version as "get version" does: one statement.
        serializer.instance = GET_VERSION.first(slug=asset.slug, number=version.version)

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
