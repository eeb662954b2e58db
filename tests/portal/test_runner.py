"""Issue 13 item 12: under ``make run`` one process dying stops the others; the person at the terminal is told which
died, why, and what to do (``portal.runner`` around honcho, as ``bin/run`` starts it)."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from portal.runner import Watcher

ROOT = Path(__file__).resolve().parents[2]


def _run(tmp_path, procfile):
    # die.py MESSAGE CODE: a process that prints its last line after a second and exits with CODE.
    (tmp_path / "die.py").write_text(
        "import sys, time\ntime.sleep(1)\nprint(sys.argv[1], flush=True)\nsys.exit(int(sys.argv[2]))\n"
    )
    procfile = textwrap.dedent(procfile).replace("DIE", f"{sys.executable} {tmp_path / 'die.py'}")
    (tmp_path / "Procfile").write_text(procfile)
    finished = subprocess.run(
        [sys.executable, "-m", "portal.runner", "-f", str(tmp_path / "Procfile"), "-d", str(ROOT)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return finished.returncode, finished.stdout


def test_a_web_process_whose_address_is_taken_is_named_with_what_to_do(tmp_path):
    code, output = _run(tmp_path, """\
        web: DIE "[ERROR] Connection in use: (127.0.0.1, 8000)" 1
        worker: sleep 30
        beat: sleep 30
    """)  # fmt: skip
    assert code == 1
    assert "The portal stopped: the web process died first (exit code 1), so honcho stopped beat, worker too." in output
    assert "Why: its address is taken by another program." in output
    assert "What to do: stop the other program, or choose another address: PORTAL_BIND=127.0.0.1:8001 make run." in (
        output
    )
    assert "    [ERROR] Connection in use: (127.0.0.1, 8000)" in output


def test_a_worker_without_its_broker_is_named_with_what_to_do(tmp_path):
    code, output = _run(tmp_path, """\
        web: sleep 30
        worker: DIE "consumer: Cannot connect to redis://127.0.0.1:1/0: Error 111 connecting. Connection refused." 2
    """)  # fmt: skip
    assert code == 2
    assert "the worker process died first (exit code 2), so honcho stopped web too." in output
    assert "Why: the broker (CELERY_BROKER_URL=" in output
    assert "What to do: start Redis (redis-server), or unset CELERY_BROKER_URL" in output


@pytest.mark.parametrize(
    ("lines", "why"),
    [
        (["django.db.utils.OperationalError: connection to server at \"127.0.0.1\", port 5432 failed"],
         "the database (DATABASE_URL=postgres://db) does not answer"),
        (["ModuleNotFoundError: No module named 'croniter'"], "a Python package is missing"),
        (["something unexpected"], "its last lines below say what it met"),
    ],
)  # fmt: skip
def test_the_cause_is_read_from_the_dead_process_last_lines(lines, why):
    watcher = Watcher()
    for line in lines:
        watcher.feed(f"12:00:00 beat.1   | {line}\n")
    watcher.feed("12:00:00 web.1    | Listening at: http://127.0.0.1:8000\n")
    watcher.feed("12:00:01 system   | beat.1 stopped (rc=1)\n")
    watcher.feed("12:00:01 system   | web.1 stopped (rc=-15)\n")
    report = watcher.report({"DATABASE_URL": "postgres://db"})
    assert "the beat process died first (exit code 1)" in report and f"Why: {why}." in report


def test_ctrl_c_is_not_reported_as_a_death():
    watcher = Watcher()
    watcher.feed("12:00:00 system   | SIGINT received\n")
    watcher.feed("12:00:00 system   | web.1 stopped (rc=-2)\n")
    assert watcher.report() is None
