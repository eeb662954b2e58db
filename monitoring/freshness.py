"""Freshness: probing, pings, the sweep, announced transitions, and the answers pages and badges ask for.

One domain function per action, called by the sweep task, the ping views, the API and the "check now" job alike.
"""

from dataclasses import dataclass, replace
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from catalog.choices import AssetKind, RunOrigin, RunState
from catalog.lineage import MAX_DEPTH, walk
from catalog.models import Asset, PipelineRun
from core.choices import NotificationKind
from core.notifications import raise_alert
from monitoring.choices import SEVERITY, FreshnessStatus, PingKind
from monitoring.events import freshness_changed, policy_changed
from monitoring.maintenance import silenced
from monitoring.models import FreshnessCheck, FreshnessPolicy
from monitoring.probes import probe_all


@dataclass(frozen=True)
class Freshness:
    """An asset's freshness as pages show it. ``status`` is None when neither it nor its inputs have a policy."""

    status: str | None
    reason: str
    held_back_by: Asset | None = None
    last_seen_at: object = None
    # The next moment the status can change by the clock alone (a deadline of its own policy or of an input's).
    changes_at: object = None
    # What the header's words say, "Updated 3 h ago (checked by SQL at 07:02)": the last update of the policy that
    # decides the status (its own, the input holding it back, or its oldest fresh input), how and when it was checked.
    updated_at: object = None
    checked_by: str = ""
    checked_at: object = None

    @property
    def label(self):
        return FreshnessStatus(self.status).label if self.status else "No policy"


NO_POLICY = Freshness(None, "No freshness policy: nobody has said how often this should be updated.")


def _of(policy, now):
    status, reason = policy.status_at(now)
    return Freshness(
        status,
        reason,
        last_seen_at=policy.last_seen_at,
        changes_at=policy.next_change_at(now),
        updated_at=policy.last_seen_at,
        checked_by=policy.method_name,
        checked_at=policy.last_checked_at or policy.last_seen_at,  # a heartbeat is checked when it arrives
    )


def _words_of(freshness):
    return {"updated_at": freshness.updated_at, "checked_by": freshness.checked_by, "checked_at": freshness.checked_at}


def freshness_by_asset(asset_ids):
    """``{asset_id: Freshness}`` from each asset's own policy, in one query, for list pages and badges."""
    now = timezone.now()
    found = {policy.asset_id: _of(policy, now) for policy in FreshnessPolicy.objects.filter(asset_id__in=asset_ids)}
    return {pk: found.get(pk, NO_POLICY) for pk in asset_ids}


def effective_freshness(asset):
    """The asset's own freshness combined with its stalest input upstream (two queries: the walk and the policies).

    A report is only as fresh as the data it is built from: when an input is worse than the asset itself, the
    input's status wins and ``held_back_by`` names it.
    """
    return effective_freshness_by_asset({asset.pk: walk([asset.pk], direction="up", max_depth=MAX_DEPTH)})[asset.pk]


def effective_freshness_by_asset(upstream_by_asset):
    """``{asset_id: Freshness}`` for many assets at once, each combined with its inputs, in one query.

    ``upstream_by_asset`` maps each asset id to its upstream asset ids, as ``{id: hops}`` or a plain set (where
    hops are unknown, ties between equally stale inputs are broken by name).
    """
    now = timezone.now()
    nodes = set(upstream_by_asset).union(*upstream_by_asset.values())
    policies = {policy.asset_id: policy for policy in FreshnessPolicy.objects.filter(asset_id__any_of=nodes)}
    # The input holding an asset back is named and linked to. Its asset is read on its own: joined to the policies,
    # PostgreSQL reads every asset to find a thousand of them.
    assets = Asset.objects.filter(pk__any_of=policies).only("pk", "uuid", "kind", "slug", "name", "lifecycle")
    for asset in assets:
        policies[asset.pk].asset = asset
    found = {pk: (policy.asset, _of(policy, now)) for pk, policy in policies.items()}
    worsening = _Worsening(now)
    result = {}
    for pk, upstream in upstream_by_asset.items():
        hops = upstream if isinstance(upstream, dict) else dict.fromkeys(upstream, 0)
        own = found[pk][1] if pk in found else None
        inputs = [found[up] for up in hops if up in found and up != pk]
        combined = _combine(own, inputs, hops)
        # Its own status shows as it is, so its every change counts; an input's only once it would take over.
        deadlines = [own.changes_at] if own and own.changes_at else []
        if combined.status is not None:
            named = combined.held_back_by
            named_key = (hops[named.pk], named.name) if named else None
            upcoming = [
                (
                    found[up][1].changes_at,
                    policies[up],
                    named_key is not None and (hops[up], found[up][0].name) < named_key,
                )
                for up in hops
                if up in policies and up != pk
            ]
            deadlines.append(worsening.first(upcoming, SEVERITY[combined.status]))
        result[pk] = replace(combined, changes_at=min(filter(None, deadlines), default=None))
    return result


class _Worsening:
    """When, by the clock alone, inputs first take over an asset's combined freshness. The clock only ever worsens
    a status (fresh → late → stale); pings and probes are events. An input takes over when it becomes worse than the
    combined status, or as bad and nearer (ties go to the nearest input, then by name). So an input that is fresh
    under a stale one changes nothing downstream when it turns late, nor when it turns stale further away: a report
    fed by hundreds of checked tables would otherwise change every few seconds, and its stored badge with it."""

    def __init__(self, now):
        self.now = now
        self.taken_over = {}  # (policy id, severity, nearer): moment

    def first(self, upcoming, severity):
        """The first moment one of the policies in ``upcoming``, ``[(its next change, policy, nearer than the input
        named now)]``, takes over a combined status of ``severity``; None if none does by the clock alone."""
        best = None
        # In order of their next change: none gets worse before it, so the scan stops at the first one past the best.
        for moment, policy, nearer in sorted((item for item in upcoming if item[0]), key=lambda item: item[0]):
            if best is not None and moment >= best:
                break
            taken_over = self._takes_over(policy, severity, nearer)
            if taken_over is not None and (best is None or taken_over < best):
                best = taken_over
        return best

    def _takes_over(self, policy, severity, nearer):
        key = (policy.pk, severity, nearer)
        if key not in self.taken_over:
            moment = policy.next_change_at(self.now)
            # At most three steps: the end of a run's grace, the due time, the end of the grace after it.
            while moment is not None:
                reached = SEVERITY[policy.status_at(moment)[0]]
                if reached > severity or (reached == severity and nearer):
                    break
                moment = policy.next_change_at(moment)
            self.taken_over[key] = moment
        return self.taken_over[key]


def _combine(own, inputs, hops):
    # Worst first; among equals, the nearest input is the one people can act on.
    inputs = sorted(inputs, key=lambda item: (-SEVERITY[item[1].status], hops[item[0].pk], item[0].name))
    worst = inputs[0] if inputs else None
    if worst is None:
        return own or NO_POLICY
    input_asset, input_freshness = worst
    if own is not None and SEVERITY[own.status] >= SEVERITY[input_freshness.status]:
        return own
    if input_freshness.status == FreshnessStatus.FRESH:
        count = len(inputs)
        reason = (
            "Its one checked input upstream is fresh."
            if count == 1
            else f"All {count} checked inputs upstream are fresh."
        )
        # Its data is as old as its oldest input's last update: that is the date the words give.
        oldest = min((item[1] for item in inputs), key=lambda item: (item.updated_at is not None, item.updated_at))
        return Freshness(FreshnessStatus.FRESH, reason, **_words_of(oldest))
    reason = f"Held back by its input {input_asset.name}: {input_freshness.reason}"
    last_seen = own.last_seen_at if own else None
    return Freshness(
        input_freshness.status, reason, held_back_by=input_asset, last_seen_at=last_seen, **_words_of(input_freshness)
    )


# --- changing state -------------------------------------------------------------------------------------------
def evaluate(policy, *, trigger, now=None, observed=(), **check_fields):
    """Record what the policy's status is now, plan its next deadline, and announce a transition once.

    ``observed`` names the policy's fields a probe or ping just changed in memory; they are saved with the plan.
    """
    return evaluate_all([policy], trigger=trigger, now=now, observed=observed, check_fields=[check_fields])[0]


# What pings, probes and owners change on a policy while a sweep holds an older copy of it.
OBSERVATION = (
    "last_seen_at", "last_started_at", "last_failed_at", "probe_error", "probe_reason", "paused", "announced_status",
)  # fmt: skip


def evaluate_all(policies, *, trigger, now=None, observed=(), check_fields=None):
    """``evaluate`` for many policies at once (a batch of probes, the sweep's heartbeats): one UPDATE and one INSERT
    in one transaction for all of them, then the alerts of those whose status changed. ``check_fields`` holds each
    policy's own fields for its check row (a probe's error and duration).

    Each policy is evaluated against its latest observation, under the lock its compare-and-set takes: the rows are
    locked and read again first, so a ping that landed after the sweep claimed them (or during a probe) is what is
    judged, not the copy read at claim time. Only the fields in ``observed``, which this caller has just observed,
    keep their value in memory."""
    if not policies:
        return []
    now = now or timezone.now()
    check_fields = check_fields or [{}] * len(policies)
    keep = set(observed)
    with transaction.atomic():
        latest = {
            row["pk"]: row
            for row in FreshnessPolicy.objects.filter(pk__in=[policy.pk for policy in policies])
            .annotate(said=Subquery(FreshnessCheck.objects.filter(policy=OuterRef("pk")).values("reason")[:1]))
            .order_by("pk")
            .select_for_update(of=("self",))
            .values("pk", "said", *OBSERVATION)
        }
        pairs = zip(policies, check_fields, strict=True)
        present = [(policy, fields) for policy, fields in pairs if policy.pk in latest]
        for policy, _ in present:
            for name in OBSERVATION:
                if name not in keep:
                    setattr(policy, name, latest[policy.pk][name])
        checks = [_judge(policy, fields, trigger, now) for policy, fields in present]
        saved = ["next_check_at", "last_checked_at", *observed]
        if len(present) == 1:
            # A ping or a "check now": a plain UPDATE, which Django compiles several times faster than bulk_update.
            policy = present[0][0]
            FreshnessPolicy.objects.filter(pk=policy.pk).update(**{name: getattr(policy, name) for name in saved})
        elif present:
            FreshnessPolicy.objects.bulk_update([policy for policy, _ in present], saved)
        FreshnessCheck.objects.bulk_create(checks)
        # The compare-and-set on the announced status, in the same transaction as the read it judged.
        judged = [(policy, check, policy.announced_status) for (policy, _), check in zip(present, checks, strict=True)]
        moved = [(policy, check, old) for policy, check, old in judged if _move(policy, check.status)]
    reworded = [
        policy
        for policy, check, old in judged
        # The same status in new words (a newer update time, another probe error): what quoted them is stale.
        if check.status == old and check.reason != latest[policy.pk]["said"]
    ]
    for policy, check, old in moved:
        _alert(policy, old, check.status, check.reason)
    if moved or reworded:
        # Once for the whole batch, so listeners walk lineage once for all of it, not once a check.
        freshness_changed.send(sender=FreshnessPolicy, moved=[policy for policy, _, _ in moved], reworded=reworded)
    statuses = {check.policy_id: check.status for check in checks}
    # A policy deleted meanwhile has no status any more.
    return [statuses.get(policy.pk, FreshnessStatus.UNKNOWN) for policy in policies]


def _judge(policy, fields, trigger, now):
    """The policy's check row at ``now``; plans its next deadline on the way."""
    status, reason = policy.status_at(now)
    policy.next_check_at = policy.plan_next_check(now)
    policy.last_checked_at = now
    return FreshnessCheck(
        policy=policy,
        checked_at=now,
        trigger=trigger,
        status=status,
        observed_at=policy.last_seen_at,
        reason=reason[:500],
        **fields,
    )


def _move(policy, status):
    """Compare-and-set ``announced_status`` from the value this caller read; whether it moved it. Only the caller
    that moves it raises the alert, however many sweepers saw the transition."""
    old = policy.announced_status
    if old == status:
        return False
    if not FreshnessPolicy.objects.filter(pk=policy.pk, announced_status=old).update(announced_status=status):
        return False
    policy.announced_status = status
    return True


def _alert(policy, old, status, reason):
    """Tell people about a status change once (``_move`` said this caller made it)."""
    quiet = {"", FreshnessStatus.UNKNOWN}
    # A new policy settling, data appearing for the first time, or an owner pausing checks is not news; nor is
    # anything during a maintenance window.
    if (old in quiet and status in (FreshnessStatus.FRESH, FreshnessStatus.UNKNOWN)) or policy.paused:
        return
    if silenced(policy.asset_id, freshness=True):
        return
    asset = policy.asset
    if status == FreshnessStatus.FRESH:
        title = f"{asset.name} is fresh again"
    elif status == FreshnessStatus.UNKNOWN:
        title = f"{asset.name}: freshness cannot be checked"
    else:
        title = f"{asset.name} is {FreshnessStatus(status).label.lower()}"
    raise_alert(
        asset,
        kind=NotificationKind.FRESHNESS,
        title=title,
        body=reason,
        url=policy.get_absolute_url(),
        from_status=old,
        to_status=status,
    )


def run_probe(policy, *, now=None):
    """Ask the source when its data last changed, keep the answer, and evaluate. Used by "check now"."""
    return run_probes([policy], now=now)[0]


def run_probes(policies, *, now=None):
    """``run_probe`` for a batch (the sweep's workers): the sources are asked at the same time (``probe_all``) and the
    answers recorded together."""
    checks = []
    for policy, (observed_at, error, duration_ms, reason) in zip(policies, probe_all(policies), strict=True):
        # The detail for owners, their team and staff; the plain reason for everyone (``monitoring.reasons``).
        policy.probe_error, policy.probe_reason = error, reason
        # A failed probe keeps the last sighting it read when it started.
        if observed_at is not None:
            policy.last_seen_at = observed_at
        checks.append({"error": error, "duration_ms": duration_ms})
    return evaluate_all(
        policies,
        trigger=FreshnessCheck.Trigger.PROBE,
        now=now,
        observed=["probe_error", "probe_reason", "last_seen_at"],
        check_fields=checks,
    )


def record_ping(policy, kind, *, run_id="", rows=None, now=None):
    """A heartbeat: the pipeline says it started, finished or failed (optionally naming its run).

    On a pipeline asset a run id also opens or closes a ``PipelineRun``, and a finished run goes through the
    drift rule.
    """
    now = now or timezone.now()
    fields = {
        PingKind.SUCCESS: {"last_seen_at": now},
        PingKind.START: {"last_started_at": now},
        PingKind.FAIL: {"last_failed_at": now},
    }[kind]
    for name, value in fields.items():
        setattr(policy, name, value)
    pipeline_run = None
    if run_id and policy.asset.kind == AssetKind.PIPELINE:
        pipeline_run = _record_pipeline_run(policy.asset.pipeline, kind, run_id, rows, now)
    status = evaluate(
        policy, trigger=FreshnessCheck.Trigger.PING, now=now, observed=list(fields), ping_kind=kind, run_id=run_id
    )
    if pipeline_run is not None and pipeline_run.state == RunState.COMPLETE:
        from monitoring.drift import check_run

        check_run(pipeline_run)
    return status


def _record_pipeline_run(pipeline, kind, run_id, rows, now):
    state = {PingKind.START: RunState.RUNNING, PingKind.SUCCESS: RunState.COMPLETE, PingKind.FAIL: RunState.FAIL}
    try:
        with transaction.atomic():
            run, created = PipelineRun.objects.get_or_create(
                pipeline=pipeline,
                run_id=run_id,
                # A run first heard of at its end has an unknown start, hence an unknown duration (not 0 s): it
                # never feeds the duration rule, while its output rows still do.
                defaults={
                    "origin": RunOrigin.HEARTBEAT,
                    "state": state[kind],
                    "started_at": now if kind == PingKind.START else None,
                },
            )
    except IntegrityError:  # the start and the end of one run raced each other; the other request made the row
        run, created = PipelineRun.objects.get(pipeline=pipeline, run_id=run_id), False
    if kind == PingKind.START:
        if not created:
            run.started_at = now
            run.save(update_fields=["started_at"])
        return run
    run.state = state[kind]
    run.ended_at = now
    if rows is not None:
        run.output_rows = rows
    run.save(update_fields=["state", "ended_at", "output_rows"])
    return run


CLAIM_BATCH = 500
# Probes per worker task: one task's overhead (fetching, writing, committing) is shared by the batch, and the batch's
# probes run at the same time, so a slow source holds up its batch by its own timeout at most.
PROBE_BATCH = 20


def claim_due(now=None, limit=CLAIM_BATCH):
    """Up to ``limit`` policies whose deadline has passed, each claimed by pushing its deadline ahead.

    One locking SELECT and one UPDATE per distinct timeout, in one transaction: a second sweep running at the same
    moment skips the rows this one has locked and, once it commits, no longer finds them due, so every due policy
    is checked once. The pushed deadline is a lease: if the check never reports (a worker died), the policy comes
    due again.
    """
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            FreshnessPolicy.objects.filter(next_check_at__lte=now, paused=False)
            .order_by("next_check_at")
            .select_related("asset")
            .select_for_update(skip_locked=True, of=("self",))[:limit]
        )
        for timeout in {policy.timeout_seconds for policy in due}:
            lease = now + timedelta(seconds=timeout * 3 + 60)
            batch = [policy for policy in due if policy.timeout_seconds == timeout]
            FreshnessPolicy.objects.filter(pk__in=[policy.pk for policy in batch]).update(next_check_at=lease)
            for policy in batch:
                policy.next_check_at = lease
    return due


def sweep(dispatch_probes, now=None, batch=CLAIM_BATCH):
    """Check every policy due at ``now``, a claimed batch at a time: probes go to ``dispatch_probes(policy_ids)`` in
    batches of ``PROBE_BATCH`` (the workers), heartbeats are evaluated here (no I/O).

    Stops when nothing due at ``now`` is left, so a sweep does not chase deadlines that fall while it runs; those
    are the next sweep's. Returns ``{"dispatched": …, "evaluated": …}``.
    """
    now = now or timezone.now()
    dispatched = evaluated = 0
    while True:
        claimed = claim_due(now, limit=batch)
        probes = [policy.pk for policy in claimed if policy.is_probed]
        for start in range(0, len(probes), PROBE_BATCH):
            dispatch_probes(probes[start : start + PROBE_BATCH])
        heartbeats = [policy for policy in claimed if not policy.is_probed]
        evaluate_all(heartbeats, trigger=FreshnessCheck.Trigger.SWEEP, now=now)
        dispatched, evaluated = dispatched + len(probes), evaluated + len(heartbeats)
        if len(claimed) < batch:
            return {"dispatched": dispatched, "evaluated": evaluated}


def save_policy(policy, now=None):
    """Save an edited or new policy and make it due now, so its first check does not wait for the old deadline."""
    policy.next_check_at = now or timezone.now()
    with transaction.atomic():
        policy.save()
        policy_changed.send(sender=FreshnessPolicy, asset_ids=[policy.asset_id])
    return policy


def delete_policy(policy):
    """Stop checking an asset's freshness."""
    with transaction.atomic():
        policy.delete()
        policy_changed.send(sender=FreshnessPolicy, asset_ids=[policy.asset_id])
