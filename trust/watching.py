"""Watching assets and reading notifications: the small actions the pages and the API share."""

from django.utils import timezone

from catalog.models import Watch
from monitoring.models import Notification


def watch(asset, user):
    """Start watching; True if the user was not watching already."""
    return Watch.objects.get_or_create(asset=asset, user=user)[1]


def unwatch(asset, user):
    return Watch.objects.filter(asset=asset, user=user).delete()[0] > 0


def is_watching(asset, user):
    return user.is_authenticated and Watch.objects.filter(asset=asset, user=user).exists()


def mark_read(user, notification_ids=None):
    """Mark the user's notifications read (all unread ones without ids). Returns how many changed."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now())
