"""Daily and weekly digests: the non-critical news a person chose to read in one message per channel.

``notify`` and ``deliver`` (``core.notifications``) leave such news as ``DigestItem`` rows. Each person chooses
the hour of their digests and the day of the weekly one (``NotificationPreference``), in their own time zone (their
profile's; the portal's when they set none). Beat runs ``send_digests`` for each cadence every hour: a person's
digest is due once the hour they chose has come (their "slot") while news older than that slot is waiting; it
sends everything they have waiting. The next run finds nothing older than the slot, so a digest goes once per slot
however many runs come in that hour. Teams' webhook digests come at 07:00 on Mondays in the portal's time zone.
Each person's waiting items are claimed with a compare-and-set on ``sent_at`` before anything is sent, so two
runs at once (or a retried one) send every item once: the run that claimed it.
"""

import zoneinfo
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from core.choices import Cadence, Channel, NotificationKind, Weekday
from core.models import DigestItem, Notification, NotificationPreference
from core.notifications import Message, email_of, post_to_webhook

# People handled per claim: a digest run over thousands of people holds no lock for long.
DIGEST_BATCH = 200


def last_slot(cadence, now, time_zone, hour, weekday=Weekday.MONDAY):
    """The latest moment at or before ``now`` when a digest of ``cadence`` was due: ``hour`` o'clock in
    ``time_zone`` (a name; empty: the portal's), on ``weekday`` for a weekly one."""
    try:
        zone = zoneinfo.ZoneInfo(time_zone) if time_zone else timezone.get_default_timezone()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):  # a name the profile form would refuse today
        zone = timezone.get_default_timezone()
    local = now.astimezone(zone)
    # Wall-clock arithmetic (aware datetimes in one zone): across a daylight-saving change the slot stays at the
    # chosen hour.
    slot = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    period = timedelta(days=1)
    if cadence == Cadence.WEEKLY:
        slot -= timedelta(days=(local.weekday() - weekday) % 7)
        period = timedelta(days=7)
    if slot > local:
        slot -= period
    return slot


def _due_people(cadence, now, waiting):
    """The ids of the people whose slot has come with news older than it waiting, from ``waiting``."""
    oldest = dict(waiting.values("recipient").annotate(first=Min("created_at")).values_list("recipient", "first"))
    if not oldest:
        return []
    when = (
        get_user_model()
        .objects.filter(pk__in=list(oldest))
        .values_list(
            "pk",
            "profile__time_zone",
            "notification_preference__digest_hour",
            "notification_preference__digest_weekday",
        )
    )
    due = []
    for pk, time_zone, hour, weekday in when:
        hour = NotificationPreference.DEFAULT_HOUR if hour is None else hour
        weekday = Weekday.MONDAY if weekday is None else weekday
        if oldest[pk] < last_slot(cadence, now, time_zone or "", hour, weekday):
            due.append(pk)
    return sorted(due)


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
    """Send the digests of ``cadence`` (daily or weekly) that are due (see the module): one inbox message and one
    email per person, with everything they have waiting. Returns how many items were sent."""
    if cadence not in (Cadence.DAILY, Cadence.WEEKLY):
        raise ValueError(f"No digest is sent for {cadence!r}.")
    now = now or timezone.now()
    label = Cadence(cadence).label.lower()
    waiting = DigestItem.objects.filter(cadence=cadence, sent_at__isnull=True, recipient__isnull=False)
    people = _due_people(cadence, now, waiting)
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
    slot = last_slot(cadence, now, "", NotificationPreference.DEFAULT_HOUR)
    waiting = DigestItem.objects.filter(cadence=cadence, sent_at__isnull=True, team__isnull=False)
    teams = list(waiting.values("team").annotate(first=Min("created_at")).filter(first__lt=slot).values_list("team"))
    if not teams:
        return 0
    by_team = defaultdict(list)
    for item in _claim(cadence, now, team__in=[pk for (pk,) in teams]):
        by_team[item.team].append(item)
    for team, items in by_team.items():
        if team.webhook_url:
            title = f"{team.name}'s {label}: {len(items)} update{'s' * (len(items) != 1)}"
            post_to_webhook(team.webhook_url, title, _text(items), settings.PORTAL_BASE_URL)
    return sum(len(items) for items in by_team.values())
