"""gunicorn hooks, for ``--config python:portal.gunicorn`` (make run, docker compose and the benchmark).

Python's cycle collector otherwise runs in the middle of requests: a list that builds a few thousand model
instances leaves cyclic garbage, and every few requests one of them paid for a full collection (API models at
full scale: p50 40 ms, p95 150 ms). So a worker collects between requests instead, after a response has been
sent, once enough has piled up; and what it imported is frozen out of the collector's sight, once when it is ready
and again after its first requests have imported and cached the rest. Collecting after every request instead cost
a small request (an OpenLineage event, a model by name) more than it saved.
"""

import gc
from importlib import import_module

# Tracked objects allocated (net) since the last collection before a worker collects after a response: a model
# list builds about 20,000; an OpenLineage event a few hundred.
COLLECT_AFTER = 50_000
# Requests after which the worker freezes again what it has imported and cached by then.
WARM_UP_REQUESTS = 100

_served = 0


def post_worker_init(worker):
    from django.conf import settings

    import_module(settings.ROOT_URLCONF)  # every view, so that it is frozen with the rest
    # The broker's transport (kombu's Redis client and redis-py) is imported when a connection is first made: the
    # first request that hands work to the worker paid half a second for it (a search serving an expired badge).
    # Making the connection object imports it and connects to nothing.
    from portal.celery import app

    app.connection_for_write().release()
    gc.collect()
    gc.freeze()
    gc.disable()


def post_request(worker, req, environ, resp):
    global _served
    _served += 1
    if _served == WARM_UP_REQUESTS:
        gc.collect()
        gc.freeze()
    elif gc.get_count()[0] > COLLECT_AFTER:
        gc.collect()
