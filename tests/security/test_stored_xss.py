"""Finding 4: a `javascript:` address sent from outside never becomes a link, and pages carry a CSP without inline
script. (The browser half, pages working under the CSP, is in test_csp_browser.py.)"""

import json

import pytest

from accounts.models import ApiToken
from catalog.models import Asset, Pipeline
from catalog.openlineage import ingest_queued
from tests import factories

pytestmark = pytest.mark.django_db

EVIL = "javascript:alert(document.domain)"


def _event(code_url):
    return {
        "eventType": "COMPLETE",
        "eventTime": "2026-11-28T06:10:00+00:00",
        "run": {"runId": "run-xss"},
        "job": {
            "namespace": "airflow",
            "name": "innocent_etl",
            "facets": {"sourceCodeLocation": {"type": "git", "url": code_url}},
        },
    }


def test_a_javascript_code_url_from_openlineage_is_never_stored_nor_rendered_as_a_link(outsider, owner, client_for):
    _, key = ApiToken.issue(outsider, "lineage")
    response = client_for(outsider).post(
        "/api/v1/lineage", json.dumps(_event(EVIL)), "application/json", headers={"Authorization": f"Bearer {key}"}
    )
    # Accepted (a real producer may send a git@ or file:// address), but the address is dropped.
    assert response.status_code in (200, 201, 202), response.content
    ingest_queued()
    pipeline = Pipeline.objects.get(asset__name="innocent_etl")
    assert pipeline.code_url == ""
    page = client_for(owner).get(pipeline.asset.get_absolute_url()).content.decode()
    assert "javascript:" not in page


def test_a_web_code_url_from_openlineage_is_kept(outsider, client_for):
    _, key = ApiToken.issue(outsider, "lineage")
    url = "https://git.example.com/etl/blob/main/orders.py"
    client_for(outsider).post(
        "/api/v1/lineage", json.dumps(_event(url)), "application/json", headers={"Authorization": f"Bearer {key}"}
    )
    ingest_queued()
    assert Pipeline.objects.get(asset__name="innocent_etl").code_url == url


BAD_ADDRESSES = [EVIL, "data:text/html,<script>alert(1)</script>", "ftp://files.example.com/x", "java\tscript:x"]


def test_the_api_refuses_code_addresses_that_are_not_http(outsider, client_for):
    client = client_for(outsider)
    client.defaults["HTTP_ACCEPT"] = "application/json"
    for bad in BAD_ADDRESSES:
        response = client.post("/api/v1/pipelines/", {"name": "Mine", "code_url": bad}, "application/json")
        assert response.status_code == 400, (bad, response.content)
        assert "code_url" in response.json()["errors"]
    assert not Pipeline.objects.exists()


@pytest.mark.parametrize(("kind", "field"), [("pipeline", "code_url"), ("report", "url")])
def test_the_pages_refuse_addresses_that_are_not_http(outsider, client_for, kind, field):
    for bad in BAD_ADDRESSES:
        response = client_for(outsider).post(
            f"/catalog/new/{kind}/", {"name": "Mine", "lifecycle": "active", f"detail-{field}": bad}
        )
        assert response.status_code == 200, bad
        assert field in response.context["detail_form"].errors, bad
    assert not Asset.objects.filter(name="Mine").exists()


def test_a_javascript_address_already_stored_is_not_rendered_as_a_link(owner, client_for):
    # Stored before validation existed (or by a path that skipped it): the page still shows no such link.
    pipeline = factories.pipeline("Old job", owner=owner)
    Pipeline.objects.filter(pk=pipeline.pk).update(code_url=EVIL)
    report = factories.report("Old report", owner=owner)
    type(report).objects.filter(pk=report.pk).update(url=EVIL)
    for asset in (pipeline.asset, report.asset):
        page = client_for(owner).get(asset.get_absolute_url()).content.decode()
        assert 'href="javascript:' not in page


def test_every_page_carries_a_csp_without_inline_script(owner, client_for):
    response = client_for(owner).get("/")
    policy = response["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in directives.get("default-src", [])
    assert "frame-ancestors" in directives
    login = client_for(owner).get("/accounts/login/")
    assert "Content-Security-Policy" in login
