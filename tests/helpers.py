"""Helpers every test module may use: waiting for something another process does, and counting queries."""

import time
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext


def wait_until(condition, timeout=30, interval=0.2, message="the condition did not hold in time"):
    """Call ``condition`` until it returns something truthy, and return that; fail with ``message`` after
    ``timeout`` seconds. For what a worker, a server or another database session does on its own time."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{message} (waited {timeout} s)")
        time.sleep(interval)


def _listing(captured):
    return "\n".join(f"{number}. {query['sql']}" for number, query in enumerate(captured, start=1))


@contextmanager
def count_queries():
    """Capture the queries run inside the block: ``len()`` is their number, iterating gives each ``{"sql": …}``.
    For comparing two measurements; to pin a number, use ``assert_num_queries``."""
    with CaptureQueriesContext(connection) as captured:
        yield captured


@contextmanager
def assert_num_queries(expected):
    """Fail unless the block runs exactly ``expected`` queries; the failure lists every query, numbered, so the
    comment naming each one can be checked against it."""
    with count_queries() as captured:
        yield captured
    if len(captured) != expected:
        pytest.fail(f"{len(captured)} queries instead of {expected}:\n{_listing(captured)}", pytrace=False)


def tell_deprecations():
    """What the worker does with the deprecation announcements sent on commit (``trust.tasks.tell_deprecation``)."""
    from datetime import timedelta

    from trust.models import Deprecation

    return sum(Deprecation.tell(pk, what) for pk, what in Deprecation.untold(wait=timedelta(0)))


def body(response):
    """The whole body of a test client's response, streamed (a CSV download) or not."""
    return b"".join(response.streaming_content) if response.streaming else response.content


def ingest_lineage():
    """Record the queued OpenLineage events here; those a worker of the suite took (under the drain lock) are waited
    for. Fails with the errors of events that could not be recorded."""
    from catalog.models import LineageEvent
    from catalog.openlineage import ingest_queued

    def drained():
        ingest_queued()
        return not LineageEvent.objects.exists()

    wait_until(drained, message=f"events left: {list(LineageEvent.objects.values_list('error', flat=True))}")


@contextmanager
def early_in_a_minute():
    """Run the block from ten seconds into a minute, the clock running. Rate limits count in fixed windows (a minute
    starts a new count): requests that straddled the turn of a minute were counted in two windows and the last one
    let through (seen once in CI)."""
    import time_machine

    now = datetime.now(UTC)
    with time_machine.travel(now.replace(second=10, microsecond=0), tick=True):
        yield
