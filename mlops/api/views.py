"""The MLOps API: prediction and outcome batches, scoring jobs, monitoring status; owners and their team only."""

from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import status
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.access import asset_for_user
from catalog.choices import AssetKind
from mlops.api.serializers import (
    CreatedHookSerializer,
    DeliveryHookSerializer,
    DeliverySerializer,
    QualityGatesSerializer,
    ScoringRunSerializer,
    ScoringScheduleSerializer,
    gates_of,
)
from mlops.ingest import BatchUnreadable, log_outcomes, log_predictions, read_batch
from mlops.models import DeliveryHook, ScoringSchedule
from registry.models import ModelVersion


class RawBody(BaseParser):
    """Any content type: the view reads ``request.body`` itself (JSON lines, CSV, Parquet)."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read() if stream is not None else b""


def version_for(request, slug, number):
    """The version, if the user may change its model (owner, team, staff, or their token); 404 or 403 otherwise.
    Two queries: the model's asset with the permission, and the version."""
    asset, _ = asset_for_user(request, AssetKind.MODEL, slug, edit=True)
    version = ModelVersion.objects.filter(model_id=asset.pk, version=number).first()
    if version is None:
        raise Http404(f"{asset.name} has no version {number}.")
    return version


class _BatchView(APIView):
    parser_classes = [RawBody]
    kind = "predictions"
    # A scope of its own: at the API's general rate (600/min) batches of 1,000 rows would cap ingest at 10,000/s.
    throttle_scope = "predictions"

    def store(self, version, rows):
        raise NotImplementedError

    @extend_schema(request={"application/x-ndjson": OpenApiTypes.BINARY, "text/csv": OpenApiTypes.BINARY,
                            "application/vnd.apache.parquet": OpenApiTypes.BINARY},
                   responses={201: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT})  # fmt: skip
    def post(self, request, slug, number):
        version = version_for(request, slug, number)
        try:
            rows = read_batch(request.body, request.content_type, kind=self.kind)
        except BatchUnreadable as exc:
            return Response({"detail": str(exc), "accepted": 0, "rejected": []}, status=status.HTTP_400_BAD_REQUEST)
        if not rows:
            return Response({"detail": "The batch is empty.", "accepted": 0, "rejected": []}, status=400)
        try:
            with transaction.atomic():
                accepted, rejected = self.store(version, rows)
        except BatchUnreadable as exc:
            return Response({"detail": str(exc), "accepted": 0, "rejected": []}, status=status.HTTP_400_BAD_REQUEST)
        body = {"accepted": accepted, "rejected": rejected}
        if not accepted and rejected:
            body["detail"] = f"Every row was rejected ({len(rejected)}); the reasons are given per row."
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(body, status=status.HTTP_201_CREATED)


class PredictionBatchView(_BatchView):
    """Log a batch of predictions of a version (JSON lines, CSV or Parquet)."""

    kind = "predictions"

    def store(self, version, rows):
        return log_predictions(version, rows)


class OutcomeBatchView(_BatchView):
    """Log the true outcomes of logged predictions, by prediction id, whenever they become known."""

    kind = "outcomes"

    def store(self, version, rows):
        return log_outcomes(version, rows)


class ScoringView(APIView):
    """Start a batch scoring run of a version over a catalog dataset: ``{"dataset": slug, "id_column": name}``. The
    datasets it takes are those the monitoring page's form takes (``ScorableDatasetField``)."""

    @extend_schema(request=ScoringRunSerializer, responses={202: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT})
    def post(self, request, slug, number):
        from mlops.scoring import start_scoring

        version = version_for(request, slug, number)
        serializer = ScoringRunSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            run = start_scoring(version, data["dataset"], requested_by=request.user, id_column=data["id_column"])
        return Response({"run": str(run.uuid), "url": run.get_absolute_url(), "state": run.state}, status=202)


class MonitoringView(APIView):
    """A model's monitoring status, its latest checks and its maturity level."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, slug):
        from mlops.maturity import maturity
        from mlops.models import MonitoringRun
        from mlops.monitoring import current_ops
        from registry.access import get_model

        model, _ = get_model(request, slug)
        ops = current_ops(model)
        latest = MonitoringRun.objects.filter(model=model).first()
        level, next_level = maturity(model, ops=ops)
        return Response({
            "status": ops.status,
            "status_label": ops.get_status_display(),
            "since": ops.status_since,
            "reason": ops.status_reason,
            "challenger": ops.challenger.version if ops.challenger else None,
            "maturity": {"level": level, "next": next_level},
            "latest_run": None if latest is None else {
                "window_end": latest.window_end, "rows": latest.rows, "labelled_rows": latest.labelled_rows,
                "results": [{"kind": r.kind, "name": r.name, "value": r.value, "ks_p_value": r.ks_p_value,
                             "threshold": r.threshold, "status": r.status} for r in latest.results.all()],
            },
        })  # fmt: skip


class QualityGatesView(APIView):
    """A model's quality gates: thresholds per metric and split with a direction, and its fairness limit. Anyone
    who may see the model reads them; its owner, team and staff replace them (PUT)."""

    @extend_schema(responses={200: QualityGatesSerializer})
    def get(self, request, slug):
        from registry.access import get_model

        model, _ = get_model(request, slug)
        return Response(gates_of(model))

    @extend_schema(request=QualityGatesSerializer, responses={200: QualityGatesSerializer, 400: OpenApiTypes.OBJECT})
    def put(self, request, slug):
        from django.core.exceptions import ValidationError

        from registry.access import get_model
        from registry.services import set_quality_gates

        model, _ = get_model(request, slug, edit=True)
        serializer = QualityGatesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        fairness = data.get("fairness") or {}
        thresholds = [(t["metric"], t["split"], t["direction"], t["value"]) for t in data["thresholds"]]
        try:
            set_quality_gates(model, thresholds, sensitive_column=fairness.get("sensitive_column", ""),
                              max_gap=fairness.get("max_gap"))  # fmt: skip
        except ValidationError as exc:
            return Response(exc.message_dict if hasattr(exc, "error_dict") else {"thresholds": exc.messages},
                            status=status.HTTP_400_BAD_REQUEST)  # fmt: skip
        model = (
            type(model).objects.select_related("fairness_limit").prefetch_related("quality_thresholds").get(pk=model.pk)
        )
        return Response(gates_of(model))


def _team_model(request, slug):
    """The model (its owner, team or staff only) and its team, whose webhooks these are."""
    from registry.access import get_model

    model, _ = get_model(request, slug, edit=True)
    return model, model.asset.team


HOOK_RECENT_DELIVERIES = 20


class DeliveryHooksView(APIView):
    """The webhooks of the model's team (its owner, team and staff only), each with its latest deliveries. A POST
    adds one: the answer carries its signing secret, shown this once."""

    @extend_schema(responses={200: DeliveryHookSerializer(many=True)})
    def get(self, request, slug):
        _, team = _team_model(request, slug)
        hooks = list(DeliveryHook.objects.filter(team=team).select_related("created_by")) if team else []
        for hook in hooks:
            hook.recent = list(hook.deliveries.all()[:HOOK_RECENT_DELIVERIES])
        return Response(DeliveryHookSerializer(hooks, many=True).data)

    @extend_schema(request=DeliveryHookSerializer, responses={201: CreatedHookSerializer, 400: OpenApiTypes.OBJECT})
    def post(self, request, slug):
        _, team = _team_model(request, slug)
        if team is None:
            return Response({"detail": "Give the model a team first: webhooks belong to a team."},
                            status=status.HTTP_400_BAD_REQUEST)  # fmt: skip
        serializer = DeliveryHookSerializer(data=request.data, context={"team": team})
        serializer.is_valid(raise_exception=True)
        hook = serializer.save(team=team, created_by=request.user)
        return Response(CreatedHookSerializer(hook).data, status=status.HTTP_201_CREATED)


def _hook(request, slug, pk):
    _, team = _team_model(request, slug)
    hook = DeliveryHook.objects.filter(pk=pk, team=team).first() if team else None
    if hook is None:
        raise Http404("The model's team has no such webhook.")
    return hook


class DeliveryHookView(APIView):
    """One webhook of the model's team: DELETE removes it (and its delivery log)."""

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, slug, pk):
        _hook(request, slug, pk).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryLogView(APIView):
    """A webhook's delivery log, newest first (the last 100)."""

    @extend_schema(responses={200: DeliverySerializer(many=True)})
    def get(self, request, slug, pk):
        hook = _hook(request, slug, pk)
        return Response(DeliverySerializer(hook.deliveries.all()[:100], many=True).data)


class ScoringSchedulesView(APIView):
    """The model's batch scoring schedules (its owner, team and staff only); a POST adds one, run by beat through
    the scoring job from ``next_run_at`` on (now when not given)."""

    @extend_schema(responses={200: ScoringScheduleSerializer(many=True)})
    def get(self, request, slug):
        from registry.access import get_model

        model, _ = get_model(request, slug, edit=True)
        return Response(ScoringScheduleSerializer(ScoringSchedule.objects.of_model(model), many=True).data)

    @extend_schema(request=ScoringScheduleSerializer,
                   responses={201: ScoringScheduleSerializer, 400: OpenApiTypes.OBJECT})  # fmt: skip
    def post(self, request, slug):
        from registry.access import get_model

        model, _ = get_model(request, slug, edit=True)
        serializer = ScoringScheduleSerializer(data=request.data, context={"model": model})
        serializer.is_valid(raise_exception=True)
        schedule = serializer.save(model=model, created_by=request.user)
        return Response(
            ScoringScheduleSerializer(ScoringSchedule.objects.of_model(model).get(pk=schedule.pk)).data, status=201
        )


class ScoringScheduleView(APIView):
    """One scoring schedule: PATCH changes it (pause with ``active: false``), DELETE removes it."""

    def _schedule(self, request, slug, pk):
        from registry.access import get_model

        model, _ = get_model(request, slug, edit=True)
        schedule = ScoringSchedule.objects.of_model(model).filter(pk=pk).first()
        if schedule is None:
            raise Http404("The model has no such scoring schedule.")
        return model, schedule

    @extend_schema(request=ScoringScheduleSerializer,
                   responses={200: ScoringScheduleSerializer, 400: OpenApiTypes.OBJECT})  # fmt: skip
    def patch(self, request, slug, pk):
        model, schedule = self._schedule(request, slug, pk)
        serializer = ScoringScheduleSerializer(schedule, data=request.data, partial=True, context={"model": model})
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(ScoringScheduleSerializer(ScoringSchedule.objects.of_model(model).get(pk=pk)).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, slug, pk):
        self._schedule(request, slug, pk)[1].delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
