"""A kind of job for the fault tests (``test_job_faults.py``), imported by their worker processes with
``celery worker --include tests.monitoring.fault_jobs``: it works through ``steps`` checkpoints, ``pause`` seconds
apart, and logs the process that runs it (a test kills that pool process)."""

import os
import time

from core.jobs import checkpoint, handler

KIND = "fault_drill"


@handler(KIND)
def drill(run):
    steps = int(run.params.get("steps", 10))
    for number in range(1, steps + 1):
        checkpoint(run, f"step {number}", progress=100 * number // steps, log_line=f"pid={os.getpid()} step {number}")
        time.sleep(float(run.params.get("pause", 0.2)))
    return {"pid": os.getpid(), "attempt": run.attempts}
