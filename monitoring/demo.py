"""Demo monitoring: a freshness policy of every method, some history, and pipeline runs with one drifting run.

Idempotent: policies, runs and findings are keyed on their natural keys; history, first checks and alerts are made
only when their policy or run is new, so loading twice changes no count.
"""

import logging
from datetime import timedelta

from django.utils import timezone

from catalog.choices import RunOrigin, RunState
from catalog.models import PipelineRun
from monitoring import freshness
from monitoring.choices import FreshnessMethod, FreshnessStatus, ScheduleKind
from monitoring.drift import check_run
from monitoring.models import FreshnessCheck, FreshnessPolicy

logger = logging.getLogger(__name__)

# asset key: policy fields
POLICIES = {
    "raw-orders": {"method": FreshnessMethod.SQL, "period": timedelta(days=1), "grace": timedelta(hours=6),
                   "timestamp_column": "ordered_at"},
    "inventory": {"method": FreshnessMethod.SQL, "period": timedelta(hours=1), "grace": timedelta(hours=2),
                  "timestamp_column": "updated_at"},
    "monthly-revenue": {"method": FreshnessMethod.FILE, "period": timedelta(days=31), "grace": timedelta(days=3)},
    "budget": {"method": FreshnessMethod.FILE, "period": timedelta(days=365), "grace": timedelta(days=30)},
    "settlements": {"method": FreshnessMethod.HTTP, "period": timedelta(days=1), "grace": timedelta(hours=3),
                    "url": "https://api.payments.example.com/v2/settlements/status",
                    "json_field": "last_settlement_at", "timeout_seconds": 5},
    "orders-etl": {"method": FreshnessMethod.HEARTBEAT, "schedule_kind": ScheduleKind.CRON, "cron": "0 3 * * *",
                   "time_zone": "UTC", "grace": timedelta(hours=2)},
    "executive-sales": {"method": FreshnessMethod.HEARTBEAT, "schedule_kind": ScheduleKind.CRON,
                        "cron": "0 7 * * 1-5", "time_zone": "Europe/Paris", "grace": timedelta(hours=1)},
}  # fmt: skip

# Daily loads that report with a heartbeat when they finish: checked, so their badges are assessed (issue 15). The
# web and marketing corner (sessions, page views, campaigns) is left without a policy: nobody checks it yet.
DAILY_LOADS = ["customers", "products", "raw-stores", "accounts", "contacts", "opportunities", "sales-targets",
               "cost-centres", "refunds", "support-tickets"]  # fmt: skip
POLICIES.update(
    {
        key: {
            "method": FreshnessMethod.HEARTBEAT,
            "schedule_kind": ScheduleKind.PERIOD,
            "period": timedelta(days=1),
            "grace": timedelta(hours=6),
        }
        for key in DAILY_LOADS
    }
)


def load(teams, users, assets):
    """Heartbeat addresses are random per instance (the model's default), and kept when the demo is loaded again:
    a well-known address would let anyone on the internet, or an image in a description, fake a run."""
    now = timezone.now()
    for key, fields in POLICIES.items():
        asset = assets[key]
        policy, created = FreshnessPolicy.objects.update_or_create(
            asset=asset, defaults={**fields, "created_by": asset.owner}
        )
        if created:
            _first_checks(policy, key, now)
    _pipeline_runs(assets["orders-etl"].pipeline, now)


def _first_checks(policy, key, now):
    if policy.method == FreshnessMethod.HEARTBEAT:
        _heartbeat_history(policy, key, now)
    elif policy.method != FreshnessMethod.HTTP:
        # Local sources answer at once; the HTTP one is left to the sweep (the demo has no internet to ask).
        freshness.run_probe(policy, now=now)
    else:
        policy.next_check_at = now
    policy.save(update_fields=["next_check_at"])


def _heartbeat_history(policy, key, now):
    """Two weeks of daily pings, the last a moment ago (after any deadline already passed today, so the demo reads
    on time whatever the hour it is loaded): on time, except one late night and one failed run."""
    checks = []
    for days_ago in range(13, -1, -1):
        finished = now - timedelta(days=days_ago, hours=1) if days_ago else now - timedelta(seconds=30)
        if days_ago == 9:
            late = FreshnessCheck(policy=policy, checked_at=finished - timedelta(minutes=40), trigger="sweep",
                                  status=FreshnessStatus.LATE, reason="The nightly run is late.")  # fmt: skip
            checks.append(late)
        failed = days_ago == 5
        checks.append(
            FreshnessCheck(
                policy=policy,
                checked_at=finished,
                trigger="ping",
                ping_kind="fail" if failed else "success",
                status=FreshnessStatus.STALE if failed else FreshnessStatus.FRESH,
                observed_at=finished,
                run_id=f"demo-{days_ago:02d}" if key == "orders-etl" else "",
                reason="The pipeline reported a failure." if failed else "Updated on time.",
            )
        )
    FreshnessCheck.objects.bulk_create(checks)
    last = max(check.checked_at for check in checks if check.ping_kind == "success")
    policy.last_seen_at = last
    policy.save(update_fields=["last_seen_at"])
    freshness.evaluate(policy, trigger="sweep", now=now)


def _pipeline_runs(pipeline, now):
    """25 nightly runs of about ten minutes and 2,000 rows; three nights ago one ran for half an hour."""
    runs = []
    for days_ago in range(25, 0, -1):
        started = (now - timedelta(days=days_ago)).replace(hour=3, minute=0, second=0, microsecond=0)
        wobble = (days_ago * 37) % 11 - 5
        seconds = 1840 if days_ago == 3 else 600 + 6 * wobble
        run, _ = PipelineRun.objects.update_or_create(
            pipeline=pipeline,
            run_id=f"demo-{days_ago:02d}",
            defaults={
                "origin": RunOrigin.HEARTBEAT,
                "state": RunState.COMPLETE,
                "started_at": started,
                "ended_at": started + timedelta(seconds=seconds),
                "output_rows": 2000 + 13 * wobble,
            },
        )
        runs.append(run)
    for run in runs:
        check_run(run)
