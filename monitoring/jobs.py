"""The "check now" button: one freshness probe run as a job, so the owner sees it on the job list."""

from core.choices import JobKind
from core.jobs import JobFailed, checkpoint, handler
from monitoring.choices import FreshnessMethod
from monitoring.freshness import run_probe
from monitoring.models import FreshnessPolicy


@handler(JobKind.FRESHNESS_CHECK)
def check_now(run):
    policy = (
        FreshnessPolicy.objects.select_related("asset__dataset__source", "asset__team")
        .filter(asset_id=run.asset_id)
        .first()
    )
    if policy is None:
        raise JobFailed("This asset has no freshness policy any more.")
    if policy.method == FreshnessMethod.HEARTBEAT:
        raise JobFailed("Heartbeat policies are not probed: the pipeline pings them.")
    checkpoint(run, "probing", 30, log_line=f"asking the source ({policy.get_method_display()})")
    status = run_probe(policy)
    policy.refresh_from_db()
    if policy.probe_error:
        # Job runs are listed to every reader: the plain reason, not the technical detail.
        raise JobFailed(f"The check failed: {policy.probe_reason or 'see the freshness page'}")
    return {"status": status, "last_seen_at": policy.last_seen_at.isoformat() if policy.last_seen_at else None}
