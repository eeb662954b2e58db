"""Which function runs which kind of job. Each app declares its handlers in its own ``jobs.py``, which
``CoreConfig.ready`` imports in every process (web, worker, beat), so no worker can miss one; the one Celery task
(``core.tasks.run_job``) looks them up.

A handler is ``handler(run)``: it does the work, calls ``checkpoint(run, step, progress)`` (or ``run.report``) as it
goes, and returns a JSON-able result. It raises ``JobFailed`` with a sentence for the owner when the job cannot be
done (bad data, an unreachable source); one of ``TRANSIENT_ERRORS`` when trying again later may work (the task
retries with backoff); any other exception is a bug and is recorded with its type.
"""

import requests
from django.db import InterfaceError, OperationalError

_handlers = {}
_steps = {}
_forms = {}


class JobFailed(Exception):
    """The job cannot be done, for a reason a person can act on. The message is shown on the run's page."""


class JobCancelled(Exception):
    """Someone cancelled the run while it worked; the handler stops where it is."""


class TransientError(Exception):
    """Something the job needs is briefly unavailable; the run is retried later."""


# Only these are retried: a lost database connection, an HTTP source that did not answer, or a handler's own
# TransientError. Everything else fails the run at once, with its reason.
TRANSIENT_ERRORS = (TransientError, OperationalError, InterfaceError, requests.ConnectionError, requests.Timeout)


def handler(kind, *, steps=(), form_url=None):
    """Register ``function(run)`` as the handler of ``kind``; ``steps`` are the named steps its page shows.
    ``form_url(run)``, for a kind that people start from a form: the address of that form filled with the run's
    parameters, where its Retry button leads (the person checks and submits it again)."""

    def register(function):
        _handlers[kind] = function
        _steps[kind] = list(steps)
        if form_url is not None:
            _forms[kind] = form_url
        return function

    return register


def retry_form_url(run):
    """Where a failed run of a kind with a form is started again: the form, filled as before; None otherwise."""
    form_url = _forms.get(run.kind)
    return form_url(run) if form_url is not None and run.asset is not None else None


def handler_for(kind):
    return _handlers[kind]


def steps_of(kind):
    """The named steps of a kind of job, in order; empty when its handler names none."""
    return _steps.get(kind, [])


def checkpoint(run, step, progress=None, log_line=""):
    """Report progress and stop the handler (``JobCancelled``) if the run was cancelled meanwhile."""
    if not run.report(step, progress, log_line=log_line):
        raise JobCancelled
