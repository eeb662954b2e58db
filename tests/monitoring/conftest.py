"""Builders and local servers for the monitoring tests."""

import csv
import http.server
import random
import socket
import threading

import pytest

from catalog.choices import DatasetFormat
from catalog.models import Dataset
from tests import factories

policy_for = factories.freshness_policy


@pytest.fixture(autouse=True)
def local_servers_allowed(settings):
    """These tests probe servers they start on 127.0.0.1, as staff allow an internal host (tests/security/test_ssrf.py
    covers the refusal of everything not allowed)."""
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]


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


# --- training -----------------------------------------------------------------------------------------------------
CHURN_COLUMNS = [("tenure_months", "int64"), ("orders_90d", "int64"), ("segment", "object"), ("churned", "int64"),
                 ("revenue_90d", "float64")]  # fmt: skip


def write_churn(path, rows=300, seed=1):
    rng = random.Random(seed)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["tenure_months", "orders_90d", "segment", "churned", "revenue_90d"])
        for _ in range(rows):
            tenure, orders = rng.randint(1, 72), rng.randint(0, 12)
            segment = rng.choice(["consumer", "business"])
            churned = int(0.3 * (6 - orders) - 0.02 * tenure + rng.gauss(0, 0.5) > 0)
            writer.writerow([tenure, orders, segment, churned, round(orders * rng.uniform(20, 90), 2)])


@pytest.fixture
def mlflow_store(settings, tmp_path):
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path / 'mlflow.sqlite3'}"
    settings.MLFLOW_ARTIFACT_ROOT = str(tmp_path / "artifacts")
    return settings.MLFLOW_TRACKING_URI


@pytest.fixture
def churn(settings, tmp_path, owner, team):
    settings.DATA_ROOT = tmp_path
    (tmp_path / "ml").mkdir()
    write_churn(tmp_path / "ml" / "churn.csv")
    dataset = factories.dataset(
        "Churn set", qualified_name="ml/churn.csv", columns=CHURN_COLUMNS, owner=owner, team=team
    )
    Dataset.objects.filter(pk=dataset.pk).update(format=DatasetFormat.CSV)
    dataset.refresh_from_db()
    return dataset


@pytest.fixture
def model(owner, team):
    return factories.registered_model("Churn predictor", owner=owner, team=team)


@pytest.fixture
def churn_model(owner, team):
    return factories.registered_model("Churn predictor", owner=owner, team=team)


@pytest.fixture
def churn_set(owner, team):
    """A CSV dataset whose columns are recorded in the catalog; no file behind it (for request checks only)."""
    columns = [("tenure", "int64"), ("segment", "object"), ("churned", "int64")]
    dataset = factories.dataset("Churn set", qualified_name="ml/churn.csv", owner=owner, team=team, columns=columns)
    Dataset.objects.filter(pk=dataset.pk).update(format=DatasetFormat.CSV)
    return dataset
