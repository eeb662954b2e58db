"""Finding 11: the demo's heartbeat address is not the one in the public repository, and Markdown cannot load an
image from another host (or a ping of this one) when someone reads a page."""

import uuid

import pytest

from monitoring.models import FreshnessPolicy
from tests import factories

# The demo's address before this fix: uuid5 of a fixed string, the same on every instance (and in the repository).
PUBLISHED_KEY = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://portal.example.com/demo/orders-etl"))


def test_the_published_demo_heartbeat_address_fakes_no_run_here(demo, client):
    assert client.get(f"/ping/{PUBLISHED_KEY}").status_code == 404
    policy = FreshnessPolicy.objects.get(asset__kind="pipeline", asset__slug="orders-etl")
    assert str(policy.ping_key) != PUBLISHED_KEY
    # Its own (random) address still works for the real pipeline.
    assert client.get(f"/ping/{policy.ping_key}").status_code == 200


@pytest.mark.django_db
def test_a_readers_markdown_cannot_load_images_from_elsewhere_or_fire_a_ping(outsider, owner, client_for):
    policy = factories.freshness_policy(factories.dataset("Orders", owner=owner))
    description = (
        "Looks fine. ![chart](https://evil.example/pixel.png?who=reader) "
        f"![x](http://testserver/ping/{policy.ping_key}) ![y](/ping/{policy.ping_key}) "
        '<img src="//evil.example/t.gif"> ![ok](/media/issues/chart.png)'
    )
    api = client_for(outsider)
    created = api.post("/api/v1/reports/", {"name": "Mine", "description": description}, "application/json")
    assert created.status_code == 201, created.content
    page = client_for(owner).get(created.json()["url"]).content.decode()
    assert 'src="https://evil.example' not in page and 'src="//evil.example' not in page
    assert f'src="http://testserver/ping/{policy.ping_key}"' not in page
    assert f'src="/ping/{policy.ping_key}"' not in page
    assert 'src="/media/issues/chart.png"' in page
