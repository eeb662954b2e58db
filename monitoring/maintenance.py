"""Maintenance windows and snoozes: setting and ending them, and asking whether an asset is in one now.

Alerts read ``silenced`` before they go out (freshness transitions, drift); trust reads ``windows_by_asset`` for
the badge ("in maintenance until …") and before telling people downstream about a problem.
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from monitoring.events import policy_changed
from monitoring.models import MaintenanceWindow


def _active(now):
    return Q(starts_at__lte=now, ends_at__gt=now) & (Q(ended_at__isnull=True) | Q(ended_at__gt=now))


def windows_by_asset(asset_ids, now=None):
    """``{asset_id: window}`` of the assets in maintenance now (the one ending last when several overlap); one
    query."""
    now = now or timezone.now()
    found = {}
    for window in MaintenanceWindow.objects.filter(_active(now), asset_id__any_of=list(asset_ids)).order_by("ends_at"):
        found[window.asset_id] = window
    return found


def upcoming_by_asset(asset_ids, now=None):
    """``{asset_id: start}`` of the next window of each asset still to begin (a badge changes then); one query."""
    now = now or timezone.now()
    found = {}
    rows = MaintenanceWindow.objects.filter(asset_id__any_of=list(asset_ids), starts_at__gt=now, ended_at__isnull=True)
    for asset_id, starts_at in rows.order_by("-starts_at").values_list("asset_id", "starts_at"):
        found[asset_id] = starts_at
    return found


def maintenance_by_asset(asset_ids, now=None):
    """``{asset_id: (window running now or None, when that changes next)}`` for the assets with a window running
    or still to come: a badge says "in maintenance until …" and expires when a window starts or ends. One query."""
    now = now or timezone.now()
    found = {}
    rows = MaintenanceWindow.objects.filter(asset_id__any_of=list(asset_ids), ends_at__gt=now).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=now)
    )
    for window in rows.order_by("starts_at", "pk"):
        current, changes_at = found.get(window.asset_id, (None, None))
        if window.is_active(now):
            if current is None or window.effective_end > current.effective_end:
                current = window
            moment = window.effective_end
        else:
            moment = window.starts_at
        changes_at = moment if changes_at is None else min(changes_at, moment)
        found[window.asset_id] = (current, changes_at)
    return found


def silenced(asset_id, *, freshness=False, now=None):
    """Whether alerts about ``asset_id`` are silenced now: any window on the asset silences everything; a window
    on its freshness check only silences freshness (``freshness=True``)."""
    windows = MaintenanceWindow.objects.filter(_active(now or timezone.now()), asset_id=asset_id)
    if not freshness:
        windows = windows.filter(freshness_only=False)
    return windows.exists()


def schedule(asset, *, by, reason, ends_at, starts_at=None, freshness_only=False):
    """Put an asset (or only its freshness check) in maintenance; only people who may change the asset can."""
    if not asset.can_edit(by):
        raise PermissionDenied("Only the owner, the owning team or staff can put this asset in maintenance.")
    window = MaintenanceWindow(
        asset=asset, set_by=by, reason=reason, ends_at=ends_at, starts_at=starts_at or timezone.now(),
        freshness_only=freshness_only,
    )  # fmt: skip
    window.full_clean()
    with transaction.atomic():
        window.save()
        # The badge reads windows: it and everything downstream are recomputed.
        policy_changed.send(sender=MaintenanceWindow, asset_ids=[asset.pk])
    return window


def snooze(asset, *, by, reason, hours, freshness_only=True):
    """A window from now for ``hours`` hours (the freshness check's by default)."""
    return schedule(
        asset, by=by, reason=reason, ends_at=timezone.now() + timedelta(hours=hours), freshness_only=freshness_only
    )


def end(window, *, by):
    """End a window early (it stays in the history)."""
    if not window.asset.can_edit(by):
        raise PermissionDenied("Only the owner, the owning team or staff can end this maintenance window.")
    now = timezone.now()
    with transaction.atomic():
        if not MaintenanceWindow.objects.filter(pk=window.pk, ended_at__isnull=True, ends_at__gt=now).update(
            ended_at=now
        ):
            raise ValidationError("This maintenance window has already ended.")
        policy_changed.send(sender=MaintenanceWindow, asset_ids=[window.asset_id])
    window.refresh_from_db()
    return window
