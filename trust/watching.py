"""Watching assets and reading notifications: the small actions the pages and the API share."""

from catalog.models import Watch


def watch(asset, user):
    """Start watching; True if the user was not watching already."""
    return Watch.objects.get_or_create(asset=asset, user=user)[1]


def unwatch(asset, user):
    return Watch.objects.filter(asset=asset, user=user).delete()[0] > 0


def is_watching(asset, user):
    return user.is_authenticated and Watch.objects.filter(asset=asset, user=user).exists()
