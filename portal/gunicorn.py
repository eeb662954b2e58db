"""gunicorn hooks, for ``--config python:portal.gunicorn`` (make run, docker compose and the benchmark).

Python's cycle collector otherwise runs in the middle of requests: a page that builds a few thousand model
instances leaves cyclic garbage, and every few requests one of them paid for a full collection of everything the
worker has ever imported (API models at full scale: p50 40 ms, p95 150 ms). Instead, what a worker imports is
frozen out of the collector's sight once it is ready, and each request's garbage is collected after its response
has been sent (1-2 ms the client does not wait for).
"""

import gc
from importlib import import_module


def post_worker_init(worker):
    from django.conf import settings

    import_module(settings.ROOT_URLCONF)  # every view, so that it is frozen with the rest
    gc.collect()
    gc.freeze()


def post_request(worker, req, environ, resp):
    gc.collect()
