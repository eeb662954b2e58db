"""Telling people about things: one call creates the inbox rows, sends the emails and posts to the team's webhook.

Every feature that notifies (freshness, jobs, schema changes, issues, deprecations) calls ``notify``, so the
channels and the rules about who hears what live in one place. Each person chooses their channels
(``NotificationPreference``; no row means inbox and email); a team with a ``webhook_url`` gets a Slack-compatible
message for alerts on its assets, posted by a worker so a slow chat service never slows the caller.

Each channel also has a cadence: news that is not urgent waits as a ``DigestItem`` for a person who chose a daily
or weekly digest on that channel (``core.digests`` sends them); urgent news (a critical problem) always goes at
once. ``deliver`` sends messages whose text differs per person (a grouped message listing that person's assets),
with the unsubscribe links of the watches it came from, as links in the text and as ``List-Unsubscribe`` headers.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage, get_connection, send_mass_mail
from django.db import transaction
from django.utils import timezone

from core.background import send
from core.choices import Cadence, Channel
from core.models import Alert, DigestItem, Notification, NotificationPreference

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


@dataclass(frozen=True)
class Channels:
    """A person's channels and the cadence of each (see ``NotificationPreference``)."""

    inbox: bool = True
    email: bool = True
    inbox_cadence: str = Cadence.IMMEDIATE
    email_cadence: str = Cadence.IMMEDIATE

    def __getitem__(self, index):
        # ``channels[user][0]`` is the inbox, ``[1]`` the email, as before cadences came.
        return (self.inbox, self.email)[index]

    def cadence(self, channel, urgent=False):
        return Cadence.IMMEDIATE if urgent else getattr(self, f"{channel}_cadence")


def channels_of(users):
    """``{user_id: Channels}`` for these users, defaults filled in; one query."""
    chosen = {
        row.user_id: Channels(row.inbox, row.email, row.inbox_cadence, row.email_cadence)
        for row in NotificationPreference.objects.filter(user__in=[user.pk for user in users])
    }
    return {user.pk: chosen.get(user.pk, Channels()) for user in users}


def _fit_title(title, limit=300):
    """Titles are sentences the portal builds (from an asset's and an issue's names, each limited): the one place
    where text is shortened, visibly (an ellipsis), because nobody typed it as one field."""
    return title if len(title) <= limit else title[: limit - 1] + "…"


def notify(recipients, *, kind, title, body="", url="", asset=None, urgent=False):
    """Deliver one message to each recipient on the channels they chose, and to the asset's team webhook.

    Recipients who chose a digest on a channel get the message in their next digest there, unless it is
    ``urgent``. Returns the inbox rows created.
    """
    recipients = list({user.pk: user for user in recipients if user.is_active}.values())
    channels = channels_of(recipients)
    waiting = []

    def now_on(user, channel):
        if not getattr(channels[user.pk], channel):
            return False
        cadence = channels[user.pk].cadence(channel, urgent)
        if cadence == Cadence.IMMEDIATE:
            return True
        waiting.append(_digest_item(user, channel, cadence, kind, (title, body, url, ()), asset))
        return False

    rows = Notification.objects.bulk_create(
        Notification(recipient=user, asset=asset, kind=kind, title=_fit_title(title), body=body, url=url)
        for user in recipients
        if now_on(user, Channel.INBOX)
    )
    link = f"{settings.PORTAL_BASE_URL}{url}" if url else settings.PORTAL_BASE_URL
    text = f"{body}\n\n{link}".strip()
    send_mass_mail(
        [
            (title, text, settings.DEFAULT_FROM_EMAIL, [user.email])
            for user in recipients
            if user.email and now_on(user, Channel.EMAIL)
        ],
        fail_silently=True,
    )
    DigestItem.objects.bulk_create(waiting)
    team = getattr(asset, "team", None) if asset is not None else None
    if team is not None and team.webhook_url:
        post_to_webhook(team.webhook_url, title, body, link)
    return rows


def _digest_item(user, channel, cadence, kind, message, asset):
    """``message``: ``(title, body, url, unsubscribe)``."""
    title, body, url, unsubscribe = message
    return DigestItem(
        recipient=user, channel=channel, cadence=cadence, kind=kind, title=_fit_title(title), body=body, url=url,
        asset=asset, unsubscribe=[{"label": label, "url": link} for label, link in unsubscribe],
    )  # fmt: skip


@dataclass
class Message:
    """One person's own message: ``unsubscribe`` lists ``(label, absolute url)`` of the watches it came from."""

    user: object
    title: str
    body: str
    url: str = ""
    unsubscribe: list = field(default_factory=list)


def email_of(message):
    """The email for ``message``: the text, the link, its unsubscribe links, and for the first of them the
    ``List-Unsubscribe`` headers (RFC 2369 and RFC 8058's one-click POST)."""
    link = f"{settings.PORTAL_BASE_URL}{message.url}" if message.url else settings.PORTAL_BASE_URL
    lines = [message.body, "", link]
    headers = {}
    if message.unsubscribe:
        lines += ["", "You receive this because you watch:"]
        lines += [f"- {label}: stop watching it with one click: {url}" for label, url in message.unsubscribe]
        headers = {
            "List-Unsubscribe": f"<{message.unsubscribe[0][1]}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    return EmailMessage(
        message.title, "\n".join(lines).strip(), settings.DEFAULT_FROM_EMAIL, [message.user.email], headers=headers
    )


def deliver(messages, *, kind, urgent=False, asset=None):
    """Send each person their own message on the channels they chose: at once when ``urgent`` or when they chose
    "immediately", else into their digest. Returns ``(inbox rows, emails sent, digest items)``."""
    messages = [message for message in messages if message.user.is_active]
    channels = channels_of([message.user for message in messages])
    inbox, emails, waiting = [], [], []
    for message in messages:
        chosen = channels[message.user.pk]
        for channel in (Channel.INBOX, Channel.EMAIL):
            if not getattr(chosen, channel) or (channel == Channel.EMAIL and not message.user.email):
                continue
            cadence = chosen.cadence(channel, urgent)
            if cadence != Cadence.IMMEDIATE:
                waiting.append(
                    _digest_item(
                        message.user, channel, cadence, kind,
                        (message.title, message.body, message.url, message.unsubscribe), asset,
                    )
                )  # fmt: skip
            elif channel == Channel.INBOX:
                inbox.append(
                    Notification(
                        recipient=message.user, asset=asset, kind=kind, title=_fit_title(message.title),
                        body=message.body, url=message.url,
                    )
                )  # fmt: skip
            else:
                emails.append(email_of(message))
    rows = Notification.objects.bulk_create(inbox)
    DigestItem.objects.bulk_create(waiting)
    if emails:
        get_connection(fail_silently=True).send_messages(emails)
    return rows, len(emails), len(waiting)


def to_team_webhook(team, *, kind, title, body, url="", urgent=False, asset=None):
    """Post to a team's webhook now, or (not urgent, and the team chose a digest) keep it for the team's digest."""
    if not urgent and team.webhook_cadence != Cadence.IMMEDIATE:
        return DigestItem.objects.create(
            team=team, channel=Channel.WEBHOOK, cadence=team.webhook_cadence, kind=kind, title=_fit_title(title),
            body=body, url=url, asset=asset,
        )  # fmt: skip
    post_to_webhook(team.webhook_url, title, body, f"{settings.PORTAL_BASE_URL}{url}")
    return None


def post_to_webhook(url, title, body, link):
    """Post a Slack-compatible message to a team's webhook once the transaction commits, by a worker."""
    from core.tasks import post_webhook

    payload = {"text": f"*{slack_escape(title)}*\n{slack_escape(body)}\n<{link}|Open in the portal>".strip()}
    transaction.on_commit(lambda: send(post_webhook, url, payload))


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
