"""Badges: the rules' verdicts for an asset, ready for a page, a list row, the API or an embedded image.

Badges are stored (``StoredBadge``): lists read them in one query and compute only the missing, stale or expired
ones, with ``compute_badges``, the one computation. An asset's own page only reads (``badge_to_show``).
"""

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from functools import partial
from xml.sax.saxutils import escape

from django.db import transaction
from django.utils import timezone

from catalog.models import Asset
from core.background import BADGE_EXPIRY, BADGE_REFRESHER, drain, send
from trust.choices import TrustLevel
from trust.events import badge_levels_changed
from trust.facts import facts_for
from trust.models import StoredBadge
from trust.rules import SEVERITY, Verdict, evaluate, expires_at

COLOURS = {
    TrustLevel.TRUSTED: "#1e7e34",
    TrustLevel.CAUTION: "#b36b00",
    TrustLevel.DO_NOT_USE: "#b02a37",
    TrustLevel.UNKNOWN: "#6c757d",
}
REFRESH_BATCH = 200


@dataclass(frozen=True)
class Badge:
    level: str
    verdicts: tuple
    # Until when the verdicts hold by the clock alone (see ``trust.rules.expires_at``); None: until an event.
    expires_at: datetime | None = None
    # Set on a stored badge served as it was (``badges_for(..., recheck_later=True)``) while the worker recomputes
    # it: when it was computed. None: current.
    as_of: datetime | None = None

    @property
    def rechecking(self):
        return self.as_of is not None

    @classmethod
    def from_stored(cls, row):
        return cls(row.level, tuple(Verdict(**verdict) for verdict in row.verdicts), row.expires_at)

    @property
    def label(self):
        return TrustLevel(self.level).label

    @property
    def colour(self):
        return COLOURS[self.level]

    @property
    def reasons(self):
        """The verdicts that kept the badge from Trusted, worst first; all of them when it is Trusted."""
        failing = [verdict for verdict in self.verdicts if not verdict.passed]
        return sorted(failing, key=lambda verdict: SEVERITY.index(verdict.level)) if failing else list(self.verdicts)

    @property
    def summary(self):
        """The one sentence shown next to the badge in a list."""
        if self.level == TrustLevel.TRUSTED:
            return "Every trust rule is met."
        return self.reasons[0].reason

    def as_dict(self, detailed=True):
        """The JSON form. Without ``detailed`` only rule titles and levels: no names of people or other assets."""
        rules = []
        for verdict in self.verdicts:
            item = {"rule": verdict.rule, "title": verdict.title, "level": verdict.level, "passed": verdict.passed}
            if detailed:
                item["reason"] = verdict.reason
            rules.append(item)
        return {"level": self.level, "label": self.label, "rules": rules}


def compute_badges(assets, upstream=None):
    """``{asset_id: Badge}`` from the facts as they are now, in a fixed number of queries (see ``trust.facts``).
    ``upstream`` (``{asset_id: {id: hops}}``) is a walk the caller already did."""
    badges = {}
    for pk, facts in facts_for(assets, upstream=upstream).items():
        level, verdicts = evaluate(facts)
        badges[pk] = Badge(level, tuple(verdicts), expires_at(facts))
    return badges


def _compute_and_store(generations):
    """Compute the badges of ``{asset_id: generation read before}`` and store them (see ``StoredBadge.store``)."""
    now = timezone.now()
    badges = compute_badges(list(generations))
    StoredBadge.store(
        {
            pk: (generations[pk], badge.level, [asdict(verdict) for verdict in badge.verdicts], badge.expires_at)
            for pk, badge in badges.items()
        },
        now,
    )
    return badges


def badges_for(assets, recheck_later=False):
    """``{asset_id: Badge}`` for many assets (rows or ids): one query when every badge is stored and current; a
    fixed number more when some must be computed, whatever the number of assets.

    With ``recheck_later`` (search, where a list of fifty results may hold deep reports whose facts walk ten hops),
    a stored badge that is stale or expired is served as it was, with its age (``Badge.as_of``), and the worker
    recomputes it: the refresher already owns stale rows; expired ones are sent to ``trust.tasks.store_badges``.
    Only a badge never computed is computed in the request."""
    asset_ids = list(dict.fromkeys(getattr(asset, "pk", asset) for asset in assets))
    if not asset_ids:
        return {}
    now = timezone.now()
    stored = {row.asset_id: row for row in StoredBadge.objects.filter(asset_id__in=asset_ids)}
    badges, to_compute, expired = {}, {}, []
    for pk in asset_ids:
        row = stored.get(pk)
        if row is not None and row.is_current(now):
            badges[pk] = Badge.from_stored(row)
        elif recheck_later and row is not None and row.level:
            badges[pk] = replace(Badge.from_stored(row), as_of=row.computed_at)
            if not row.stale:
                expired.append(pk)
        else:
            to_compute[pk] = row.generation if row is not None else 0
    if expired:
        transaction.on_commit(partial(_store_later, expired), robust=True)
    if to_compute:
        badges.update(_compute_and_store(to_compute))
    return badges


def badge_for(asset):
    return badges_for([asset])[asset.pk]


def badge_to_show(asset, upstream):
    """The badge an asset's own page shows, without writing anything: the stored one while it is current, else
    computed now from ``upstream`` (``{id: hops}``, the walk the page already did).

    A GET never writes. A stale row is already the refresher's (the event that marked it woke it); a missing or
    expired row, which no event marks, is handed to the worker (``trust.tasks.store_badges``) once the page is done.
    """
    row = StoredBadge.objects.filter(asset_id=asset.pk).first()
    if row is not None and row.is_current(timezone.now()):
        return Badge.from_stored(row)
    if row is None or not row.stale:
        transaction.on_commit(partial(_store_later, [asset.pk]), robust=True)
    return compute_badges([asset], upstream={asset.pk: upstream})[asset.pk]


def _store_later(asset_ids):
    from trust.tasks import store_badges  # the tasks module imports this one

    send(store_badges, asset_ids)


def refresh_badges(assets):
    """Compute these assets' badges now and store them, whatever is stored. ``{asset_id: Badge}``."""
    asset_ids = [getattr(asset, "pk", asset) for asset in assets]
    seen = dict(StoredBadge.objects.filter(asset_id__in=asset_ids).values_list("asset_id", "generation"))
    return _compute_and_store({pk: seen.get(pk, 0) for pk in asset_ids})


def refresh_all(batch_size=REFRESH_BATCH, report=None):
    """Compute and store every asset's badge, a batch at a time in id order (after installing, or after the rules
    changed). ``report(done, total)`` follows the progress. Returns how many were computed."""
    total, done, last = Asset.objects.count(), 0, 0
    while batch := list(Asset.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size]):
        done += len(refresh_badges(batch))
        last = batch[-1]
        if report:
            report(done, total)
    return done


def refresh_stale(batch_size=REFRESH_BATCH, seconds=None):
    """Recompute stale stored badges, a claimed batch at a time, until none is left or ``seconds`` have passed (see
    ``core.background.drain``). Returns how many were computed; None when another refresher is already at work."""

    def step():
        claimed = StoredBadge.claim_stale(batch_size)
        if not claimed:
            return None
        before = {
            row["asset_id"]: row
            for row in StoredBadge.objects.filter(asset_id__in=list(claimed)).values("asset_id", "level", "verdicts")
        }
        badges = _compute_and_store(claimed)
        _announce_level_changes(before, badges)
        return len(badges)

    return drain(BADGE_REFRESHER, step, seconds)


def refresh_expired(batch_size=REFRESH_BATCH, seconds=None):
    """Recompute stored badges whose time ran out (a freshness deadline passed, a review fell due): no event marks
    those, so without this the first list or search to show one would compute it. Oldest first, a batch at a time,
    as the only holder of its lock. Returns how many were computed; None when another run is at work.

    Nothing is announced: a list that computed the same badge on reading it announced nothing either (the events
    behind a clock's change, a check turning late, tell people themselves)."""

    def step():
        due = dict(
            StoredBadge.objects.filter(stale=False, expires_at__lte=timezone.now())
            .order_by("expires_at")
            .values_list("asset_id", "generation")[:batch_size]
        )
        return len(_compute_and_store(due)) if due else None

    return drain(BADGE_EXPIRY, step, seconds)


def _announce_level_changes(before, badges):
    """Tell ``trust.events.badge_levels_changed`` which recomputed badges changed level (the refresher recomputes
    the badges an event marked stale, so this is where a level moves)."""
    changes = [
        (pk, before[pk]["level"], badge.level, before[pk]["verdicts"], [asdict(verdict) for verdict in badge.verdicts])
        for pk, badge in badges.items()
        if pk in before and before[pk]["level"] and before[pk]["level"] != badge.level
    ]
    if changes:
        badge_levels_changed.send(sender=StoredBadge, changes=changes)


def _text_width(text):
    # Verdana at 11px averages about 6.5px per character: close enough for a badge, no font metrics needed.
    return int(len(text) * 6.5) + 10


def render_svg(badge, subject="trust"):
    """A shields.io-style badge: grey subject on the left, the level in its colour on the right."""
    left, right = escape(subject), escape(badge.label)
    left_width, right_width = _text_width(subject), _text_width(badge.label)
    width = left_width + right_width
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
        f'aria-label="{left}: {right}"><title>{left}: {right}</title>'
        f'<rect width="{left_width}" height="20" fill="#555"/>'
        f'<rect x="{left_width}" width="{right_width}" height="20" fill="{badge.colour}"/>'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{left_width / 2}" y="14">{left}</text>'
        f'<text x="{left_width + right_width / 2}" y="14">{right}</text></g></svg>'
    )
