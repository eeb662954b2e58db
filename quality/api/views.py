import json
import uuid

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.access import asset_for_user
from catalog.choices import AssetKind
from catalog.models import DataSource
from quality.dbt import ARTIFACTS, DbtArtifactError, import_artifacts, may_import
from quality.greatexpectations import MalformedValidation, record_validation
from quality.soda import MalformedScan, record_scan


class DbtImportView(APIView):
    """Import a dbt project's artifacts, sent as multipart files named ``manifest.json`` (required),
    ``catalog.json``, ``run_results.json`` and ``sources.json``, into the data source ``source`` (its slug).

    A JSON body ``{"source": slug, "manifest.json": {...}, ...}`` is read the same way. Staff, or the source's owner
    and team (an API token of theirs), may import. A malformed or unsupported artifact is answered 400 with the
    reason, and nothing is changed.
    """

    parser_classes = [MultiPartParser, JSONParser]

    @extend_schema(request=dict, responses={200: dict, 400: dict, 403: dict})
    def post(self, request):
        slug = request.data.get("source") if isinstance(request.data, dict) else None
        if not slug:
            raise exceptions.ValidationError({"source": "Give the slug of the data source dbt builds in."})
        source = get_object_or_404(DataSource.objects.select_related("asset"), asset__slug=slug)
        if not may_import(request.user, source):
            raise exceptions.PermissionDenied(
                "Only staff and the people who may edit this data source (its owner and team) may import into it."
            )
        files = {name: upload.read() for name, upload in request.FILES.items()}
        if not files:  # a JSON body: the artifacts as objects
            files = {name: json.dumps(value) for name, value in request.data.items() if name != "source"}
        unexpected = sorted(set(files) - set(ARTIFACTS))
        if unexpected:
            raise exceptions.ValidationError({unexpected[0]: f"Send only {', '.join(ARTIFACTS)}."})
        try:
            summary = import_artifacts(files, source=source, actor=request.user)
        except DbtArtifactError as exc:
            return Response({"detail": f"Nothing was imported: {exc}"}, status=status.HTTP_400_BAD_REQUEST)
        return Response(summary.as_dict(), status=status.HTTP_200_OK)


def _dataset_sent(request, what):
    """The dataset named by ``dataset`` (its uuid) in the body, which the sender may change; raises the API's 400,
    403 or 404."""
    if not isinstance(request.data, dict) or not request.data.get("dataset"):
        raise exceptions.ValidationError({"dataset": f"Give the uuid of the dataset {what}."})
    try:
        wanted = uuid.UUID(str(request.data["dataset"]))
    except ValueError:
        raise exceptions.ValidationError({"dataset": "This is not a dataset's uuid."}) from None
    asset, _ = asset_for_user(request, uuid=wanted, edit=True)
    if asset.kind != AssetKind.DATASET:
        raise exceptions.ValidationError({"dataset": "Quality results belong to a dataset."})
    return asset


class _ResultsView(APIView):
    """A quality tool's result for one dataset: ``{"dataset": "<the dataset's uuid>", "result": {...}}``, recorded by
    ``record`` (which raises ``malformed`` with the reason, nothing recorded). The dataset's owner, team and staff
    may send results."""

    parser_classes = [JSONParser]
    record = malformed = None
    what = ""  # "that was validated": what the refusal says of the dataset

    @extend_schema(request=dict, responses={200: dict, 400: dict, 403: dict})
    def post(self, request):
        asset = _dataset_sent(request, self.what)
        try:
            recorded = type(self).record(asset, request.data.get("result"))
        except self.malformed as exc:
            return Response({"detail": f"Nothing was recorded: {exc}"}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"checks": recorded["checks"], "results": recorded["results"]})


class GreatExpectationsView(_ResultsView):
    """Accept a Great Expectations validation result (``result.to_json_dict()``) for one dataset:
    ``{"dataset": "<the dataset's uuid>", "result": {...}}``. Each expectation becomes a quality check of the dataset,
    and this validation one result of each. The dataset's owner, team and staff may send results."""

    record, malformed, what = staticmethod(record_validation), MalformedValidation, "that was validated"


class SodaView(_ResultsView):
    """Accept a Soda scan result (the file ``soda scan ... -srf results.json`` writes, or
    ``Scan.get_scan_results()``) for one dataset: ``{"dataset": "<the dataset's uuid>", "result": {...}}``. Each
    SodaCL check becomes a quality check of the dataset, and this scan one result of each; checks on another table
    refuse the whole result. The dataset's owner, team and staff may send results."""

    record, malformed, what = staticmethod(record_scan), MalformedScan, "that was scanned"
