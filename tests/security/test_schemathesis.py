"""Issue 14, finding 13: schemathesis against the OpenAPI document, as a reader and as staff, in CI.

Every operation of ``/api/schema/`` gets a few generated requests, sent in-process through the WSGI application with
a token of the persona, on a small catalog: the reads two each for both personas, the writes under ``/api/v1/``
(POST, PUT, PATCH, DELETE) 25 generated each, in one test per persona. Bounded (a fixed seed, no shrinking) so the
whole file stays under about three minutes on two cores. Checked: no 5xx ever, and every answer
conforms to the document (status code documented, content type, response schema).
"""

import itertools
from contextlib import contextmanager

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import ApiToken
from tests import factories

EXAMPLES = 2
# Per write operation and persona: 12 keeps the file near 90 s on two cores (25 found nothing more, in 2.5 min).
WRITE_EXAMPLES = 12
WRITES = ["POST", "PUT", "PATCH", "DELETE"]
# Path parameters naming the owner's catalog (filled by the persona fixtures), by parameter name, then by collection.
OWNERS_OBJECTS = {}
SENT = itertools.count()


def _aim_at_the_owners_objects(case):
    """Every other write names the owner's real objects in its path: random slugs and uuids are only ever 404, and
    the reader's refusals (403) and staff's changes (200, 204, 409) would go untested."""
    if next(SENT) % 2:
        return
    for name in list(case.path_parameters or {}):
        known = OWNERS_OBJECTS.get(name)
        if isinstance(known, dict):
            known = next((value for collection, value in known.items() if f"/{collection}/" in case.path), None)
        if known:
            case.path_parameters[name] = known


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _token_headers(owner, team, *, staff):
    """A small catalog of the owner's, and the token of the persona the generated requests are sent as."""
    source = factories.source("Warehouse", owner=owner, team=team)
    orders = factories.dataset("Orders", source_=source, owner=owner, team=team, columns=[("id", "bigint")])
    sales = factories.report("Sales", owner=owner)
    OWNERS_OBJECTS.update({"slug": {"sources": source.asset.slug, "datasets": orders.asset.slug,
                                    "reports": sales.asset.slug},
                           "uuid": str(orders.asset.uuid), "asset": str(orders.asset.uuid)})  # fmt: skip
    user = factories.user("stella", is_staff=True, is_superuser=True) if staff else factories.user()
    _, key = ApiToken.issue(user, "schemathesis")
    return {"Authorization": f"Bearer {key}"}


@contextmanager
def _in_process_schema(headers, settings):
    settings.API_RATE_LIMITS = {"api": None, "lineage": None}
    # As Django's test client does: the WSGI handler must not close the test's connection after each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), headers=headers)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(params=["reader", "staff"])
def persona(request, owner, team):
    return _token_headers(owner, team, staff=request.param == "staff")


@pytest.fixture
def api_schema(persona, settings):
    with _in_process_schema(persona, settings) as loaded:
        yield loaded


@pytest.fixture
def reader(owner, team):
    return _token_headers(owner, team, staff=False)


@pytest.fixture
def staff(owner, team):
    return _token_headers(owner, team, staff=True)


@pytest.fixture
def reader_schema(reader, settings):
    with _in_process_schema(reader, settings) as loaded:
        yield loaded


@pytest.fixture
def staff_schema(staff, settings):
    with _in_process_schema(staff, settings) as loaded:
        yield loaded


# Reads: two examples each, for the two personas (96 reads, about 60 s with the database set-up).
schema = schemathesis.pytest.from_fixture("api_schema").include(method="GET")


@pytest.mark.django_db
@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_document_says(case, persona):
    case.call_and_validate(headers=persona, checks=CHECKS)


# Writes: generated examples only, without shrinking, one test per persona (122 operations, about 85 s). The explicit
# phase is left out: it sends about 25 requests per operation (1 + 25 cost about 5 minutes for the writes). Raise
# WRITE_EXAMPLES by hand after changing serializers.
WRITE_SETTINGS = hypothesis_settings(
    max_examples=WRITE_EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)
reader_writes = schemathesis.pytest.from_fixture("reader_schema").include(method=WRITES, path_regex="^/api/v1/")
staff_writes = schemathesis.pytest.from_fixture("staff_schema").include(method=WRITES, path_regex="^/api/v1/")


@pytest.mark.django_db
@reader_writes.parametrize()
@WRITE_SETTINGS
def test_a_readers_writes_are_answered_as_the_document_says(case, reader):
    _aim_at_the_owners_objects(case)
    case.call_and_validate(headers=reader, checks=CHECKS)


@pytest.mark.django_db
@staff_writes.parametrize()
@WRITE_SETTINGS
def test_staffs_writes_are_answered_as_the_document_says(case, staff):
    _aim_at_the_owners_objects(case)
    case.call_and_validate(headers=staff, checks=CHECKS)
