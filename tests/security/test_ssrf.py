"""Issue 14, finding 5: HTTP freshness probes and team webhooks never reach inside the portal's own network.

The attacker is a reader who owns a dataset of her own (anyone may add one) and points its HTTP probe at the
portal's neighbours. Real local servers stand in for them: what they receive shows whether the worker went there.
"""

import http.server
import json
import socket
import threading

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from accounts.models import Team
from core.tasks import post_webhook
from monitoring.choices import FreshnessMethod
from monitoring.freshness import run_probe
from monitoring.models import FreshnessPolicy
from tests import factories

STATUS = b'{"updated_at": "2026-03-02T09:30:00Z"}'


@pytest.fixture
def servers():
    """``start(host)`` serves on ``host`` (a loopback address) and returns ``(base url, requests received)``;
    ``/status`` answers JSON, ``/go?to=<url>`` redirects there."""
    started = []

    def start(host="127.0.0.1"):
        received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                received.append(self.path)
                if self.path.startswith("/go?to="):
                    self.send_response(302)
                    self.send_header("Location", self.path.split("=", 1)[1])
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(STATUS)

            do_POST = do_GET

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer((host, 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return f"http://{host}:{server.server_address[1]}", received

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


@pytest.fixture
def banner_server():
    """A TCP service that is not HTTP: it greets every connection with an SSH banner."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            connection.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3 secret-build\r\n")
            connection.close()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    listener.close()


@pytest.fixture
def mine(outsider):
    """The attacker's own dataset, so every refusal below is about the address, not about whose dataset it is."""
    return factories.dataset("My orders", owner=outsider)


def _policy_api(api, dataset, url):
    data = {"asset": str(dataset.asset.uuid), "method": "http", "url": url, "json_field": "updated_at",
            "period": "1 00:00:00", "grace": "01:00:00"}  # fmt: skip
    return api.post("/api/v1/freshness-policies/", data, format="json")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("address", "said"),
    [
        ("http://127.0.0.1:{port}/status", "127.0.0.1 is a loopback address"),
        ("http://localhost:{port}/status", "localhost (127.0.0.1) is a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local (cloud metadata) address"),
        ("http://10.0.0.1/", "10.0.0.1 is a private address"),
        ("http://[::1]:{port}/", "::1 is a loopback address"),
    ],
)
def test_the_api_refuses_a_probe_of_an_internal_address(outsider, mine, servers, address, said):
    base, received = servers()
    url = address.format(port=base.rsplit(":", 1)[1])
    response = _policy_api(factories.api_client(outsider), mine, url)
    assert response.status_code == 400
    assert said in response.json()["errors"]["url"][0]
    assert "OUTBOUND_ALLOWED_HOSTS" in response.json()["errors"]["url"][0]
    assert received == []


@pytest.mark.django_db
def test_the_page_refuses_it_and_keeps_what_was_typed(client_for, outsider, mine, servers):
    base, received = servers()
    form = {"method": "http", "schedule_kind": "period", "period": "1 00:00:00", "grace": "02:00:00",
            "time_zone": "UTC", "timeout_seconds": 10, "url": f"{base}/status", "json_field": "updated_at"}  # fmt: skip
    response = client_for(outsider).post(f"/monitoring/freshness/{mine.asset.uuid}/", form)
    assert response.status_code == 200
    page = response.content.decode()
    assert "is a loopback address" in page
    assert f'value="{base}/status"' in page
    assert received == []


@pytest.mark.django_db
def test_a_probe_stored_before_the_guard_is_refused_when_it_connects(mine, servers):
    """The rule is applied to the address connected to, not only when the form is saved (DNS may say otherwise
    by then)."""
    base, received = servers()
    policy = factories.freshness_policy(
        mine, method=FreshnessMethod.HTTP, url=f"{base}/status", json_field="updated_at"
    )
    run_probe(policy)
    policy.refresh_from_db()
    assert received == []
    assert "is a loopback address" in policy.probe_error
    assert "is a loopback address" in policy.probe_reason


@pytest.mark.django_db
def test_staff_allow_a_host_and_a_redirect_elsewhere_inside_is_not_followed(settings, mine, servers):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    allowed, allowed_received = servers("127.0.0.1")
    inside, inside_received = servers("127.0.0.2")
    policy = factories.freshness_policy(
        mine, method=FreshnessMethod.HTTP, url=f"{allowed}/status", json_field="updated_at"
    )
    run_probe(policy)
    policy.refresh_from_db()
    assert policy.last_seen_at is not None and policy.probe_error == ""

    policy.url = f"{allowed}/go?to={inside}/status"
    policy.save(update_fields=["url"])
    # As the sweep reads it: the probe's thread must find the asset loaded (it has no database of its own here).
    policy = FreshnessPolicy.objects.select_related("asset__dataset__source").get(pk=policy.pk)
    run_probe(policy)
    policy.refresh_from_db()
    assert allowed_received[-1].startswith("/go?to=")
    assert inside_received == []
    assert "127.0.0.2 is a loopback address" in policy.probe_error


@pytest.mark.django_db
def test_a_non_http_service_banner_is_never_shown(settings, mine, banner_server):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    policy = factories.freshness_policy(mine, method=FreshnessMethod.HTTP, url=f"{banner_server}/", json_field="x")
    run_probe(policy)
    policy.refresh_from_db()
    assert "SSH" not in policy.probe_error and "OpenSSH" not in policy.probe_reason
    assert "the server did not answer HTTP" in policy.probe_error


@pytest.mark.django_db
def test_a_team_webhook_inside_is_refused_in_the_admin_and_never_sent(settings, staff, servers):
    base, received = servers()
    team = Team.objects.create(name="Finance", slug="finance")
    admin = site._registry[Team]
    request = RequestFactory().post("/")
    request.user = staff
    form = admin.get_form(request, team)(
        data={"name": "Finance", "slug": "finance", "webhook_url": f"{base}/hook"}, instance=team
    )
    assert not form.is_valid()
    assert "is a loopback address" in form.errors["webhook_url"][0]

    # A webhook stored before the guard: the worker does not post there, and does not retry.
    assert post_webhook.apply(args=[f"{base}/hook", {"text": "Orders is stale"}]).get() is None
    assert received == []

    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    assert post_webhook.apply(args=[f"{base}/hook", {"text": "Orders is stale"}]).get() == 200
    assert received == ["/hook"]


def test_the_allow_list_reads_names_addresses_and_networks(settings):
    from core.outbound import OutboundRefused, check_address

    settings.OUTBOUND_ALLOWED_HOSTS = ["metrics.internal", "10.1.0.0/16"]
    check_address("metrics.internal", "10.9.9.9")
    check_address("other.internal", "10.1.2.3")
    with pytest.raises(OutboundRefused):
        check_address("other.internal", "10.2.0.1")
    with pytest.raises(OutboundRefused):
        check_address("mapped", "::ffff:127.0.0.1")
    check_address("example.com", "93.184.215.14")
    assert json.loads(STATUS)
