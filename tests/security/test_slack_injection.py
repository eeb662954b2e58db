"""Finding 8: a reader's issue title and description reach the team's Slack webhook as text, not as mrkdwn."""

from unittest import mock

import pytest

from core.tasks import post_webhook
from tests import factories

pytestmark = pytest.mark.django_db


def test_an_issue_cannot_ping_the_channel_or_plant_a_link_in_the_team_webhook(
    owner, team, outsider, client_for, django_capture_on_commit_callbacks
):
    team.webhook_url = "https://hooks.example.com/services/T000/B000/XXX"
    team.save()
    orders = factories.dataset("Orders", owner=owner, team=team).asset
    with mock.patch.object(post_webhook, "apply_async") as send, django_capture_on_commit_callbacks(execute=True):
        created = client_for(outsider).post(
            "/api/v1/issues/",
            {
                "asset": str(orders.uuid),
                "title": "<!channel> urgent",
                "description": "Please sign in again <https://evil.example/login|here> & <@U123>",
                "category": "other",
                "severity": "major",
            },
        )
    assert created.status_code == 201, created.json()
    _, payload = send.call_args.args[0]
    text = payload["text"]
    assert "<!channel>" not in text and "<https://evil.example" not in text and "<@U123>" not in text
    assert "&lt;!channel&gt; urgent" in text
    assert "&lt;https://evil.example/login|here&gt; &amp; &lt;@U123&gt;" in text
    # The only link Slack renders is the portal's own.
    assert text.count("<") == 1 and text.endswith("|Open in the portal>")
    assert "<http://127.0.0.1:8000/" in text or "<https://" in text
