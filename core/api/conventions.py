"""API conventions shared by every app: JSON errors with a plain message, never an HTML 500 for bad input."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    """DRF's handler, plus Django's ValidationError (raised by model ``clean()``) turned into a 400.

    Every error body has a ``detail`` sentence a person can read; field errors stay under their field names.
    """
    if isinstance(exc, DjangoValidationError):
        exc = serializers.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": " ".join(exc.messages)}
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.Throttled):
        response.data = {"detail": f"Too many requests with this token; try again in {exc.wait or 1:.0f} s."}
    if isinstance(response.data, dict) and "detail" not in response.data:
        fields = ", ".join(str(key) for key in response.data)
        response.data = {"detail": f"Invalid input in: {fields}.", "errors": response.data}
    elif isinstance(response.data, list):
        response.data = {"detail": " ".join(str(item) for item in response.data), "errors": response.data}
    return response


class Pagination(LimitOffsetPagination):
    """``?limit=&offset=`` with a ceiling, so one request cannot ask for the whole catalog at once. A view may
    count a cheaper queryset with the same rows (``queryset_to_count``)."""

    max_limit = 500

    def paginate_queryset(self, queryset, request, view=None):
        self.counted = view.queryset_to_count(queryset) if hasattr(view, "queryset_to_count") else queryset
        return super().paginate_queryset(queryset, request, view)

    def get_count(self, queryset):
        return super().get_count(self.counted)


def full_clean_or_raise(instance, exclude=None):
    """Run the model's own validation so that the API refuses exactly what the forms refuse."""
    try:
        instance.full_clean(exclude=exclude)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.message_dict) from None


__all__ = ["Http404", "exception_handler", "exceptions", "full_clean_or_raise"]


class BuiltOnceReads:
    """For a viewset whose reads are hot (the registry's): its serializer is built once per process for reading,
    and each answer is that serializer's ``to_representation`` of the object.

    A DRF serializer builds its fields again for every request (the model's fields looked up, each field made and
    bound, nested serializers alike): for "get model" that was a third of the request's time. Reading is stateless
    for serializers whose output does not depend on the request (no hyperlinks, no ``context["request"]`` in a
    read), the only kind this mixin is for; tests compare its answers with a freshly built serializer's.
    """

    def _reader(self):
        cls = type(self)
        reader = cls.__dict__.get("_built_reader")
        if reader is None:
            reader = self.get_serializer_class()(context={})
            reader.fields  # noqa: B018 (built now, once)
            cls._built_reader = reader
        return reader

    def retrieve(self, request, *args, **kwargs):
        return Response(self._reader().to_representation(self.get_object()))

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        reader = self._reader()
        if page is not None:
            return self.get_paginated_response([reader.to_representation(item) for item in page])
        return Response([reader.to_representation(item) for item in queryset])
