"""PostgreSQL stopped under a running portal (issue 13, item 11): pages answer the 503 page, the API JSON 503 with
Retry-After, /health/ says "error"; once it is back the portal answers again.

The test makes its OWN cluster (pg_createcluster, port PORTAL_OUTAGE_PG_PORT, default 5442), never the shared
service on 5432, serves the portal from it with gunicorn, and drops the cluster afterwards.
"""

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import wait_until

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = "herrors"
PORT = int(os.environ.get("PORTAL_OUTAGE_PG_PORT", "5442"))


def _version():
    versions = sorted(os.listdir("/usr/lib/postgresql"), key=int)
    assert versions, "PostgreSQL server binaries are not installed"
    return versions[-1]


def _ctl(action):
    options = ["-m", "fast"] if action == "stop" else []
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", _version(), CLUSTER, action, *options]
    return subprocess.run(command, check=True, capture_output=True, text=True)


def _drop():
    subprocess.run(["pg_dropcluster", _version(), CLUSTER, "--stop"], capture_output=True, check=False)


def _ready():
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(PORT)], check=False).returncode == 0


@pytest.fixture
def own_postgres():
    _drop()  # a cluster left by an interrupted run
    subprocess.run(
        ["pg_createcluster", _version(), CLUSTER, "--port", str(PORT), "--", "--auth=trust"],
        check=True,
        capture_output=True,
    )
    try:
        _ctl("start")
        wait_until(_ready, timeout=30, message="the test's PostgreSQL cluster did not start")
        yield f"postgres://postgres@127.0.0.1:{PORT}/postgres"
    finally:
        _drop()


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url, **headers):
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@pytest.fixture
def portal_on(own_postgres, tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        # make run's settings (DEBUG, where Django would show its debug page), on the test's own database.
        "DEBUG": "true",
        "DATABASE_URL": own_postgres,
        "PORTAL_VAR_DIR": str(tmp_path),
        "CELERY_BROKER_URL": "filesystem://",
    }
    env.pop("CELERY_RESULT_BACKEND", None)
    command = [sys.executable, "-m", "gunicorn", "portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def up():
        assert server.poll() is None, server.communicate()[0].decode()
        try:
            return _get(f"{base}/health/")[0] == 200
        except OSError:
            return False

    try:
        wait_until(up, timeout=60, interval=0.3, message="gunicorn did not start")
        yield base
    finally:
        server.terminate()
        server.communicate(timeout=30)


def test_with_postgresql_stopped_pages_show_the_503_page_and_the_api_answers_json_503(portal_on):
    base = portal_on
    _ctl("stop")
    wait_until(lambda: not _ready(), timeout=30, message="the cluster did not stop")

    status, headers, page = _get(f"{base}/catalog/", Cookie="sessionid=someone-signed-in")
    assert status == 503, page[:500]
    assert "The portal is temporarily unavailable" in page and "Server Error" not in page
    assert int(headers["Retry-After"]) > 0

    status, headers, body = _get(f"{base}/api/v1/assets/", Authorization="Bearer some-token")
    assert status == 503, body[:500]
    assert headers["Content-Type"] == "application/json"
    assert "temporarily unavailable" in json.loads(body)["detail"]
    assert int(headers["Retry-After"]) > 0

    status, _, body = _get(f"{base}/health/")
    assert (status, json.loads(body)) == (503, {"status": "error"})

    _ctl("start")
    wait_until(_ready, timeout=30, message="the cluster did not restart")
    # Back without restarting the web process: the next request reconnects.
    status, _, body = _get(f"{base}/health/")
    assert status == 200 and json.loads(body)["status"] in ("ok", "degraded")
