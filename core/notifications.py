"""Telling people about things: one call creates the inbox rows, sends the emails and posts to the team's webhook.

Every feature that notifies (freshness, jobs, schema changes, issues, deprecations) calls ``notify``, so the
channels and the rules about who hears what live in one place. Each person chooses their channels
(``NotificationPreference``; no row means inbox and email); a team with a ``webhook_url`` gets a Slack-compatible
message for alerts on its assets, posted by a worker so a slow chat service never slows the caller.
"""

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone

from core.background import send
from core.models import Alert, Notification, NotificationPreference

# Who hears about an asset is the catalog's business (owners, teams, watchers): it registers the function in
# ``CatalogConfig.ready``, which every process (web, worker, beat, commands) runs at start-up.
_audience_provider = None


def provide_audience(function):
    """Register ``function(asset)`` → the active users who hear about ``asset``."""
    global _audience_provider
    _audience_provider = function
    return function


def audience_of(asset):
    """Everyone who should hear about an asset (see ``catalog.audience.audience_of``)."""
    return _audience_provider(asset)


def channels_of(users):
    """``{user_id: (inbox, email)}`` for these users, defaults filled in; one query."""
    chosen = {
        row.user_id: (row.inbox, row.email)
        for row in NotificationPreference.objects.filter(user__in=[user.pk for user in users])
    }
    return {user.pk: chosen.get(user.pk, (True, True)) for user in users}


def _fit_title(title, limit=300):
    """Titles are sentences the portal builds (from an asset's and an issue's names, each limited): the one place
    where text is shortened, visibly (an ellipsis), because nobody typed it as one field."""
    return title if len(title) <= limit else title[: limit - 1] + "…"


def notify(recipients, *, kind, title, body="", url="", asset=None):
    """Deliver one message to each recipient on the channels they chose, and to the asset's team webhook.

    Returns the inbox rows created.
    """
    recipients = list({user.pk: user for user in recipients if user.is_active}.values())
    channels = channels_of(recipients)
    rows = Notification.objects.bulk_create(
        Notification(recipient=user, asset=asset, kind=kind, title=_fit_title(title), body=body, url=url)
        for user in recipients
        if channels[user.pk][0]
    )
    link = f"{settings.PORTAL_BASE_URL}{url}" if url else settings.PORTAL_BASE_URL
    text = f"{body}\n\n{link}".strip()
    send_mass_mail(
        [
            (title, text, settings.DEFAULT_FROM_EMAIL, [user.email])
            for user in recipients
            if user.email and channels[user.pk][1]
        ],
        fail_silently=True,
    )
    team = getattr(asset, "team", None) if asset is not None else None
    if team is not None and team.webhook_url:
        from core.tasks import post_webhook

        payload = {"text": f"*{slack_escape(title)}*\n{slack_escape(body)}\n<{link}|Open in the portal>".strip()}
        transaction.on_commit(lambda: send(post_webhook, team.webhook_url, payload))
    return rows


def slack_escape(text):
    """``text`` as Slack mrkdwn shows it literally: no ``<!channel>`` pings, no disguised ``<url|label>`` links.

    Slack's rule is to escape exactly these three characters; everything else is shown as typed.
    """
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def raise_alert(asset, *, kind, title, body="", url="", also=(), **fields):
    """Record an alert in the history and tell the asset's audience (and ``also`` these people).

    Callers de-duplicate before calling: one call, one alert.
    """
    url = url or (asset.get_absolute_url() if asset is not None else "")
    recipients = [*(audience_of(asset) if asset is not None else []), *(user for user in also if user is not None)]
    recipients = list({user.pk: user for user in recipients}.values())
    notify(recipients, kind=kind, title=title, body=body, url=url, asset=asset)
    return Alert.objects.create(
        asset=asset, kind=kind, title=_fit_title(title), body=body, url=url, recipient_count=len(recipients), **fields
    )


def mark_read(user, notification_ids=None):
    """Mark the user's notifications read (all unread ones without ids). Returns how many changed."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now())
