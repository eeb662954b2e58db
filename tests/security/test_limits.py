"""Issue 14, finding 6: bodies, Markdown and uploads are bounded, and each limit is said plainly.

Sent as an attacker with an ordinary account would: a gzip bomb to the OpenLineage endpoint, pathological Markdown in
a description she may edit (her own asset) and in the card preview, and an upload declared larger than allowed.
"""

import gzip
import json
import time
from unittest import mock

import pytest

from accounts.models import ApiToken
from catalog.models import Asset, LineageEvent
from core import markdown as portal_markdown
from core.markdown import render_markdown
from tests import factories


@pytest.mark.django_db
def test_a_gzip_bomb_is_refused_by_its_decompressed_size(client, outsider, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
    event = {"eventTime": "2026-11-28T06:00:00Z", "run": {"runId": "r"}, "job": {"namespace": "a", "name": "b"}}
    # A valid event followed by 64 MB of spaces: about 60 KB gzipped, far past the limit once decompressed.
    bomb = gzip.compress(json.dumps(event).encode() + b" " * (64 * 1024 * 1024))
    assert len(bomb) < 100 * 1024
    _, key = ApiToken.issue(outsider, "mine")
    started = time.monotonic()
    response = client.post(
        "/api/v1/lineage",
        bomb,
        content_type="application/json",
        headers={"authorization": f"Bearer {key}", "content-encoding": "gzip"},
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "The event is larger than 2 MB once decompressed; send it in parts."}
    assert time.monotonic() - started < 2
    assert not LineageEvent.objects.exists()


@pytest.mark.django_db
def test_a_small_gzipped_event_is_still_accepted(client, outsider):
    event = {"eventTime": "2026-11-28T06:00:00Z", "run": {"runId": "r"}, "job": {"namespace": "a", "name": "b"}}
    _, key = ApiToken.issue(outsider, "mine")
    response = client.post(
        "/api/v1/lineage",
        gzip.compress(json.dumps(event).encode()),
        content_type="application/json",
        headers={"authorization": f"Bearer {key}", "content-encoding": "gzip"},
    )
    assert response.status_code == 202


PATHOLOGICAL = {
    "10,000 [": "[" * 10_000,
    "5,000 ![": "![" * 5_000,
    "5,000 [a](": "[a](" * 5_000,
    "10,000 <a": "<a " * 10_000,
    "16,000 nested list items": "1. " * 16_000,
    "25,000 nested quotes": "> " * 25_000,
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_a_pathological_description_renders_in_bounded_time(client_for, outsider, name):
    text = PATHOLOGICAL[name]
    report = factories.report("Mine", owner=outsider)
    Asset.objects.filter(pk=report.pk).update(description=text)
    started = time.monotonic()
    response = client_for(outsider).get(report.asset.get_absolute_url())
    assert response.status_code == 200
    assert time.monotonic() - started < 3, f"{name} took {time.monotonic() - started:.1f} s"


def test_markdown_still_renders_links_code_and_escapes_what_it_defuses():
    assert render_markdown("[docs](https://docs.example.com) `x[0]`") == (
        '<p><a href="https://docs.example.com" rel="noopener noreferrer">docs</a> <code>x[0]</code></p>'
    )
    many = render_markdown("[a" * 600)
    assert many.startswith("<p>&#91;a&#91;a") and "<a" not in many
    assert "<script" not in render_markdown("<script>alert(1)</script>" * 600)
    too_long = render_markdown("**x** " * 40_000)
    assert too_long.startswith('<pre class="plain-text">**x**')


def test_rendered_markdown_is_cached():
    text = "A *stored* description."
    with mock.patch.object(portal_markdown, "_render", wraps=portal_markdown._render) as renderer:
        first = render_markdown(text)
        assert render_markdown(text) == first
    assert renderer.call_count == 1


@pytest.mark.django_db
def test_a_huge_preview_is_refused_at_once(client_for, outsider):
    started = time.monotonic()
    response = client_for(outsider).post(
        "/models/markdown-preview/?field=results", {"results": "[" * 250_000}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert "longer than 50,000 characters" in response.content.decode()
    assert time.monotonic() - started < 2


@pytest.mark.django_db
@pytest.mark.parametrize("api", [False, True], ids=["page", "API"])
def test_an_upload_declared_over_the_limit_is_refused_before_its_body_is_read(client_for, outsider, api):
    asset = factories.dataset("Orders", owner=outsider).asset
    url = "/api/v1/issues/" if api else f"/assets/dataset/{asset.slug}/report-problem/"
    response = client_for(outsider).generic(
        "POST",
        url,
        b"--x\r\n",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(200 * 1024 * 1024),
    )
    assert response.status_code == 413
    if api:
        assert response.json()["detail"].startswith("The request is larger than 15 MB")
    else:
        assert "What you sent is too large" in response.content.decode()
