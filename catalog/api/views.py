import json
import zlib

from django.conf import settings
from django.db.models import ProtectedError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.serializers import ListSerializer
from rest_framework.views import APIView

from accounts.authentication import BearerOrTokenAuthentication
from catalog.api.serializers import (
    AssetSerializer,
    AssetWithHopsSerializer,
    DatasetSerializer,
    ImpactPageSerializer,
    LineageEditSerializer,
    PipelineRunSerializer,
    PipelineSerializer,
    ReportSerializer,
    ScanRequestSerializer,
    ScanSerializer,
    SourceSerializer,
)
from catalog.assets import StaleEdit, add_edge, delete_asset, remove_edge, save_asset
from catalog.choices import AssetKind
from catalog.filtersets import (
    AssetFilterSet,
    DatasetFilterSet,
    PipelineFilterSet,
    ReportFilterSet,
    SourceFilterSet,
)
from catalog.lineage import DEFAULT_DEPTH, MAX_DEPTH, ImpactOrder, walk, with_hops
from catalog.models import Asset, Dataset, DataSource, Pipeline, Report
from catalog.openlineage import MalformedEvent, RefusedEvent, accept
from catalog.scanning import READERS
from core.choices import JobKind
from core.models import JobRun

DEPTH_PARAMETER = OpenApiParameter("depth", int, description=f"Hops, {DEFAULT_DEPTH} by default, at most {MAX_DEPTH}.")
# The lineage endpoint answers with the nearest assets each way and how many there are in all; the impact endpoint
# pages through everything downstream.
LINEAGE_LIMIT, LINEAGE_MAX_LIMIT = 100, 500
LIMIT_PARAMETER = OpenApiParameter(
    "limit", int, description=f"The nearest assets each way, {LINEAGE_LIMIT} by default, at most {LINEAGE_MAX_LIMIT}."
)


def _depth(request):
    try:
        return max(1, min(int(request.query_params.get("depth", DEFAULT_DEPTH)), MAX_DEPTH))
    except ValueError:
        raise exceptions.ValidationError({"depth": f"A whole number from 1 to {MAX_DEPTH}."}) from None


def _lineage_limit(request):
    try:
        return max(1, min(int(request.query_params.get("limit", LINEAGE_LIMIT)), LINEAGE_MAX_LIMIT))
    except ValueError:
        raise exceptions.ValidationError({"limit": f"A whole number from 1 to {LINEAGE_MAX_LIMIT}."}) from None


def _require_edit(asset, user):
    if not asset.can_edit(user):
        raise exceptions.PermissionDenied("Only the owner, the owning team and staff can change this asset.")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Someone else changed this asset since you read it; read it again and re-apply your change."
    default_code = "conflict"


class AssetViewSet(viewsets.ReadOnlyModelViewSet):
    """Every catalogued thing, whatever its kind. Filter with ``?kind=dataset&owner=alice&tag=finance``."""

    serializer_class = AssetSerializer
    filterset_class = AssetFilterSet
    lookup_field = "uuid"
    ordering_fields = ["name", "updated_at"]

    def get_queryset(self):
        return Asset.objects.with_people().prefetch_related("tags").order_by("name", "pk")

    @extend_schema(parameters=[DEPTH_PARAMETER], responses=ImpactPageSerializer)
    @action(detail=True, methods=["get"])
    def impact(self, request, uuid=None):
        """Everything downstream of this asset, nearest first, with owner and team, a page at a time
        (``?limit=&offset=``): a hub has 39,000 assets within 10 hops."""
        hops = walk([self.get_object().pk], "down", _depth(request))
        page = self.paginate_queryset(ImpactOrder(hops))  # reads the names of only the hops this page spans
        rows = with_hops(hops, {row.pk: row for row in self.get_queryset().filter(pk__any_of=page)})
        return self.get_paginated_response(AssetWithHopsSerializer(rows, many=True, context={"request": request}).data)

    @extend_schema(methods=["GET"], parameters=[DEPTH_PARAMETER, LIMIT_PARAMETER])
    @extend_schema(methods=["POST"], request=LineageEditSerializer)
    @action(detail=True, methods=["get", "post"])
    def lineage(self, request, uuid=None):
        """GET: the nearest ``limit`` assets upstream and downstream within ``depth`` hops, with how many there are
        in all (every one downstream, page by page: ``impact``). POST: add an edge to or from another asset."""
        asset = self.get_object()
        if request.method == "POST":
            _require_edit(asset, request.user)
            edit = LineageEditSerializer(data=request.data)
            edit.is_valid(raise_exception=True)
            other = edit.validated_data["other"]
            up, down = (asset, other) if edit.validated_data["direction"] == "down" else (other, asset)
            add_edge(up, down, request.user)
            return Response({"upstream": str(up.uuid), "downstream": str(down.uuid)}, status=status.HTTP_201_CREATED)
        depth, limit = _depth(request), _lineage_limit(request)
        upstream, downstream = walk([asset.pk], "up", depth), walk([asset.pk], "down", depth)
        nearest_up, nearest_down = ImpactOrder(upstream)[:limit], ImpactOrder(downstream)[:limit]
        assets = {row.pk: row for row in self.get_queryset().filter(pk__any_of=[*nearest_up, *nearest_down])}
        context = {"request": request}

        def side(hops, nearest):
            shown = {pk: hops[pk] for pk in nearest}
            return AssetWithHopsSerializer(with_hops(shown, assets), many=True, context=context).data

        return Response(
            {
                "depth": depth,
                "upstream_count": len(upstream),
                "downstream_count": len(downstream),
                "upstream": side(upstream, nearest_up),
                "downstream": side(downstream, nearest_down),
            }
        )

    @action(detail=True, methods=["delete"], url_path=r"lineage/(?P<other>[0-9a-f-]{36})")
    def remove_lineage(self, request, uuid=None, other=None):
        """Remove the edge between this asset and another, whichever way it points."""
        asset = self.get_object()
        _require_edit(asset, request.user)
        other_asset = get_object_or_404(Asset, uuid=other)
        if not (remove_edge(asset, other_asset, request.user) or remove_edge(other_asset, asset, request.user)):
            raise exceptions.NotFound("These two assets are not linked.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class KindViewSet(viewsets.ModelViewSet):
    """Create, read, update and delete one kind of asset; changes go through the same path as the pages."""

    lookup_field = "asset__slug"
    lookup_url_kwarg = "slug"
    http_method_names = ["get", "post", "patch", "put", "delete", "head", "options"]

    def queryset_to_count(self, queryset):
        """What a list page counts (see ``core.api.conventions.Pagination``): its filters on the kind's own table.
        The kind named by ``_kind_queryset`` is there for reading the page in index order; under a COUNT it is a
        join of 100,000 rows (37 ms, against 4 for the count itself)."""
        return self.filter_queryset(queryset.model.objects.all())

    def perform_create(self, serializer):
        save_asset(serializer.asset, serializer.row, self.request.user, serializer.new_tags)
        serializer.instance = serializer.row

    def perform_update(self, serializer):
        try:
            save_asset(serializer.asset, serializer.row, self.request.user, serializer.new_tags, serializer.version)
        except StaleEdit:
            raise Conflict from None

    def update(self, request, *args, **kwargs):
        # Refuse before validation: an outsider learns nothing about which of their values would be accepted.
        _require_edit(self.get_object().asset, request.user)
        return super().update(request, *args, **kwargs)

    def perform_destroy(self, row):
        _require_edit(row.asset, self.request.user)
        try:
            delete_asset(row.asset)
        except ProtectedError:
            raise exceptions.ValidationError(
                {"detail": "This source still has datasets. Delete them or move them to another source first."}
            ) from None


def _kind_queryset(model, kind, *related):
    # Naming the kind, implied by the table, lets PostgreSQL read the page in order off the (kind, name, id) index.
    return (
        model.objects.filter(asset__kind=kind)
        .select_related("asset__owner", "asset__team", *related)
        .prefetch_related("asset__tags")
        .order_by("asset__name", "pk")
    )


class SourceViewSet(KindViewSet):
    serializer_class = SourceSerializer
    filterset_class = SourceFilterSet

    def get_queryset(self):
        return _kind_queryset(DataSource, AssetKind.SOURCE)


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("fields", str, description="`columns` to include each dataset's columns.")]
    )
)
class DatasetViewSet(KindViewSet):
    """Datasets. A list leaves out the columns unless asked (``?fields=columns``), as OpenMetadata's does: a page of
    50 datasets has about 1,000 columns, and serializing them was most of the list's time."""

    serializer_class = DatasetSerializer
    filterset_class = DatasetFilterSet

    def _with_columns(self):
        return self.action != "list" or "columns" in self.request.query_params.get("fields", "").split(",")

    def get_queryset(self):
        datasets = _kind_queryset(Dataset, AssetKind.DATASET, "source__asset", "steward")
        return datasets.prefetch_related("columns") if self._with_columns() else datasets

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        if isinstance(serializer, ListSerializer) and not self._with_columns():
            serializer.child.fields.pop("columns")
        return serializer


class ReportViewSet(KindViewSet):
    serializer_class = ReportSerializer
    filterset_class = ReportFilterSet

    def get_queryset(self):
        return _kind_queryset(Report, AssetKind.REPORT)


class PipelineViewSet(KindViewSet):
    serializer_class = PipelineSerializer
    filterset_class = PipelineFilterSet

    def get_queryset(self):
        return _kind_queryset(Pipeline, AssetKind.PIPELINE)

    @action(detail=True, methods=["get"])
    def runs(self, request, slug=None):
        """The pipeline's latest runs, newest first."""
        runs = self.get_object().runs.all()[:50]
        return Response(PipelineRunSerializer(runs, many=True).data)


class ScanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Schema scans: list them (``?source=<slug>``), read one, or ask for one (owners of the source)."""

    serializer_class = ScanSerializer

    def get_queryset(self):
        runs = JobRun.objects.filter(kind=JobKind.SCHEMA_SCAN).select_related("asset", "requested_by")
        if source := self.request.query_params.get("source"):
            runs = runs.filter(asset__slug=source, asset__kind="source")
        return runs.order_by("-created_at", "-pk")

    @extend_schema(request=ScanRequestSerializer, responses={202: ScanSerializer})
    def create(self, request):
        scan_request = ScanRequestSerializer(data=request.data)
        scan_request.is_valid(raise_exception=True)
        source = scan_request.validated_data["source"]
        _require_edit(source.asset, request.user)
        if source.source_kind not in READERS:
            raise exceptions.ValidationError({"source": "Only PostgreSQL, SQLite and file sources can be scanned."})
        run = JobRun.enqueue(JobKind.SCHEMA_SCAN, asset=source.asset, requested_by=request.user)
        return Response(ScanSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class TooLarge(ValueError):
    pass


def _gunzip(body, limit):
    """``body`` decompressed, refused (``TooLarge``) past ``limit`` bytes without decompressing further: a few KB of
    gzip can hold gigabytes."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    out = inflater.decompress(body, limit + 1)
    if len(out) > limit or inflater.unconsumed_tail:
        raise TooLarge
    if not inflater.eof:
        raise EOFError("The gzip stream is cut short.")
    return out


class OpenLineageView(APIView):
    """Receives OpenLineage RunEvents as the official clients' HTTP transport sends them (optionally gzipped).

    Authenticate with ``Authorization: Bearer <API token>``. A malformed event is answered 400 with the reason
    and changes nothing; one that would change assets the token's owner may not change is answered 403 with the
    reason, kept for staff and changes nothing; a valid one 202: it is queued, and the worker records it within
    seconds.
    """

    authentication_classes = [BearerOrTokenAuthentication]
    throttle_scope = "lineage"

    @extend_schema(request=dict, responses={202: dict, 400: dict, 403: dict, 413: dict})
    def post(self, request):
        body = request.body
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            if request.headers.get("Content-Encoding", "").lower() == "gzip":
                body = _gunzip(body, limit)
            event = json.loads(body)
        except TooLarge:
            megabytes = limit // (1024 * 1024)
            detail = f"The event is larger than {megabytes} MB once decompressed; send it in parts."
            return Response({"detail": detail}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        except (OSError, EOFError, ValueError, zlib.error):
            return Response({"detail": "The body is not valid JSON."}, status=status.HTTP_400_BAD_REQUEST)
        try:
            queued = accept(event, request.user, token=request.auth)
        except MalformedEvent as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        except RefusedEvent as exc:
            return Response(
                {"detail": str(exc), "event": exc.event.pk, "refused": True}, status=status.HTTP_403_FORBIDDEN
            )
        return Response(
            {"event": queued.pk, "detail": "Accepted: the catalog records it within seconds."},
            status=status.HTTP_202_ACCEPTED,
        )
