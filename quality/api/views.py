import json

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import DataSource
from quality.dbt import ARTIFACTS, DbtArtifactError, import_artifacts, may_import


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
        slug = request.data.get("source")
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
