"""The web server as make run starts it (the Procfile's web line), with the hooks in portal/gunicorn.py."""

import gc
import os
import shlex
import socket
import subprocess
import urllib.request
from pathlib import Path

from portal import gunicorn
from tests.helpers import wait_until

ROOT = Path(__file__).resolve().parents[2]


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_procfile_web_command_serves_with_its_hooks(tmp_path):
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    port = _free_port()
    command = [os.path.expandvars(part) for part in shlex.split(line.removeprefix("web:"))]
    env = {
        **os.environ,
        "PORTAL_BIND": f"127.0.0.1:{port}",
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    command = [part.replace("${PORTAL_BIND:-127.0.0.1:8000}", env["PORTAL_BIND"]) for part in command]
    command = [part.replace("${WEB_CONCURRENCY:-2}", "1").replace("${WEB_THREADS:-2}", "2") for part in command]
    assert "python:portal.gunicorn" in command
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def first_answer():
        assert server.poll() is None, "gunicorn exited"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=5) as response:
                return [response.status]
        except OSError:
            return None

    try:
        answers = wait_until(first_answer, timeout=30, interval=0.3, message="gunicorn did not start")
        # A second request, after the first one's post_request hook ran.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=5) as response:
            answers.append(response.status)
        assert answers == [200, 200]
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert "Exception in post_request hook" not in output and "Traceback" not in output, output


def _leave_cycles(count):
    """What a request leaves behind: objects only the cycle collector frees."""
    for _ in range(count):
        cycle = []
        cycle.append(cycle)


def test_a_worker_collects_between_requests_once_enough_garbage_piled_up():
    gunicorn.post_worker_init(worker=None)
    try:
        assert gc.get_freeze_count() > 10_000 and not gc.isenabled()
        _leave_cycles(gunicorn.COLLECT_AFTER // 2)
        gunicorn.post_request(worker=None, req=None, environ={}, resp=None)
        assert gc.get_count()[0] > gunicorn.COLLECT_AFTER // 4  # not yet: a small request costs nothing more
        _leave_cycles(gunicorn.COLLECT_AFTER)
        gunicorn.post_request(worker=None, req=None, environ={}, resp=None)
        assert gc.get_count()[0] < 100
    finally:
        gc.enable()
        gc.unfreeze()
