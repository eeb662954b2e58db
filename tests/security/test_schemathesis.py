"""Issue 14, finding 13: schemathesis against the OpenAPI document, as a reader and as staff, in CI.

Every read operation of ``/api/schema/`` gets a few generated requests (bounded: about a minute with the database
set-up), sent in-process through the WSGI application with a token of the persona, on a small catalog. Checked:
no 5xx ever, and every answer conforms to the document (status code documented, content type, response schema).
"""

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
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(params=["reader", "staff"])
def persona(request, owner, team):
    """A small catalog of the owner's, and the token of the persona the generated requests are sent as."""
    source = factories.source("Warehouse", owner=owner, team=team)
    factories.dataset("Orders", source_=source, owner=owner, team=team, columns=[("id", "bigint")])
    factories.report("Sales", owner=owner)
    user = factories.user("stella", is_staff=True, is_superuser=True) if request.param == "staff" else factories.user()
    _, key = ApiToken.issue(user, "schemathesis")
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def api_schema(persona, settings):
    settings.API_RATE_LIMITS = {"api": None, "lineage": None}
    # As Django's test client does: the WSGI handler must not close the test's connection after each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), headers=persona)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# Reads only, to stay near a minute in CI (96 reads for the two personas, about 60 s with the database set-up). A
# run of every operation (writes included, 4 examples each) took about 10 minutes here: run it by hand with
# ``.include()`` removed after changing serializers.
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
