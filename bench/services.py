"""Starting the measured servers (gunicorn, Celery, MLflow) as child processes, and reading their memory."""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg2
from psycopg2 import sql


def recreate_database(server_url, name):
    """Drop and create ``name`` on the server; refuses names outside the benchmark's own (``bench_…``)."""
    if not name.startswith("bench_"):
        raise SystemExit(f"Refusing to drop {name!r}: benchmark databases are named bench_…")
    connection = psycopg2.connect(f"{server_url}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connection.close()


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now (the kernel picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Service:
    """A child process in its own process group, so stopping it stops its workers too."""

    def __init__(self, name, command, env, log_dir):
        self.name = name
        self.log = open(Path(log_dir) / f"{name}.log", "w")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(  # noqa: S603 (our own venv's executables, arguments we built)
            command, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_for_http(self, url, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited with {self.process.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback URL we built)
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        raise SystemExit(f"{self.name} did not answer {url} within {timeout} s; see {self.log.name}")

    def wait_for_children(self, count, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(process_tree(self.process.pid)) >= count + 1:
                return
            time.sleep(0.5)
        raise SystemExit(f"{self.name} did not start {count} worker processes; see {self.log.name}")

    def pause(self, paused=True):
        """Freeze (SIGSTOP) or thaw (SIGCONT) the process and its workers, so that an idle server's own background
        work does not take the CPU while the other system is measured."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGSTOP if paused else signal.SIGCONT)

    def stop(self):
        self.pause(False)  # a stopped process would not act on SIGTERM
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def _children():
    by_parent = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: the parent pid is the 2nd field after it.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        by_parent.setdefault(parent, []).append(int(entry.name))
    return by_parent


def process_tree(pid):
    """``pid`` and all its descendants."""
    by_parent = _children()
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(by_parent.get(current, []))
    return found


def memory(pid):
    """``{"rss": now, "peak": high-water mark, "pss": proportional share}`` in MiB for one process."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                values["rss" if line.startswith("VmRSS") else "peak"] = int(line.split()[1]) / 1024
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                values["pss"] = int(line.split()[1]) / 1024
    except OSError:
        return {"rss": 0.0, "peak": 0.0, "pss": 0.0}
    return values


def tree_memory(pid):
    """Memory of a process and its workers: the sum (RSS counts shared pages once per process; PSS does not)."""
    members = {p: memory(p) for p in process_tree(pid)}
    return {
        "processes": len(members),
        "rss_sum": sum(m.get("rss", 0) for m in members.values()),
        "pss_sum": sum(m.get("pss", 0) for m in members.values()),
        "largest_peak": max((m.get("peak", 0) for p, m in members.items() if p != pid), default=0),
        "members": members,
    }


def wait_for_idle_worker(redis_url, timeout, quiet_seconds=10, stuck_seconds=300):
    """Seconds until the Celery worker has had nothing queued and nothing running for ``quiet_seconds`` in a row
    (or ``timeout`` passed): the broker's queue is empty and ``inspect().active()`` lists no task.

    A task that stays listed as running while nothing is queued and nothing changes for ``stuck_seconds`` (a run
    at 20:04 on 2026-12-07 waited here with an empty queue and an idle worker) is named on the output, and the
    wait ends: the rows are measured beside it rather than never. Every minute the output says what is still busy."""
    import redis

    from portal.celery import app

    broker = redis.Redis.from_url(redis_url)
    started = time.monotonic()
    quiet_since = None
    running, running_since, said_at = frozenset(), started, started
    while time.monotonic() - started < timeout:
        active = app.control.inspect(timeout=2).active() or {}
        queued = broker.llen("celery")
        now = time.monotonic()
        listed = frozenset((task["id"], task["name"]) for tasks in active.values() for task in tasks)
        if listed != running:
            running, running_since = listed, now
        if queued or running:
            quiet_since = None
            if not queued and now - running_since >= stuck_seconds:
                names = ", ".join(sorted(name for _, name in running))
                print(f"  The worker has listed {names} as running for {now - running_since:.0f} s with nothing "
                      "queued; measuring beside it.", flush=True)  # fmt: skip
                break
            if now - said_at >= 60:
                print(f"  Waiting for the worker: {queued} queued, running {len(running)}.", flush=True)
                said_at = now
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= quiet_seconds:
            break
        time.sleep(1)
    return time.monotonic() - started
