"""What every app shares: background job runs and the messages people receive.

These models moved here from ``monitoring`` and keep their tables (``db_table``); see ``core/migrations/0001``.
"""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Value
from django.db.models.functions import Concat
from django.urls import reverse
from django.utils import timezone

from core.choices import Cadence, Channel, JobKind, JobState, NotificationKind, Weekday

logger = logging.getLogger(__name__)


class Notification(models.Model):
    """One message in one person's inbox. Other channels (email, team webhook) are sent alongside it."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    asset = models.ForeignKey(
        "catalog.Asset", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices, default=NotificationKind.OTHER)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True, help_text="Where the notification leads, a path in the portal.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "monitoring_notification"
        ordering = ["-created_at"]
        indexes = [
            # The unread badge in the navigation runs this on every page.
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
        ]

    def __str__(self):
        return self.title


class JobRun(models.Model):
    """One run of a background job, the row the pages show and the worker moves through its states.

    State machine: queued → running → succeeded | failed | cancelled; queued → cancelled.
    The row is created first and the Celery task sent when the transaction commits (``JobRun.enqueue``), so a
    worker never looks for a row that is not there yet. The row is the outbox: sending is best effort
    (``dispatch``), ``dispatched_at`` records the last send, and the relay on beat (``core.tasks.relay_queued_jobs``)
    sends again the queued rows never sent or overdue (a broker that was down, or restarted empty). Every move is
    a compare-and-set on ``state``, so a retried or duplicated task cannot run a job twice or resurrect a
    cancelled one. ``heartbeat_at`` is touched every few seconds while the job works (``core.tasks`` beats it
    from a thread); a run whose heartbeat is older than ``JOB_HEARTBEAT_TIMEOUT`` lost its worker.
    """

    FINISHED = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=30, choices=JobKind.choices, db_index=True)
    asset = models.ForeignKey(
        "catalog.Asset", null=True, blank=True, on_delete=models.SET_NULL, related_name="job_runs"
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    state = models.CharField(max_length=20, choices=JobState.choices, default=JobState.QUEUED, db_index=True)
    step = models.CharField(max_length=50, blank=True, help_text="What the job is doing now, in plain words.")
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    log = models.TextField(blank=True)
    celery_task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="How many times a worker started this run.")
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="When its task was last handed to the broker (or, for a retry, is due)."
    )
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries",
        help_text="The failed or lost run this one starts again.",
    )  # fmt: skip

    class Meta:
        db_table = "monitoring_jobrun"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["asset", "-created_at"], name="jobrun_asset_recent")]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} ({self.state})"

    def get_absolute_url(self):
        return reverse("core:job_detail", kwargs={"uuid": self.uuid})

    @classmethod
    def enqueue(cls, kind, *, asset=None, requested_by=None, params=None, retry_of=None):
        """Create the run row and send it to a worker once the surrounding transaction commits. The row is what
        counts: when the broker cannot take the task now, the relay sends it later (``dispatch``)."""
        run = cls.objects.create(
            kind=kind, asset=asset, requested_by=requested_by, params=params or {}, retry_of=retry_of
        )
        transaction.on_commit(run.dispatch, robust=True)
        return run

    def dispatch(self):
        """Hand the run to the broker, best effort: True when sent. A broker that is down is logged, not raised,
        so the request that committed the row answers success; ``dispatched_at`` stays as it was and the relay on
        beat sends it again. Publishing gives up fast (``CELERY_TASK_PUBLISH_RETRY_POLICY``)."""
        from core.tasks import run_job

        try:
            run_job.apply_async(args=[self.pk])
        except Exception as exc:  # any broker or network error: the relay catches up
            logger.warning("Job run %s not sent to the broker (the relay will send it): %s", self.pk, exc)
            return False
        now = timezone.now()
        JobRun.objects.filter(pk=self.pk).update(dispatched_at=now)
        self.dispatched_at = now
        return True

    @property
    def is_waiting(self):
        """Queued and not sent (the broker was down), or queued for longer than a worker normally takes to pick a
        run up: the page says it waits for a worker."""
        if self.state != JobState.QUEUED:
            return False
        if self.dispatched_at is None:
            return True
        return timezone.now() - self.created_at > timedelta(seconds=settings.JOB_WAITING_NOTICE)

    def queued_message(self, text):
        """What to tell the person who just started the run: ``text`` when its task was sent, else that it is
        saved and waits for a worker (the relay sends it when the job service is back)."""
        if self.dispatched_at is not None:
            return text
        return (
            "Saved. The job service cannot be reached right now: the run waits for a worker and starts by itself "
            "when the service is back; no need to start it again."
        )

    @classmethod
    def to_relay(cls, now=None):
        """Queued runs whose task was never sent (older than a grace for the on-commit send) or is overdue (sent,
        or due for a retry, more than ``JOB_DISPATCH_OVERDUE`` seconds ago and still not claimed)."""
        now = now or timezone.now()
        never_sent = models.Q(dispatched_at__isnull=True, created_at__lt=now - timedelta(seconds=5))
        overdue = models.Q(dispatched_at__lt=now - timedelta(seconds=settings.JOB_DISPATCH_OVERDUE))
        return cls.objects.filter(never_sent | overdue, state=JobState.QUEUED).order_by("created_at")

    @property
    def is_finished(self):
        return self.state in self.FINISHED

    def claim(self, task_id=""):
        """Move queued → running; False when another worker already has it or it was cancelled.

        A row already "running" is taken over (compare-and-set on state and heartbeat) when its worker is lost:
        its heartbeat is older than ``JOB_HEARTBEAT_TIMEOUT``, or it is this very task's row (``task_id``) coming
        back, redelivered after its pool process died or retried after a failed requeue: a message runs in one
        place at a time, so its earlier delivery has ended."""
        now = timezone.now()
        mine = JobRun.objects.filter(pk=self.pk, state=JobState.QUEUED)
        if self.state == JobState.RUNNING and (
            (task_id and self.celery_task_id == task_id) or self.heartbeat_is_stale(now)
        ):
            mine = JobRun.objects.filter(pk=self.pk, state=JobState.RUNNING, heartbeat_at=self.heartbeat_at)
        claimed = mine.update(
            state=JobState.RUNNING,
            started_at=now,
            heartbeat_at=now,
            celery_task_id=task_id,
            attempts=models.F("attempts") + 1,
        )
        if claimed:
            self.refresh_from_db()
        return claimed == 1

    def heartbeat_is_stale(self, now=None):
        timeout = timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT)
        return self.heartbeat_at is None or self.heartbeat_at < (now or timezone.now()) - timeout

    def _mine(self):
        """The row while it runs with this task: once cancelled, reaped or taken over by another task after this
        one went silent, a late write from this one changes nothing."""
        return JobRun.objects.filter(pk=self.pk, state=JobState.RUNNING, celery_task_id=self.celery_task_id)

    def beat(self):
        """The heartbeat alone (the worker's heartbeat thread); False once the run is no longer this worker's."""
        return self._mine().update(heartbeat_at=timezone.now()) == 1

    def report(self, step, progress=None, log_line=""):
        """Record what the job is doing; also the heartbeat. Returns False if the run was cancelled meanwhile."""
        fields = {"step": step, "heartbeat_at": timezone.now()}
        if progress is not None:
            fields["progress"] = progress
        if log_line:
            self.log = (self.log + f"{timezone.now():%H:%M:%S} {log_line.rstrip()}\n")[-20_000:]
            fields["log"] = self.log
        updated = self._mine().update(**fields)
        for name, value in fields.items():
            setattr(self, name, value)
        return updated == 1

    def finish(self, state, *, result=None, error=""):
        """Move running → a final state; False if it was already final (cancelled, or reaped)."""
        fields = {"state": state, "finished_at": timezone.now(), "error": error[:5000]}
        if state == JobState.SUCCEEDED:
            fields.update(progress=100, step="done")
        if result is not None:
            fields["result"] = result
        updated = self._mine().update(**fields)
        if updated:
            self.refresh_from_db()
        return updated == 1

    def can_retry(self, user):
        """A failed (or lost) run is started again by whoever could start it: its starter, anyone who may edit its
        asset, and staff."""
        if not user.is_authenticated or self.state != JobState.FAILED:
            return False
        if user.is_staff or (self.requested_by_id and self.requested_by_id == user.pk):
            return True
        return self.asset is not None and self.asset.can_edit(user)

    def retry(self, by):
        """A new run of the same kind, asset and parameters, started by ``by``."""
        return JobRun.enqueue(self.kind, asset=self.asset, requested_by=by, params=self.params, retry_of=self)

    def shows_detail_to(self, user, visibility=None):
        """Whether ``user`` may read this run's parameters, log, error and result (see ``DetailVisibility``)."""
        return (visibility or DetailVisibility(user)).allows(self)

    def can_cancel(self, user):
        """The person who started it, anyone who may edit its asset, and staff."""
        if not user.is_authenticated or self.is_finished:
            return False
        if user.is_staff or (self.requested_by_id and self.requested_by_id == user.pk):
            return True
        return self.asset is not None and self.asset.can_edit(user)

    def cancel(self, by=None):
        """Queued or running → cancelled. A running handler notices at its next ``report()`` and stops."""
        who = f" by {by}" if by else ""
        line = f"{timezone.now():%Y-%m-%d %H:%M:%S} cancelled{who}\n"
        updated = JobRun.objects.filter(pk=self.pk, state__in=[JobState.QUEUED, JobState.RUNNING]).update(
            state=JobState.CANCELLED, finished_at=timezone.now(), step="cancelled", log=Concat("log", Value(line))
        )
        if updated:
            self.refresh_from_db()
        return updated == 1

    def requeue(self, reason, due_in=0):
        """Running → queued, so that a retried task can claim it again after a transient error. ``due_in``: seconds
        until the retry is due, so the relay does not send it before then."""
        self.log = (self.log + f"{timezone.now():%Y-%m-%d %H:%M:%S} {reason}\n")[-20_000:]
        return (
            self._mine().update(
                state=JobState.QUEUED, step="waiting to retry", log=self.log,
                dispatched_at=timezone.now() + timedelta(seconds=due_in),
            )
            == 1
        )  # fmt: skip

    @classmethod
    def reap(cls, now=None):
        """Fail running jobs whose heartbeat is older than ``JOB_HEARTBEAT_TIMEOUT``: their worker was lost.

        The worker beats every running job's heartbeat from a thread every few seconds, so a silent row means its
        worker process died (killed, out of memory, its host gone) or cannot reach the database. A redelivered task
        takes such a row over if it comes first (``claim``); otherwise this makes it failed, the owner is told and
        can start it again (Retry). Returns the runs reaped by this call (a concurrent reaper gets none of them).
        """
        now = now or timezone.now()
        limit = timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT)
        reaped = []
        for run in cls.objects.filter(state=JobState.RUNNING, heartbeat_at__lt=now - limit).select_related("asset"):
            error = (
                f"Worker lost: no sign of life from the worker for more than {limit.total_seconds():.0f} seconds. "
                "The job did not finish; start it again."
            )
            if cls.objects.filter(pk=run.pk, state=JobState.RUNNING, heartbeat_at=run.heartbeat_at).update(
                state=JobState.FAILED, finished_at=now, error=error, step="worker lost"
            ):
                run.refresh_from_db()
                reaped.append(run)
        return reaped


class DetailVisibility:
    """Who may read a job run's parameters, log, error and result: the person who started it, the owner and team of
    its asset, and staff. Everyone else sees its kind, asset, state, step and progress: parameters and logs can name
    hosts, tables, paths and what a source answered. The user's teams are read once, and only if a run needs them,
    so a list costs one query at most."""

    def __init__(self, user):
        self.user = user
        self._teams = None

    def allows(self, run):
        user = self.user
        if user is None or not user.is_authenticated:
            return False
        if user.is_staff or (run.requested_by_id is not None and run.requested_by_id == user.pk):
            return True
        if run.asset_id is None:
            return False
        asset = run.asset
        if asset.owner_id == user.pk:
            return True
        if asset.team_id is None:
            return False
        if self._teams is None:
            self._teams = set(user.teams.values_list("pk", flat=True))
        return asset.team_id in self._teams


class NotificationPreference(models.Model):
    """Which channels a person wants alerts on, and how often each delivers non-critical news (at once, or in a
    daily or weekly digest; critical news is always immediate), and when the digests come: at ``digest_hour`` in
    the person's own time zone (their profile's), the weekly one on ``digest_weekday``. No row means the defaults:
    inbox and email, both immediately; digests at 07:00 on Mondays."""

    DEFAULT_HOUR = 7

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    inbox = models.BooleanField("in-app inbox", default=True)
    email = models.BooleanField(default=True)
    inbox_cadence = models.CharField(max_length=10, choices=Cadence.choices, default=Cadence.IMMEDIATE)
    email_cadence = models.CharField(max_length=10, choices=Cadence.choices, default=Cadence.IMMEDIATE)
    digest_hour = models.PositiveSmallIntegerField(
        "hour of your digests",
        choices=[(hour, f"{hour:02}:00") for hour in range(24)],
        default=DEFAULT_HOUR,
        help_text="Daily and weekly digests come at this hour, in your own time zone (set on your profile).",
    )
    digest_weekday = models.PositiveSmallIntegerField(
        "day of your weekly digest",
        choices=Weekday.choices,
        default=Weekday.MONDAY,
        help_text="The weekly digest comes on this day, at the hour above.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "monitoring_notificationpreference"

    def __str__(self):
        return f"Channels of {self.user}"


class Alert(models.Model):
    """One announced event on an asset: a freshness transition, a failed job, a drifting pipeline run.

    The row is the alert history; the inbox rows, emails and webhooks sent for it are its deliveries.
    """

    asset = models.ForeignKey("catalog.Asset", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    # A freshness transition's statuses (``monitoring.choices.FreshnessStatus`` values); blank for other alerts.
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10, blank=True)
    job_run = models.ForeignKey(JobRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    recipient_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "monitoring_alert"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["asset", "-created_at"], name="alert_asset_recent")]

    def __str__(self):
        return self.title


class DigestItem(models.Model):
    """One piece of non-critical news held back for a person's daily or weekly digest on one channel.

    States: waiting (``sent_at`` empty) → sent. The digest run claims a person's waiting items with a
    compare-and-set on ``sent_at`` (``core.digests.send_digests``), so two runs at once send each item once.
    ``headers`` carries what an email of it would carry (the unsubscribe links of the watches it came from).
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="digest_items"
    )
    # A team's webhook digest (channel "webhook") has a team and no recipient.
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    cadence = models.CharField(max_length=10, choices=Cadence.choices)
    kind = models.CharField(max_length=20, choices=NotificationKind.choices, default=NotificationKind.OTHER)
    asset = models.ForeignKey("catalog.Asset", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    unsubscribe = models.JSONField(default=list, blank=True, help_text="[{label, url}] of the watches it came from.")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            # The digest run reads only the waiting items of one cadence.
            models.Index(
                fields=["cadence", "recipient"], condition=models.Q(sent_at__isnull=True), name="digest_waiting"
            )
        ]

    def __str__(self):
        return f"{self.title} (for {self.recipient or self.team}, {self.cadence})"
