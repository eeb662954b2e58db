"""Builders and local servers for the monitoring tests."""

import http.server
import socket
import threading
from datetime import timedelta

import pytest

from monitoring.choices import FreshnessMethod
from monitoring.models import FreshnessPolicy
from tests import factories


def policy_for(asset, **fields):
    """A saved policy on ``asset`` (or a kind row with ``.asset``): daily with one hour of grace unless told."""
    asset = getattr(asset, "asset", asset)
    fields.setdefault("method", FreshnessMethod.HEARTBEAT)
    fields.setdefault("period", timedelta(days=1))
    fields.setdefault("grace", timedelta(hours=1))
    return FreshnessPolicy.objects.create(asset=asset, **fields)


@pytest.fixture
def dataset(owner, team):
    return factories.dataset("Orders", owner=owner, team=team)


@pytest.fixture
def http_server():
    """``http_server(handler_function)`` serves ``handler_function(request_handler)`` on a free local port."""
    servers = []

    def start(respond):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                respond(self)

            do_POST = do_GET

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def hanging_server():
    """A TCP port that accepts connections and never answers: the source that hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    for connection in accepted:
        connection.close()
    listener.close()


@pytest.fixture
def closed_port():
    """A local port nothing listens on: connecting to it is refused at once."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port
