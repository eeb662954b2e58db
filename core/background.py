"""The background pattern for work that waits in rows (queued OpenLineage events, stale trust badges): a drain
takes batches as the only holder of an advisory lock (``drain``), run by a periodic task and woken by the writes
that leave work behind (``wake(task)``, on commit). Work that a person starts and follows is a ``JobRun`` instead
(``core.jobs``)."""

import time
from contextlib import contextmanager

from django.db import connection

# PostgreSQL advisory lock keys, one per job (any numbers unique to this purpose).
BADGE_REFRESHER = 7_150_001
LINEAGE_INGESTER = 7_150_002


@contextmanager
def only_one(key):
    """Whether this is the only holder of ``key`` anywhere: a PostgreSQL advisory lock held for the block.

    Without it, a burst of events wakes the job in every worker process, and the work that made the burst waits
    behind them. Other databases (SQLite for ``make run``) run one worker in development: always True."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        alone = cursor.fetchone()[0]
    try:
        yield alone
    finally:
        if alone:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def drain(key, step, seconds=None):
    """Run ``step()`` again and again as the only holder of ``key``, until it returns None (nothing was left) or
    ``seconds`` have passed (a periodic run leaves the worker to other jobs; the next run goes on). ``step`` takes
    a batch and returns how many of it count. Returns their total; None when another worker holds ``key`` (it goes
    on until nothing is left)."""
    deadline = time.monotonic() + seconds if seconds else None
    done = 0
    with only_one(key) as alone:
        if not alone:
            return None
        while deadline is None or time.monotonic() < deadline:
            counted = step()
            if counted is None:
                break
            done += counted
    return done


class _Throttle:
    """Sends of one task, at most twice a second per process: at once, and once more at the end of that second for
    whatever came meanwhile. A run handles everything waiting, so a burst of events needs a run or two, not one
    each; and no event waits for the periodic run."""

    def __init__(self, task):
        self.task = task
        self.covered_until = 0.0
        self.trailing = False

    def __call__(self):
        now = time.monotonic()
        if now >= self.covered_until:
            self.covered_until, self.trailing = now + 1, False
            self.task.apply_async()
        elif not self.trailing:
            self.trailing = True
            self.task.apply_async(countdown=self.covered_until - now)


_throttles = {}


def wake(task):
    """Have the drain ``task`` (a Celery task taking no arguments) run soon; call it on commit."""
    throttle = _throttles.get(task.name)
    if throttle is None:
        throttle = _throttles[task.name] = _Throttle(task)
    throttle()
