"""Stored trust badges and the secret links that embed them."""

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, OperationalError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from catalog.lineage import MAX_DEPTH, walk
from catalog.models import Asset
from core.background import wake
from core.bulk import insert_many
from trust.choices import TrustLevel

logger = logging.getLogger(__name__)


class BadgeLink(models.Model):
    """A secret token that shows one asset's badge without signing in, for embedding in another dashboard.

    It reveals the badge level and the rule verdicts only; rotating it breaks the old embeds.
    """

    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, related_name="badge_link")
    token = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Badge link for {self.asset}"

    @classmethod
    def rotate(cls, asset, *, by):
        """Create the link, or replace its token so old embeds stop working."""
        if not asset.can_edit(by):
            raise PermissionDenied("Only the owner, the owning team or staff can manage the embed link.")
        link, _ = cls.objects.update_or_create(
            asset=asset, defaults={"token": secrets.token_urlsafe(24), "created_by": by}
        )
        return link


# A run claims stale rows until none is left, so a burst of events (a sync registering thousands of versions) needs
# a run or two, and pages compute a stale badge meanwhile.
def _wake_the_refresher():
    from trust.tasks import refresh_stale_badges  # the tasks module imports this one

    wake(refresh_stale_badges)


class StoredBadge(models.Model):
    """An asset's trust badge as last computed, so list pages and search read one row per asset instead of
    gathering every row's facts (a lineage walk of up to ten hops) on every request.

    A row is current while it is not ``stale`` and its ``expires_at`` has not passed (the first moment the clock
    alone can change a verdict: a review falling due, a certification running out, a freshness deadline).
    Anything else is computed again by whoever reads it (``trust.badges.badges_for``). Events that change a fact
    mark the row stale, and every row downstream when the fact travels along lineage (``invalidate``, called
    from ``trust.receivers`` and the workflows here); ``trust.tasks.refresh_stale_badges`` recomputes stale rows in
    the background.

    States: missing → current → stale (an event) → current (recomputed); a current row also turns over when it
    expires. ``generation`` makes storing a computed badge a compare-and-set: every invalidation bumps it, and a
    badge is stored only if the generation is still the one read before its facts were gathered, so a badge
    computed from facts an event changed meanwhile can be shown once but is never kept. ``claimed_until`` is the
    background refresher's lease on a stale row, so two refreshers never compute the same rows.
    """

    asset = models.OneToOneField(Asset, primary_key=True, on_delete=models.CASCADE, related_name="stored_badge")
    level = models.CharField(max_length=20, choices=TrustLevel.choices, blank=True)
    verdicts = models.JSONField(default=list, help_text="Each rule's verdict: rule, title, level and reason.")
    computed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    stale = models.BooleanField(default=False)
    generation = models.PositiveIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The refresher's only query: the few stale rows among one per asset.
            models.Index(fields=["asset"], condition=Q(stale=True), name="storedbadge_stale"),
            # The expiry refresher's (trust.badges.refresh_expired): current rows whose time runs out, soonest first.
            models.Index(
                fields=["expires_at"], condition=Q(stale=False, expires_at__isnull=False), name="storedbadge_expiring"
            ),
        ]

    def __str__(self):
        return f"Badge of asset {self.asset_id}: {self.level or 'not computed'}"

    def is_current(self, now):
        return not self.stale and bool(self.level) and (self.expires_at is None or now < self.expires_at)

    @classmethod
    def invalidate(cls, asset_ids, *, downstream=False, create_missing=True):
        """Mark these assets' badges stale, and with ``downstream`` everything within ``MAX_DEPTH`` hops below
        them (one walk, one update), then have the worker recompute them once the transaction commits.

        Missing rows are created stale, so a reader that found none and computed from facts read before this
        change cannot store its badge (its compare-and-set expects no row). ``create_missing=False`` is for
        deletions, where some of the assets may be going away in the same transaction.
        """
        asset_ids = {int(pk) for pk in asset_ids}
        if downstream:
            asset_ids |= set(walk(asset_ids, direction="down", max_depth=MAX_DEPTH))
        if not asset_ids:
            return
        # Rows are written and locked in id order, as ``store`` writes them, so that an event marking badges and
        # a page storing them wait for each other instead of deadlocking. No savepoint inside a caller's
        # transaction (two round trips on every edit): nothing recovers from a failure here and carries on.
        with transaction.atomic(savepoint=False):
            if create_missing:
                insert_many(
                    cls, {"asset_id": sorted(asset_ids)}, {"stale": True, "generation": 1}, ignore_conflicts=True
                )
            in_order = cls.objects.filter(asset_id__any_of=asset_ids).order_by("asset_id").select_for_update()
            cls.objects.filter(asset_id__in=in_order.values("asset_id")).update(
                stale=True, generation=models.F("generation") + 1, claimed_until=None
            )
        transaction.on_commit(_wake_the_refresher)

    @classmethod
    def claim_stale(cls, limit, lease=timedelta(minutes=5)):
        """``{asset_id: generation}`` of up to ``limit`` stale rows nobody is refreshing, leased to the caller.

        ``skip_locked`` lets two refreshers claim at the same moment without waiting for or taking the same rows;
        the lease stops a second one from taking them while the first computes. A refresher that dies leaves the
        rows to be claimed again when the lease runs out.
        """
        now = timezone.now()
        with transaction.atomic():
            rows = list(
                cls.objects.filter(stale=True)
                .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
                .order_by("asset_id")
                .select_for_update(skip_locked=True)
                .only("asset_id", "generation")[:limit]
            )
            cls.objects.filter(asset_id__in=[row.asset_id for row in rows]).update(claimed_until=now + lease)
        return {row.asset_id: row.generation for row in rows}

    @classmethod
    def store(cls, computed, now):
        """Write computed badges: ``{asset_id: (generation read before computing, level, verdicts, expires_at)}``.

        A compare-and-set on ``generation``: a row invalidated since it was read keeps its stale state. One
        statement per chunk of rows (``bulk_create`` cannot put a condition on the update). Storing is a saving,
        never a step a page depends on: when it fails, the page still shows what it computed.
        """
        columns = ["asset_id", "level", "verdicts", "computed_at", "expires_at", "stale", "generation", "claimed_until"]
        fields = [cls._meta.get_field(name.removesuffix("_id")) for name in columns]
        table, quote = cls._meta.db_table, connection.ops.quote_name
        rows = [
            (asset_id, level, verdicts, now, expires_at, False, generation, None)
            for asset_id, (generation, level, verdicts, expires_at) in sorted(computed.items())
        ]
        # PostgreSQL takes 65,535 parameters a statement (SQLite 999): a lineage graph of 8,000 assets is one.
        chunk = (connection.features.max_query_params or 65535) // len(columns)
        updated = ", ".join(
            f"{quote(name)} = EXCLUDED.{quote(name)}" for name in columns if name not in ("asset_id", "generation")
        )
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            params = [
                field.get_db_prep_save(value, connection)
                for row in part
                for field, value in zip(fields, row, strict=True)
            ]
            values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(part))
            sql = (
                f"INSERT INTO {quote(table)} ({', '.join(map(quote, columns))}) VALUES {values} "
                f"ON CONFLICT ({quote('asset_id')}) DO UPDATE SET {updated} "
                f"WHERE {quote(table)}.{quote('generation')} = EXCLUDED.{quote('generation')}"
            )
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(sql, params)
            except IntegrityError:  # an asset was deleted while its badge was computed: nothing to keep
                pass
            except OperationalError:  # a deadlock with an event marking these rows: their badges are changing anyway
                logger.warning("Stored badges not saved", exc_info=True)
