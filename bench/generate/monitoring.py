"""Freshness: policies as owners set them, and their history of checks."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from croniter import croniter
from django.conf import settings

from bench.generate.shape import DOMAIN_SIZE, HUB_DOMAINS
from bench.generate.writer import draw, uuids
from catalog.choices import SourceKind
from monitoring.choices import FreshnessMethod, FreshnessStatus, PingKind, ScheduleKind
from monitoring.models import FreshnessCheck, FreshnessPolicy

# What owners set, and how often: ((schedule kind, hours or cron, time zone, grace in minutes), share).
FRESHNESS_SCHEDULES = [
    ((ScheduleKind.PERIOD, 1, "UTC", 20), 0.20),
    ((ScheduleKind.PERIOD, 24, "UTC", 180), 0.40),
    ((ScheduleKind.PERIOD, 24 * 7, "UTC", 720), 0.05),
    ((ScheduleKind.CRON, "0 6 * * *", "UTC", 120), 0.15),
    ((ScheduleKind.CRON, "30 2 * * *", "Europe/Paris", 90), 0.10),
    ((ScheduleKind.CRON, "0 7 * * 1-5", "America/New_York", 240), 0.05),
    ((ScheduleKind.CRON, "0 */4 * * *", "UTC", 45), 0.05),
]
PIPELINE_SCHEDULE = (ScheduleKind.CRON, "0 6 * * *", "UTC", 120)  # the generated pipelines' own schedule
PIPELINE_POLICY_SHARE, REPORT_POLICY_SHARE, HTTP_REPORT_SHARE = 0.15, 0.10, 0.6
# The status each policy announced at its last check. An asset is as fresh as its stalest input within ten hops,
# so trouble upstream would mark most of the catalog: upstream tables were on time at their last check, and what
# is late or stale sits in the last layer of a domain (marts), in reports and in pipelines, which few depend on.
ANNOUNCED_MIX = {FreshnessStatus.FRESH: 0.86, FreshnessStatus.LATE: 0.05, FreshnessStatus.STALE: 0.06,
                 FreshnessStatus.UNKNOWN: 0.03}  # fmt: skip
HISTORY_MIX = {FreshnessStatus.FRESH: 0.93, FreshnessStatus.LATE: 0.03, FreshnessStatus.STALE: 0.03,
               FreshnessStatus.UNKNOWN: 0.01}  # fmt: skip
PAUSED_SHARE = 0.01
CHECK_HISTORY_DAYS = 80  # inside the default 90-day retention: the daily prune finds nothing to delete at first
PROBE_TIMEOUT_SECONDS = 10
# The column an SQL probe reads, in order of preference, among a dataset's generated timestamp columns.
TIMESTAMP_COLUMNS = ["updated_at", "load_ts", "created_at", "shipped_at", "delivered_at"]
PROBE_ERROR = "Could not connect to PostgreSQL: timeout expired"
PROBE_REASON = f"timed out after {PROBE_TIMEOUT_SECONDS} s"  # what monitoring.reasons makes of it


def _policy_targets(gen, rng):
    """``[(asset id, method fields)]``: the hubs and a sample of datasets, reports and pipelines. A dataset is
    probed the way its source allows: SQL on PostgreSQL tables with a timestamp column, the file's time for file
    sources, a JSON field for API sources; the rest (and the pipelines) ping a heartbeat."""
    count = gen.counts["policies"]
    pipelines = min(gen.counts["pipelines"], round(count * PIPELINE_POLICY_SHARE))
    reports = min(gen.counts["reports"], round(count * REPORT_POLICY_SHARE))
    datasets = min(gen.counts["datasets"], count - pipelines - reports)
    hubs = min(len(HUB_DOMAINS), datasets)
    picked = np.arange(hubs, gen.counts["datasets"])
    numbers = np.concatenate([np.arange(hubs), np.sort(rng.choice(picked, datasets - hubs, replace=False))])
    gen.cursor.execute(
        """
        SELECT d.asset_id, d.qualified_name, s.source_kind,
               ARRAY(SELECT c.name FROM catalog_column c WHERE c.dataset_id = d.asset_id AND c.data_type = 'timestamp')
        FROM catalog_dataset d JOIN catalog_datasource s ON s.asset_id = d.source_id
        WHERE d.asset_id = ANY(%s) ORDER BY d.asset_id
        """,
        [(gen.ids["datasets"] + numbers).tolist()],
    )
    targets = []
    for asset_id, qualified_name, source_kind, stamps in gen.cursor.fetchall():
        column = next((name for name in TIMESTAMP_COLUMNS if name in stamps), None)
        downstream = (asset_id - gen.ids["datasets"]) % DOMAIN_SIZE >= DOMAIN_SIZE * 3 // 4
        if source_kind == SourceKind.POSTGRESQL and column:
            fields = {"method": FreshnessMethod.SQL, "timestamp_column": column}
        elif source_kind == SourceKind.FILES:
            fields = {"method": FreshnessMethod.FILE}  # the dataset's own path under DATA_ROOT
        elif source_kind == SourceKind.HTTP_API:
            url = f"https://api.example.com/v1/{qualified_name.replace('.', '/')}/status"
            fields = {"method": FreshnessMethod.HTTP, "url": url, "json_field": "meta.updated_at"}
        else:
            fields = {"method": FreshnessMethod.HEARTBEAT}
        targets.append((asset_id, {**fields, "downstream": downstream}))
    http = rng.random(reports) < HTTP_REPORT_SHARE
    for number, asks in zip(
        np.sort(rng.choice(gen.counts["reports"], reports, replace=False)).tolist(), http, strict=True
    ):
        fields = {"method": FreshnessMethod.HTTP, "url": f"https://bi.example.com/d/{number + 1}"}
        fields = fields if asks else {"method": FreshnessMethod.HEARTBEAT}
        targets.append((gen.ids["reports"] + number, {**fields, "downstream": True}))
    for number in np.sort(rng.choice(gen.counts["pipelines"], pipelines, replace=False)).tolist():
        fields = {"method": FreshnessMethod.HEARTBEAT, "pipeline": True, "downstream": True}
        targets.append((gen.ids["pipelines"] + number, fields))
    return targets


def _recent_and_gap(policy, at):
    """When new data was last due at or before ``at`` for a policy seen just now, and the time between two updates."""
    if policy.schedule_kind == ScheduleKind.CRON:
        fires = croniter(policy.cron, at.astimezone(ZoneInfo(policy.time_zone)))
        recent = fires.get_prev(datetime).astimezone(UTC)
        return recent, recent - fires.get_prev(datetime).astimezone(UTC)
    return at - policy.period, policy.period


def _observe(policy, at, wanted, u):
    """Set the observed timestamps so that ``policy`` reads about ``wanted`` at ``at`` (``u`` uniform in [0, 1)).

    About: a cron that fired long ago can make "late" come out stale; callers take what ``status_at`` answers.
    """
    recent, gap = _recent_and_gap(policy, at)
    if wanted == FreshnessStatus.UNKNOWN and not policy.is_probed:
        return  # a heartbeat that never pinged
    if wanted == FreshnessStatus.LATE:
        policy.last_seen_at = recent - min(policy.grace, gap) * u
    elif wanted == FreshnessStatus.STALE:
        policy.last_seen_at = recent - policy.grace - gap * (0.5 + 3 * u)
        if not policy.is_probed and u < 1 / 3:
            policy.last_failed_at = policy.last_seen_at + (at - policy.last_seen_at) * (0.2 + u)
    else:
        policy.last_seen_at = recent + (at - recent) * u
        if wanted == FreshnessStatus.UNKNOWN:
            policy.probe_error, policy.probe_reason = PROBE_ERROR, PROBE_REASON


def _short(iso):
    """'2026-11-20T06:03:00Z' → '2026-11-20 06:03 UTC', as the portal writes times in reasons."""
    return f"{iso[:10]} {iso[11:16]} UTC"


def write_freshness(gen):
    """Freshness policies with their history of checks (monitoring ``FreshnessPolicy``, ``FreshnessCheck``).

    Each policy's last check, announced status and next deadline are what the portal's own code computes from its
    timestamps at that moment (``status_at``, ``plan_next_check``), so the sweep finds the rows as it would have
    left them: probes come due within one probe interval after the epoch, heartbeats at their next deadline.
    """
    rng = gen.rng("freshness")
    targets = _policy_targets(gen, rng)
    count = len(targets)
    first = gen.allocate("policies", FreshnessPolicy, count)
    gen.cursor.execute(
        "SELECT id, owner_id FROM catalog_asset WHERE id = ANY(%s)", [[asset_id for asset_id, _ in targets]]
    )
    owners = dict(gen.cursor.fetchall())
    schedules = [schedule for schedule, _ in FRESHNESS_SCHEDULES]
    picks = rng.choice(len(schedules), count, p=[share for _, share in FRESHNESS_SCHEDULES])
    wanted = draw(rng, ANNOUNCED_MIX, count)
    paused = rng.random(count) < PAUSED_SHARE
    u = rng.random(count)
    # The last check, somewhere in the probe interval before the epoch.
    last_offsets = rng.integers(0, settings.FRESHNESS_PROBE_INTERVAL, count)
    last_checked = [datetime.fromisoformat(iso) for iso in gen.instants(last_offsets)]
    ping_keys = uuids(rng, count)
    created = gen.instants(last_offsets + (CHECK_HISTORY_DAYS + rng.integers(1, 300, count)) * 86400)
    policies, policy_rows, last_checks, gaps = [], [], [], []
    for n, (asset_id, fields) in enumerate(targets):
        kind, schedule, zone, grace = PIPELINE_SCHEDULE if fields.get("pipeline") else schedules[picks[n]]
        policy = FreshnessPolicy(
            method=fields["method"], schedule_kind=kind, time_zone=zone, grace=timedelta(minutes=grace),
            period=timedelta(hours=schedule) if kind == ScheduleKind.PERIOD else None,
            cron=schedule if kind == ScheduleKind.CRON else "", paused=bool(paused[n]),
        )  # fmt: skip
        at = last_checked[n]
        _observe(policy, at, wanted[n] if fields["downstream"] else FreshnessStatus.FRESH, u[n])
        status, reason = policy.status_at(at)
        next_check = policy.plan_next_check(at)
        probed = policy.is_probed
        policy_rows.append(
            (
                first + n, asset_id, policy.method, kind, _interval(policy.period), policy.cron, zone,
                _interval(policy.grace), fields.get("timestamp_column", ""), "", "", "", "", "", fields.get("url", ""),
                fields.get("json_field", ""), ping_keys[n], PROBE_TIMEOUT_SECONDS, policy.paused,
                policy.last_seen_at, None, policy.last_failed_at, at, policy.probe_error, policy.probe_reason, status,
                next_check, owners[asset_id], created[n], at,
            )
        )  # fmt: skip
        trigger = FreshnessCheck.Trigger.PROBE if probed else FreshnessCheck.Trigger.SWEEP
        ping = ""
        if not probed and status == FreshnessStatus.FRESH:
            trigger, ping = FreshnessCheck.Trigger.PING, PingKind.SUCCESS
        duration = int(rng.lognormal(3.5, 0.8)) if probed else None
        last_checks.append(
            (first + n, at, trigger, ping, status, policy.last_seen_at, reason[:500], policy.probe_error, duration, "")
        )
        policies.append(policy)
        gaps.append(_recent_and_gap(policy, at)[1].total_seconds())
    gen.copy(
        FreshnessPolicy,
        ["id", "asset_id", "method", "schedule_kind", "period", "cron", "time_zone", "grace", "timestamp_column",
         "filter_column", "filter_operator", "filter_value", "sql_filter", "file_path", "url", "json_field",
         "ping_key", "timeout_seconds", "paused", "last_seen_at", "last_started_at", "last_failed_at",
         "last_checked_at", "probe_error", "probe_reason", "announced_status", "next_check_at", "created_by_id",
         "created_at", "updated_at"],
        policy_rows,
    )  # fmt: skip
    columns = ["policy_id", "checked_at", "trigger", "ping_kind", "status", "observed_at", "reason", "error",
               "duration_ms", "run_id"]  # fmt: skip
    gen.copy(FreshnessCheck, columns, last_checks)
    # The earlier checks: more for policies that expect data more often.
    frequent = np.array([86400 / max(gap, 3600) for gap in gaps])
    earlier = rng.multinomial(gen.counts["checks"] - count, frequent / frequent.sum())
    probed = np.array([policy.is_probed for policy in policies])
    gen.copy(FreshnessCheck, columns, _earlier_checks(gen, rng, first, earlier, last_offsets, np.array(gaps), probed))


def _interval(duration):
    return None if duration is None else f"{int(duration.total_seconds())} seconds"


def _earlier_checks(gen, rng, first, per_policy, last_offsets, gaps, probed):
    """The history before each policy's last check, spread over ``CHECK_HISTORY_DAYS``, made a block of policies
    at a time so memory stays bounded."""
    statuses = list(HISTORY_MIX)
    shares = np.array(list(HISTORY_MIX.values()))
    block = 1_000
    for start in range(0, len(per_policy), block):
        which = np.repeat(np.arange(start, min(start + block, len(per_policy))), per_policy[start : start + block])
        size = len(which)
        checked_offsets = last_offsets[which] + rng.integers(60, CHECK_HISTORY_DAYS * 86400, size)
        status = rng.choice(len(statuses), size, p=shares / shares.sum())
        lateness = np.where(status == 0, rng.random(size), 1 + 2 * rng.random(size))
        checked = gen.instants(checked_offsets)
        observed = gen.instants(checked_offsets + (lateness * gaps[which]).astype(np.int64))
        durations = rng.lognormal(3.5, 0.8, size).astype(np.int64)
        for n in range(size):
            policy = int(which[n])
            is_probed = bool(probed[policy])
            what = statuses[status[n]]
            error = ""
            if what == FreshnessStatus.UNKNOWN:
                seen, error = None, PROBE_ERROR if is_probed else ""
                reason = f"The check itself failed: {PROBE_REASON}." if is_probed else "No update has been seen yet."
            else:
                seen = observed[n]
                reason = {
                    FreshnessStatus.FRESH: "Updated {}.",
                    FreshnessStatus.LATE: "Late: last update {}, still within the grace time.",
                    FreshnessStatus.STALE: "Stale: last update {}.",
                }[what].format(_short(seen))
            if is_probed:
                trigger, ping = FreshnessCheck.Trigger.PROBE, ""
            elif what == FreshnessStatus.FRESH:
                trigger, ping = FreshnessCheck.Trigger.PING, PingKind.SUCCESS
            else:
                trigger, ping = FreshnessCheck.Trigger.SWEEP, ""
            yield (first + policy, checked[n], trigger, ping, what, seen, reason, error,
                   int(durations[n]) if is_probed else None, "")  # fmt: skip
