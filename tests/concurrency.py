"""Running the same work in several threads at the same moment, as two sweepers or two workers would."""

import threading

from django.db import connection


def run_at_once(work, times=2):
    """Run ``work()`` in ``times`` threads released together by a barrier; return the exceptions they raised.

    Each thread closes its own database connection, so a ``transaction=True`` test can tear down its database.
    """
    barrier = threading.Barrier(times)
    errors = []

    def run():
        try:
            barrier.wait(timeout=10)
            work()
        except Exception as exc:  # returned to the test, which asserts there were none
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors
