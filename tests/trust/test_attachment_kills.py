"""Issue 13 item 6, with real kills: the web worker (gunicorn) is SIGKILLed eight times in the middle of issue
submissions with a screenshot, half of them after the file was written and before the issue was saved, half after
the issue was committed and before its file was moved into place. Afterwards every saved issue's screenshot
downloads, and ``remove_orphan_attachments`` leaves no file that no issue names."""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from django.test import Client

from tests import factories
from tests.helpers import wait_until
from tests.trust.test_issue_views import _form, _png
from trust import attachments
from trust.models import DataIssue

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
KILLS = 8


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _files(root):
    return sorted(path.relative_to(root).as_posix() for path in Path(root).rglob("*") if path.is_file())


def _database_url(settings_dict):
    server = f"{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}"
    return f"postgres://{settings_dict['USER']}@{server}/{settings_dict['NAME']}"


class Web:
    """gunicorn with one worker, serving the portal (slow attachment disk) on the test database."""

    def __init__(self, folder, database_url):
        self.port, self.folder = _free_port(), folder
        self.base = f"http://127.0.0.1:{self.port}"
        environment = {
            **os.environ, "DEBUG": "true", "DATABASE_URL": database_url, "PORTAL_VAR_DIR": str(folder),
            "MEDIA_ROOT": str(folder / "media"), "CELERY_BROKER_URL": "filesystem://", "PORTAL_TEST_SLOW_DISK": "3",
        }  # fmt: skip
        environment.pop("CELERY_RESULT_BACKEND", None)
        for name in ("broker/queue", "broker/control", "broker/results", "media"):
            (folder / name).mkdir(parents=True, exist_ok=True)
        self.log = open(folder / "gunicorn.log", "wb")  # noqa: SIM115 (closed in stop)
        self.master = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "tests.trust.slow_disk_wsgi", "--config", "python:portal.gunicorn",
             "--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--threads", "2", "--timeout", "60"],
            cwd=ROOT, env=environment, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def worker_pid(self):
        children = Path(f"/proc/{self.master.pid}/task/{self.master.pid}/children").read_text().split()
        return int(children[0]) if children else None

    def serving(self):
        assert self.master.poll() is None, (self.folder / "gunicorn.log").read_text()[-3000:]
        try:
            return requests.get(f"{self.base}/health/", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def stop(self):
        # Gunicorn's graceful stop waits for requests in flight (here slowed on purpose); on a busy machine that can
        # outlast any fixed wait, so a master still running after 15 s is killed with its worker.
        worker = self.worker_pid()
        self.master.terminate()
        try:
            self.master.wait(timeout=15)
        except subprocess.TimeoutExpired:
            if worker is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker, signal.SIGKILL)
            self.master.kill()
            self.master.wait(timeout=15)
        self.log.close()


@pytest.fixture
def web(tmp_path, django_db_setup):
    from django.db import connection

    server = Web(tmp_path, _database_url(connection.settings_dict))
    try:
        wait_until(server.serving, timeout=60, interval=0.3, message="gunicorn did not start")
        yield server
    finally:
        server.stop()


def _signed_in(web, user):
    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value, domain="127.0.0.1")
    return session


def _submit(session, url, token, outcome):
    png = _png()
    try:
        response = session.post(
            url, data={**_form(), "csrfmiddlewaretoken": token},
            files={"attachment": ("screenshot.png", png.read(), "image/png")}, timeout=30, allow_redirects=False,
        )  # fmt: skip
        outcome.append(response.status_code)
    except requests.RequestException as exc:
        outcome.append(type(exc).__name__)


def test_web_workers_killed_mid_submission_leave_no_orphan_and_no_issue_without_its_file(web, owner, outsider):
    orders = factories.dataset("Orders", owner=owner, team=owner.teams.first()).asset
    media = web.folder / "media"
    session = _signed_in(web, outsider)
    url = f"{web.base}/assets/dataset/{orders.slug}/report-problem/"
    form = session.get(url, timeout=10)
    assert form.status_code == 200, form.text[:500]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)

    outcomes = []
    for kill in range(KILLS):
        before, saved_before = set(_files(media)), DataIssue.objects.count()
        pid = web.worker_pid()
        sender = threading.Thread(target=_submit, args=(session, url, token, outcomes))
        sender.start()
        wait_until(lambda: set(_files(media)) - before, timeout=20, interval=0.05,  # noqa: B023
                   message="the screenshot was never written")  # fmt: skip
        if kill % 2:  # after the commit, while the file waits to be moved
            wait_until(lambda: DataIssue.objects.count() > saved_before, timeout=20, interval=0.05,  # noqa: B023
                       message="the issue was never committed")  # fmt: skip
        os.kill(pid, signal.SIGKILL)
        sender.join(timeout=30)
        wait_until(lambda: web.worker_pid() not in (None, pid) and web.serving(), timeout=60, interval=0.2,  # noqa: B023
                   message="gunicorn did not replace its killed worker")  # fmt: skip

    assert len(outcomes) == KILLS and not any(code in (200, 302) for code in outcomes), outcomes
    issues = list(DataIssue.objects.all())
    left = _files(media)
    assert len(issues) == KILLS // 2
    assert all(name.startswith(attachments.PENDING) for name in left) and len(left) == KILLS

    # An hour later the hourly sweep runs (the files are aged: the sweep leaves younger ones to running requests).
    an_hour_ago = time.time() - 3700
    for name in left:
        os.utime(media / name, (an_hour_ago, an_hour_ago))
    _sweep(media)

    files = _files(media)
    orphans = sorted(set(files) - {issue.attachment.name for issue in issues})
    print(f"\nFIGURE orphan files after {KILLS} kills of a web worker during issue submissions: {len(orphans)}")
    assert orphans == []
    assert files == sorted(issue.attachment.name for issue in issues)
    for issue in issues:
        download = session.get(f"{web.base}/issues/{issue.uuid}/attachment/", timeout=10)
        assert download.status_code == 200 and download.content.startswith(b"\x89PNG")


def _sweep(media):
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=media):
        call_command("remove_orphan_attachments")
