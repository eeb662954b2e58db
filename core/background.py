"""The background pattern for work that waits in rows (queued OpenLineage events, stale trust badges): a drain
takes batches as the only holder of an advisory lock (``drain``), run by a periodic task and woken by the writes
that leave work behind (``wake(task)``, on commit). Work that a person starts and follows is a ``JobRun`` instead
(``core.jobs``)."""

import logging
import time
from contextlib import contextmanager

from django.db import connection

logger = logging.getLogger(__name__)

# PostgreSQL advisory lock keys, one per job (any numbers unique to this purpose).
BADGE_REFRESHER = 7_150_001
LINEAGE_INGESTER = 7_150_002
BADGE_EXPIRY = 7_150_003


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
            send(self.task)
        elif not self.trailing:
            self.trailing = True
            send(self.task, countdown=self.covered_until - now)


_throttles = {}


def send(task, *args, **options):
    """Send ``task`` to a worker, best effort: True when sent. For sends after a commit, whose work is already
    saved in rows that a periodic run (or the job relay) picks up anyway: a broker that is down is logged, never
    raised into the request that saved the rows, and the send gives up fast (``CELERY_TASK_PUBLISH_RETRY_POLICY``).
    Nobody waits for the result of such a send, so none is stored (and the send does not subscribe for it)."""
    try:
        task.apply_async(args, ignore_result=True, **options)
    except Exception as exc:  # any broker or network error: the periodic run catches up
        logger.warning("Could not send %s to the broker (a periodic run will catch up): %s", task.name, exc)
        return False
    return True


def wake(task):
    """Have the drain ``task`` (a Celery task taking no arguments) run soon; call it on commit. Best effort: when
    the broker is down the task's periodic run on beat does the work (``send``)."""
    throttle = _throttles.get(task.name)
    if throttle is None:
        throttle = _throttles[task.name] = _Throttle(task)
    throttle()
