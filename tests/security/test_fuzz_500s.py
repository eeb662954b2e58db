"""Issue 14, finding 13: the 500s schemathesis and input fuzzing found, each as the request that caused it."""

import pytest

from tests import factories
from tests.registry.helpers import model_with_card

NUL_PATHS = ["/search/?q=orders%00", "/api/v1/scans/?source=sh%00op", "/api/v1/assets/?search=a%00b",
             "/catalog/?q=a%00", "/api/v1/datasets/?source=a%00"]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("path", NUL_PATHS)
def test_a_nul_byte_in_a_query_is_not_a_500(client_for, outsider, path):
    response = client_for(outsider).get(path)
    assert response.status_code in (200, 400), response.content[:300]


@pytest.mark.django_db
def test_editing_a_never_edited_card_with_a_made_up_revision_is_a_400_not_a_500(owner):
    model, *_ = model_with_card(owner, complete=False)
    api = factories.api_client(owner)
    response = api.patch(f"/api/v1/models/{model.asset.slug}/card/", {"results": "New.", "revision": 5}, format="json")
    assert response.status_code == 400, response.content[:300]
    assert "Revision 5 does not exist: this card is at revision 0" in response.json()["detail"]


def _documented_statuses(api, path, method):
    document = api.get("/api/schema/", {"format": "json"}).json()
    return set(document["paths"][path][method]["responses"])


@pytest.mark.django_db
def test_a_body_the_parsers_cannot_read_is_answered_with_a_documented_415(staff):
    """Found by schemathesis as staff: a body that reached the view without a content type (a multipart part that
    had lost its headers) was answered 415, a status the document did not name."""
    api = factories.api_client(staff)

    response = api.generic("POST", "/api/v1/integrations/dbt/", "\U0002c7d6".encode(), content_type="")

    assert response.status_code == 415, response.content[:300]
    assert response.json()["detail"]
    assert "415" in _documented_statuses(api, "/api/v1/integrations/dbt/", "post")
