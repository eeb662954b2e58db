"""Telling people about things: one call creates the inbox rows and sends the emails.

Every feature that notifies (freshness, jobs, schema changes, issues, deprecations) calls ``notify``, so the
channels and the rules about who hears what live in one place.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db.models import Q

from monitoring.models import Notification


def audience_of(asset):
    """Everyone who should hear about an asset: its owner, the members of its team and its watchers."""
    users = get_user_model().objects.filter(is_active=True)
    who = Q(watches__asset=asset)
    if asset.owner_id:
        who |= Q(pk=asset.owner_id)
    if asset.team_id:
        who |= Q(teams__pk=asset.team_id)
    return users.filter(who).distinct()


def notify(recipients, *, kind, title, body="", url="", asset=None):
    """Put a notification in each recipient's inbox and email those with an address. Returns the rows created."""
    recipients = {user.pk: user for user in recipients if user.is_active}.values()
    rows = Notification.objects.bulk_create(
        Notification(recipient=user, asset=asset, kind=kind, title=title[:300], body=body, url=url)
        for user in recipients
    )
    link = f"{settings.PORTAL_BASE_URL}{url}" if url else settings.PORTAL_BASE_URL
    text = f"{body}\n\n{link}".strip()
    send_mass_mail(
        [(title, text, settings.DEFAULT_FROM_EMAIL, [user.email]) for user in recipients if user.email],
        fail_silently=True,
    )
    return rows
