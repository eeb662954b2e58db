from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import BearerOrTokenAuthentication
from catalog.models import DataSource
from quality.dbt import ARTIFACTS, DbtArtifactError, import_artifacts, may_import


class DbtImportView(APIView):
    """Import a dbt project's artifacts, sent as multipart files named ``manifest.json`` (required),
    ``catalog.json``, ``run_results.json`` and ``sources.json``, into the data source ``source`` (its slug).

    Staff, or the source's owner and team (an API token of theirs), may import. A malformed or unsupported artifact
    is answered 400 with the reason, and nothing is changed.
    """

    authentication_classes = [BearerOrTokenAuthentication]
    parser_classes = [MultiPartParser]

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
        files = {}
        for name, upload in request.FILES.items():
            if name not in ARTIFACTS:
                raise exceptions.ValidationError({name: f"Send only {', '.join(ARTIFACTS)}."})
            files[name] = upload.read()
        try:
            summary = import_artifacts(files, source=source, actor=request.user)
        except DbtArtifactError as exc:
            return Response({"detail": f"Nothing was imported: {exc}"}, status=status.HTTP_400_BAD_REQUEST)
        return Response(summary.as_dict(), status=status.HTTP_200_OK)
