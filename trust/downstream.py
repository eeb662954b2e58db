"""Problems upstream reach the people downstream.

The entry points are generic, so any app may announce a problem on an asset: ``problem_started(asset, cause_kind,
cause_key, summary)`` when it begins and ``problem_cleared(...)`` when it ends (``problem_announced`` for a one-off
event, such as a breaking schema change, that has no end). Trust's own causes are hooked to their events in
``trust.downstream_receivers``: serious data issues, freshness turning late or stale, deprecations, breaking
schema changes, a badge dropping a level for a reason of its own.

Nothing is sent in the request that announces: it writes the problem and a transition row (``ProblemNotice``, the
outbox) and sends ``trust.tasks.fan_out_problem`` on commit. The worker claims the row with a compare-and-set,
walks lineage down ten hops (as impact analysis does) keeping one path back to the problem for each asset, finds
every owner and every watcher (who did not turn problems upstream off) of those assets, and sends each person ONE
message listing their affected assets with the path to each (“Executive sales dashboard ← Daily sales ← Orders:
critical issue 'Duplicated rows'”), in batches of people, each written with a ``ProblemDelivery`` row so a second
pass (a lost worker's notice claimed again) skips whoever was told. Each team with a webhook gets one message for
its own assets. The all-clear goes to the same people the same way.

While the asset is in maintenance (``monitoring.maintenance``) a problem starts silenced: nobody is told, then or
when it clears.
"""

import functools
import logging
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from catalog.lineage import MAX_DEPTH, column_consumers, walk
from catalog.models import Asset, Column, LineageEdge, Watch
from core.background import send
from core.choices import NotificationKind
from core.notifications import Message, deliver, to_team_webhook
from monitoring.maintenance import silenced
from trust.choices import NoticeState, ProblemTransition
from trust.models import ProblemDelivery, ProblemNotice, UpstreamProblem
from trust.unsubscribe import unsubscribe_url

logger = logging.getLogger(__name__)

# People told per batch: each batch is a few statements, so a hub with 39,000 assets downstream and thousands of
# people owning or watching them never holds one huge transaction.
PEOPLE_BATCH = 500
# Paths listed in one message; the rest are counted ("and 37 more").
PATHS_LISTED = 20


def _asset_id(asset):
    return int(getattr(asset, "pk", asset))


def problem_started(asset, cause_kind, cause_key, summary, *, url="", critical=False, spared=(), columns=()):
    """Announce that a problem began on ``asset``; the people downstream are told once, by the worker, except the
    ``spared`` (user ids: a declared consumer of other columns than those a schema change broke). ``columns``: the
    columns at fault, when the problem is with those only (a failing check on one): the fan-out reaches what reads
    them (``column_reach``).

    Returns the notice (the transition row), or None when this cause is already open (nothing new to say).
    """
    asset_id = _asset_id(asset)
    quiet = silenced(asset_id)
    try:
        with transaction.atomic():
            problem = UpstreamProblem.objects.create(
                asset_id=asset_id, cause_kind=cause_kind, cause_key=str(cause_key)[:100], summary=summary[:300],
                url=url, critical=critical, silenced=quiet, spared=sorted(spared),
                columns=sorted(columns),
            )  # fmt: skip
    except IntegrityError:  # already open: announced before, by this caller or a concurrent one
        return None
    state = NoticeState.SILENCED if quiet else NoticeState.PENDING
    return _notice(problem, ProblemTransition.STARTED, state)


def problem_cleared(asset, cause_kind, cause_key, summary=""):
    """Announce that the problem ``cause_kind``/``cause_key`` on ``asset`` has ended: the all-clear goes to the
    people who were told it started. None when it was not open (or another caller cleared it first)."""
    asset_id = _asset_id(asset)
    problem = UpstreamProblem.objects.filter(
        asset_id=asset_id, cause_kind=cause_kind, cause_key=str(cause_key)[:100], cleared_at__isnull=True
    ).first()
    if problem is None:
        return None
    # The compare-and-set: of two callers clearing at once, one moves it.
    if not UpstreamProblem.objects.filter(pk=problem.pk, cleared_at__isnull=True).update(cleared_at=timezone.now()):
        return None
    if summary:
        problem.summary = summary[:300]
    state = NoticeState.SILENCED if problem.silenced else NoticeState.PENDING
    return _notice(problem, ProblemTransition.CLEARED, state)


def problem_announced(asset, cause_kind, cause_key, summary, *, url="", critical=False, spared=()):
    """A one-off problem (a breaking schema change): told once, with no all-clear to follow."""
    notice = problem_started(asset, cause_kind, cause_key, summary, url=url, critical=critical, spared=spared)
    if notice is not None:
        UpstreamProblem.objects.filter(pk=notice.problem_id).update(cleared_at=timezone.now())
    return notice


def _notice(problem, transition, state):
    notice = ProblemNotice.objects.create(problem=problem, transition=transition, state=state)
    if state == NoticeState.PENDING:
        transaction.on_commit(lambda: _send(notice.pk), robust=True)
    return notice


def _send(notice_id):
    from trust.tasks import fan_out_problem  # the tasks module imports this one

    send(fan_out_problem, notice_id)


# --- the worker's side -----------------------------------------------------------------------------------------
def claim(notice_id, now=None):
    """The notice, claimed by this caller (compare-and-set on ``state``); None when someone else has it or it was
    sent. A ``sending`` notice whose lease ran out lost its worker and is claimed again."""
    now = now or timezone.now()
    row = ProblemNotice.objects.filter(pk=notice_id).values("state", "claimed_at").first()
    if row is None:
        return None
    mine = ProblemNotice.objects.filter(pk=notice_id, state=NoticeState.PENDING)
    if row["state"] == NoticeState.SENDING and row["claimed_at"] and row["claimed_at"] < now - ProblemNotice.LEASE:
        mine = ProblemNotice.objects.filter(pk=notice_id, state=NoticeState.SENDING, claimed_at=row["claimed_at"])
    if mine.update(state=NoticeState.SENDING, claimed_at=now) != 1:
        return None
    return ProblemNotice.objects.select_related("problem__asset").get(pk=notice_id)


def downstream_paths(asset_id, max_depth=MAX_DEPTH, within=None):
    """``{asset_id: parent_id}`` for everything within ``max_depth`` hops downstream of ``asset_id`` (and, given
    ``within``, only through those assets): for each, the asset one step nearer the start on a shortest path
    (breadth first, one query per hop). Following parents from any asset leads back to ``asset_id``."""
    parents, frontier, seen = {}, [asset_id], {asset_id}
    for _ in range(max_depth):
        edges = LineageEdge.objects.filter(upstream_id__any_of=frontier)
        if connection.vendor == "postgresql":
            # One parent per asset is all a path needs: the database drops the other edges.
            edges = edges.order_by("downstream_id", "upstream_id").distinct("downstream_id")
        reached = []
        for downstream_id, upstream_id in edges.values_list("downstream_id", "upstream_id"):
            if downstream_id not in seen and (within is None or downstream_id in within):
                seen.add(downstream_id)
                parents[downstream_id] = upstream_id
                reached.append(downstream_id)
        if not reached:
            break
        frontier = reached
    return parents


def path_of(asset_id, parents, names):
    """“Executive sales dashboard ← Daily sales ← Orders”: from ``asset_id`` back up to where the problem is."""
    steps = [asset_id]
    while steps[-1] in parents:
        steps.append(parents[steps[-1]])
    return " ← ".join(names[pk]["name"] for pk in steps)


def column_reach(asset_id, columns):
    """The assets a problem with ``columns`` of the dataset ``asset_id`` reaches first: the datasets that read them
    through column lineage (``catalog.lineage.column_consumers``) and what reads the dataset with no columns of its
    own (a report: nothing says which columns it uses). None when nothing downstream is known column by column, or
    the dataset has none of these columns on record (a test naming a column the catalog spells otherwise):
    everything downstream is reached. Worked out by the fan-out, not by the writer that announced the problem (a
    dbt import announcing hundreds of failing tests)."""
    if not Column.objects.filter(dataset_id=asset_id, name__in=list(columns)).exists():
        return None
    readers = column_consumers(asset_id, columns)
    if readers is None:
        return None
    direct = set(LineageEdge.objects.filter(upstream_id=asset_id).values_list("downstream_id", flat=True))
    with_columns = set(Column.objects.filter(dataset_id__in=direct).values_list("dataset_id", flat=True).distinct())
    return sorted(set(readers) | (direct - with_columns))


def _people(affected_ids, *, teams=False):
    """``{user_id: {asset_id: watch_id or None}}``: the owners and the watchers (problems upstream on) of the
    affected assets, and with ``teams`` the members of their teams; an owner's asset carries None (no watch to
    leave)."""
    people = defaultdict(dict)
    owned = Asset.objects.filter(pk__any_of=affected_ids, owner__isnull=False).values_list("pk", "owner_id")
    for asset_id, owner_id in owned:
        people[owner_id][asset_id] = None
    if teams:
        from accounts.models import Team

        members = Team.members.through.objects.filter(team__assets__pk__any_of=affected_ids)
        for asset_id, user_id in members.values_list("team__assets__pk", "user_id"):
            people[user_id].setdefault(asset_id, None)
    watches = Watch.objects.filter(asset_id__any_of=affected_ids, include_upstream=True).values_list(
        "pk", "asset_id", "user_id"
    )
    for watch_id, asset_id, user_id in watches:
        people[user_id].setdefault(asset_id, watch_id)
    return people


def people_downstream(asset_id, *, only=None, reaches=None, teams=False):
    """Who downstream of ``asset_id`` hears of a problem on it, and how each affected asset of theirs leads back to
    it: ``(people, parents, names)``, the last two as ``grouped_message`` takes them. ``only``: the affected
    assets, when they were listed before (a deprecation's impacts); those no longer downstream are shown one step
    away. ``reaches``: the assets a problem with one column concerns (its readers); they and what is downstream of
    them are affected, nothing else (a reader not linked by lineage is shown one step away)."""
    if reaches is not None:
        within = set(reaches) | set(walk(reaches, "down", MAX_DEPTH))
        parents = downstream_paths(asset_id, within=within)
        parents |= {pk: asset_id for pk in reaches if pk not in parents and pk != asset_id}
    else:
        parents = downstream_paths(asset_id)
    if only is not None:
        parents = {pk: parents.get(pk, asset_id) for pk in only}
    names = _names([asset_id, *parents], parents)
    # Assets deleted since the walk have no name: leave them out.
    parents = {pk: parent for pk, parent in parents.items() if pk in names and parent in names}
    return _people(list(parents), teams=teams), parents, names


def _summary(notice, problem):
    if notice.transition == ProblemTransition.CLEARED:
        return f"all clear, {problem.summary} is over"
    return problem.summary


def grouped_message(user, assets, paths, *, origin, summary, intro, url, extra=()):
    """One person's message about a problem on ``origin`` (an asset's name): every affected asset of theirs
    (``{asset_id: watch_id or None}``), nearest first, with its path (``paths``: ``(parents, names)``) and link,
    after ``intro`` and the ``extra`` lines (a deprecation's reason and replacement)."""
    parents, names = paths
    ordered = sorted(assets, key=lambda pk: (names[pk]["hops"], names[pk]["name"].lower(), pk))
    base = settings.PORTAL_BASE_URL
    lines = [f"{path_of(pk, parents, names)}: {summary}\n  {base}{_url(names, pk)}" for pk in ordered[:PATHS_LISTED]]
    if len(ordered) > PATHS_LISTED:
        lines.append(f"… and {len(ordered) - PATHS_LISTED} more of yours downstream.")
    if len(ordered) == 1:
        title = f"{path_of(ordered[0], parents, names)}: {summary}"
    else:
        title = f"{origin}: {summary}, upstream of {len(ordered)} of your assets"
    unsubscribe = [
        (names[pk]["name"], unsubscribe_url(watch_id, user.pk, pk))
        for pk, watch_id in sorted(assets.items(), key=lambda item: names[item[0]]["name"].lower())
        if watch_id is not None
    ]
    body = "\n".join([intro, *extra, "", *lines])
    return Message(user, title, body, url, unsubscribe)


def _message_for(user, assets, notice, parents, names):
    problem = notice.problem
    intro = (
        f"The problem upstream on {problem.asset.name} is over."
        if notice.transition == ProblemTransition.CLEARED
        else f"A problem on {problem.asset.name} reaches what you own or watch downstream."
    )
    return grouped_message(
        user, assets, (parents, names), origin=problem.asset.name, summary=_summary(notice, problem), intro=intro,
        url=problem.url or _url(names, problem.asset_id),
    )  # fmt: skip


@functools.cache
def _url_pattern():
    # ``reverse`` costs a third of a millisecond; a hub's fan-out lists a hundred thousand links.
    return reverse("catalog:asset_detail", kwargs={"kind": "kind-placeholder", "slug": "slug-placeholder"})


def _url(names, pk):
    """An asset's page (``Asset.get_absolute_url``), filled in from the pattern, for the assets a message lists."""
    found = names[pk]
    return _url_pattern().replace("kind-placeholder", found["kind"]).replace("slug-placeholder", found["slug"])


def _names(asset_ids, parents):
    """``{asset_id: {name, kind, slug, team_id, hops}}``; one query."""
    hops = {}

    def depth(pk):
        if pk not in hops:
            hops[pk] = 0 if pk not in parents else depth(parents[pk]) + 1
        return hops[pk]

    rows = Asset.objects.filter(pk__any_of=list(asset_ids)).values_list("pk", "name", "kind", "slug", "team_id")
    names = {}
    for pk, name, kind, slug, team_id in rows:
        names[pk] = {"name": name, "kind": kind, "slug": slug, "team_id": team_id, "hops": 0}
    for pk in names:
        names[pk]["hops"] = depth(pk)
    return names


def fan_out(notice_id):
    """Tell everyone downstream about one transition, once. Returns how many people and webhooks were told, or
    None when another worker has the notice (or it was sent)."""
    notice = claim(notice_id)
    if notice is None:
        return None
    problem = notice.problem
    reaches = column_reach(problem.asset_id, problem.columns) if problem.columns else None
    people, parents, names = people_downstream(problem.asset_id, reaches=reaches)
    for user_id in notice.problem.spared:
        people.pop(user_id, None)
    told = _tell_people(notice, people, parents, names)
    if told is None:
        return None  # another worker took the notice over
    told += _tell_teams(notice, parents, names)
    ProblemNotice.objects.filter(pk=notice.pk, state=NoticeState.SENDING, claimed_at=notice.claimed_at).update(
        state=NoticeState.SENT, sent_at=timezone.now(), affected_count=len(parents), recipient_count=told
    )
    return told


def _hold(notice):
    """Renew this worker's claim on ``notice`` at the start of a batch's transaction. The renewal locks the row
    until the batch commits, so a second worker that finds the lease run out (this one stalled) waits, then sees
    the claim renewed and leaves it; and batches of two workers never interleave (each reads the deliveries the
    other committed). False when another worker claimed the notice since: this one stops."""
    now = timezone.now()
    held = ProblemNotice.objects.filter(pk=notice.pk, state=NoticeState.SENDING, claimed_at=notice.claimed_at)
    if held.update(claimed_at=now) != 1:
        return False
    notice.claimed_at = now
    return True


def _tell_people(notice, people, parents, names):
    """Each person's message, a batch per transaction; None when another worker took the notice over."""
    told = 0
    user_ids = sorted(people)
    users = get_user_model().objects.filter(is_active=True)
    for start in range(0, len(user_ids), PEOPLE_BATCH):
        batch = user_ids[start : start + PEOPLE_BATCH]
        with transaction.atomic():
            if not _hold(notice):
                return None
            done = set(
                ProblemDelivery.objects.filter(notice=notice, user_id__in=batch).values_list("user_id", flat=True)
            )
            recipients = list(users.filter(pk__in=[pk for pk in batch if pk not in done]))
            messages = [_message_for(user, people[user.pk], notice, parents, names) for user in recipients]
            ProblemDelivery.objects.bulk_create(
                [ProblemDelivery(notice=notice, user=user, asset_count=len(people[user.pk])) for user in recipients],
                ignore_conflicts=True,
            )
            deliver(
                messages, kind=NotificationKind.UPSTREAM, urgent=notice.problem.critical, asset=notice.problem.asset
            )
        told += len(recipients)
    return told


def _tell_teams(notice, parents, names):
    """One message per team with a webhook, listing its own affected assets."""
    from accounts.models import Team

    by_team = defaultdict(list)
    for pk in parents:
        if names[pk]["team_id"]:
            by_team[names[pk]["team_id"]].append(pk)
    if not by_team:
        return 0
    teams = list(Team.objects.filter(pk__in=list(by_team)).exclude(webhook_url=""))
    if not teams:
        return 0
    with transaction.atomic():
        if not _hold(notice):
            return 0
        return _post_to_teams(notice, teams, by_team, parents, names)


def _post_to_teams(notice, teams, by_team, parents, names):
    done = set(ProblemDelivery.objects.filter(notice=notice, team__in=teams).values_list("team_id", flat=True))
    told = 0
    for team in teams:
        if team.pk in done:
            continue
        message = _message_for(team, dict.fromkeys(by_team[team.pk]), notice, parents, names)
        ProblemDelivery.objects.bulk_create(
            [ProblemDelivery(notice=notice, team=team, asset_count=len(by_team[team.pk]))], ignore_conflicts=True
        )
        to_team_webhook(
            team, kind=NotificationKind.UPSTREAM, title=message.title, body=message.body, url=message.url,
            urgent=notice.problem.critical, asset=notice.problem.asset,
        )  # fmt: skip
        told += 1
    return told


def relay(now=None, limit=100):
    """Notices whose fan-out never reached a worker (pending for over a minute), or whose worker was lost
    (sending past the lease): sent again. Returns how many were sent."""
    now = now or timezone.now()
    waiting = ProblemNotice.objects.filter(state=NoticeState.PENDING, created_at__lt=now - timedelta(minutes=1))
    lost = ProblemNotice.objects.filter(state=NoticeState.SENDING, claimed_at__lt=now - ProblemNotice.LEASE)
    ids = [*waiting.values_list("pk", flat=True)[:limit], *lost.values_list("pk", flat=True)[:limit]]
    for pk in ids:
        _send(pk)
    return len(ids)
