"""Which function runs which kind of job. Apps register their handlers; the one Celery task looks them up.

A handler is ``handler(run)``: it does the work, calls ``run.report(step, progress)`` as it goes, and returns a
JSON-able result. It raises ``JobFailed`` with a sentence for the owner when the job cannot be done (bad data, an
unreachable source); any other exception is a bug and is recorded with its type.
"""

_handlers = {}


class JobFailed(Exception):
    """The job cannot be done, for a reason a person can act on. The message is shown on the run's page."""


def handler(kind):
    def register(function):
        _handlers[kind] = function
        return function

    return register


def handler_for(kind):
    return _handlers[kind]
