"""Daily and weekly digests: the non-critical news a person chose to read in one message per channel.

``notify`` and ``deliver`` (``core.notifications``) leave such news as ``DigestItem`` rows; beat runs
``send_digests`` for each cadence (daily every morning, weekly on Mondays). Each person's waiting items are claimed
with a compare-and-set on ``sent_at`` before anything is sent, so two runs at once (or a retried one) send every
item once: the run that claimed it.
"""

from collections import defaultdict

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.utils import timezone

from core.choices import Cadence, Channel, NotificationKind
from core.models import DigestItem, Notification
from core.notifications import Message, email_of, post_to_webhook

# People handled per claim: a digest run over thousands of people holds no lock for long.
DIGEST_BATCH = 200


def _claim(cadence, now, **whose):
    """The waiting items of these people (or teams) that this run claimed; rows another run holds or sent are
    skipped."""
    with transaction.atomic():
        ids = list(
            DigestItem.objects.filter(cadence=cadence, sent_at__isnull=True, **whose)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        DigestItem.objects.filter(pk__in=ids, sent_at__isnull=True).update(sent_at=now)
    claimed = DigestItem.objects.filter(pk__in=ids, sent_at=now)
    return claimed.select_related("recipient", "team").order_by("created_at", "pk")


def _text(items):
    lines = []
    for item in items:
        link = f"{settings.PORTAL_BASE_URL}{item.url}" if item.url else ""
        lines += [f"• {item.title}", *([item.body] if item.body else []), *([link] if link else []), ""]
    return "\n".join(lines).strip()


def send_digests(cadence, now=None):
    """Send every waiting digest of ``cadence`` (daily or weekly): one inbox message and one email per person.
    Returns how many items were sent."""
    if cadence not in (Cadence.DAILY, Cadence.WEEKLY):
        raise ValueError(f"No digest is sent for {cadence!r}.")
    now = now or timezone.now()
    label = Cadence(cadence).label.lower()
    waiting = DigestItem.objects.filter(cadence=cadence, sent_at__isnull=True, recipient__isnull=False)
    people = list(waiting.values_list("recipient", flat=True).distinct().order_by("recipient"))
    sent = _send_team_digests(cadence, label, now)
    for start in range(0, len(people), DIGEST_BATCH):
        by_person = defaultdict(lambda: defaultdict(list))
        for item in _claim(cadence, now, recipient__in=people[start : start + DIGEST_BATCH]):
            by_person[item.recipient][item.channel].append(item)
            sent += 1
        inbox, emails = [], []
        for person, channels in by_person.items():
            for channel, items in channels.items():
                title = f"Your {label}: {len(items)} update{'s' * (len(items) != 1)}"
                if channel == Channel.INBOX:
                    inbox.append(
                        Notification(recipient=person, kind=NotificationKind.DIGEST, title=title, body=_text(items))
                    )
                elif channel == Channel.EMAIL and person.email:
                    unsubscribe = list({(link["label"], link["url"]) for item in items for link in item.unsubscribe})
                    emails.append(email_of(Message(person, title, _text(items), unsubscribe=sorted(unsubscribe))))
        Notification.objects.bulk_create(inbox)
        if emails:
            get_connection(fail_silently=True).send_messages(emails)
    return sent


def _send_team_digests(cadence, label, now):
    """One webhook post per team with waiting items; returns how many items went."""
    by_team = defaultdict(list)
    for item in _claim(cadence, now, team__isnull=False):
        by_team[item.team].append(item)
    for team, items in by_team.items():
        if team.webhook_url:
            title = f"{team.name}'s {label}: {len(items)} update{'s' * (len(items) != 1)}"
            post_to_webhook(team.webhook_url, title, _text(items), settings.PORTAL_BASE_URL)
    return sum(len(items) for items in by_team.values())
