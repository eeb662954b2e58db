"""``make run``'s process manager: honcho runs web, worker and beat from the Procfile, and when one of them dies
(honcho then stops the others) this says which one, why as far as its last lines tell, and what to do.

Run as ``python -m portal.runner [honcho start arguments]``; its exit code is honcho's.
"""

import collections
import os
import re
import subprocess
import sys

# honcho's own lines: "12:00:01 system | worker.1 stopped (rc=1)", "… | SIGINT received".
STARTED = re.compile(r"\bsystem\s*\|\s*(?P<process>[\w-]+)\.\d+ started")
STOPPED = re.compile(r"\bsystem\s*\|\s*(?P<process>[\w-]+)\.\d+ stopped \(rc=(?P<rc>-?\d+)\)")
SIGNALLED = re.compile(r"\bsystem\s*\|\s*SIG(INT|TERM) received")
OUTPUT = re.compile(r"^\S+ (?P<process>[\w-]+)\.\d+\s*\| ?(?P<text>.*)$")
KEPT_LINES = 15

# (words in the process's last lines, why, what to do): the first match explains the death.
CAUSES = [
    (("address already in use", "connection in use"),
     "its address is taken by another program",
     "stop the other program, or choose another address: PORTAL_BIND=127.0.0.1:8001 make run"),
    (("error 111 connecting", "cannot connect to redis", "connection to broker lost",
      "redis.exceptions.connectionerror"),
     "the broker (CELERY_BROKER_URL={broker}) does not answer",
     "start Redis (redis-server), or unset CELERY_BROKER_URL to use the filesystem broker under var/"),
    (("could not connect to server", "connection to server at", "database system is starting up",
      "database system is shutting down", "operationalerror: connection"),
     "the database (DATABASE_URL={database}) does not answer",
     "start PostgreSQL, or unset DATABASE_URL to use SQLite under var/"),
    (("no such table", "undefinedtable", 'relation "'),
     "the database is not migrated",
     ".venv/bin/python manage.py migrate, then make run again"),
    (("modulenotfounderror", "importerror"),
     "a Python package is missing",
     "rm -f .venv/.installed-* && make run (reinstalls the pinned packages)"),
    (("improperlyconfigured", "is not a boolean", "is not a whole number", "must be set"),
     "a setting is wrong",
     "fix the environment variable its last line names (README, Configuration)"),
    (("memoryerror", "out of memory", "killed"),
     "it ran out of memory or was killed",
     "free memory (or lower WORKER_CONCURRENCY / WEB_CONCURRENCY), then make run again"),
]  # fmt: skip


class Watcher:
    """Reads honcho's output line by line; keeps each process's last lines and the first process that stopped."""

    def __init__(self):
        self.lines = collections.defaultdict(lambda: collections.deque(maxlen=KEPT_LINES))
        self.first_stopped = None
        self.interrupted = False
        self.processes = set()

    def feed(self, line):
        if SIGNALLED.search(line):
            self.interrupted = True
        started = STARTED.search(line)
        if started:
            self.processes.add(started["process"])
            return
        stopped = STOPPED.search(line)
        if stopped:
            if self.first_stopped is None and not self.interrupted:
                self.first_stopped = (stopped["process"], int(stopped["rc"]))
            return
        output = OUTPUT.match(line.rstrip("\n"))
        if output:
            self.lines[output["process"]].append(output["text"])

    def report(self, environ=os.environ):
        """The words for the person at the terminal, or None when nothing died on its own (Ctrl-C)."""
        if self.first_stopped is None:
            return None
        process, rc = self.first_stopped
        others = sorted(name for name in self.processes | set(self.lines) if name != process)
        last = list(self.lines[process])
        why, todo = cause(last, rc, environ)
        how = f"exit code {rc}" if rc >= 0 else f"killed by signal {-rc}"
        lines = [
            "",
            f"  The portal stopped: the {process} process died first ({how}), so honcho stopped "
            f"{', '.join(others) or 'the others'} too.",
            f"  Why: {why}.",
            f"  What to do: {todo}.",
        ]
        if last:
            lines += [f"  The last lines of {process}:", *(f"    {text}" for text in last)]
        return "\n".join(lines) + "\n"


def cause(last_lines, rc, environ=os.environ):
    """(why, what to do) for a process that died with ``rc`` after printing ``last_lines``."""
    text = "\n".join(last_lines).lower()
    values = {
        "broker": environ.get("CELERY_BROKER_URL", "filesystem"),
        "database": environ.get("DATABASE_URL", "sqlite"),
    }
    for words, why, todo in CAUSES:
        if any(word in text for word in words):
            return why.format(**values), todo.format(**values)
    if rc in (-9, 137):
        return "it was killed (SIGKILL: out of memory, or kill -9)", "check free memory, then make run again"
    return "its last lines below say what it met", "fix that, then make run again"


def main(arguments):
    honcho = os.path.join(os.path.dirname(sys.executable), "honcho")
    process = subprocess.Popen(  # noqa: S603 (honcho from this venv, with make run's own arguments)
        [honcho, "start", *arguments], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    watcher = Watcher()
    try:
        for line in process.stdout:
            sys.stdout.write(line)
            watcher.feed(line)
    except KeyboardInterrupt:
        # Ctrl-C reached honcho too; it stops the processes and says so.
        watcher.interrupted = True
        for line in process.stdout:
            sys.stdout.write(line)
    code = process.wait()
    report = watcher.report()
    if report:
        sys.stdout.write(report)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
