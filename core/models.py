"""What every app shares: background job runs and the messages people receive.

These models moved here from ``monitoring`` and keep their tables (``db_table``); see ``core/migrations/0001``.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Value
from django.db.models.functions import Concat
from django.urls import reverse
from django.utils import timezone

from core.choices import JobKind, JobState, NotificationKind


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
    The row is created first and the Celery task enqueued when the transaction commits (``JobRun.enqueue``), so
    a worker never looks for a row that is not there yet. Every move is a compare-and-set on ``state``, so a
    retried or duplicated task cannot run a job twice or resurrect a cancelled one. ``heartbeat_at`` is touched
    while the job works; a run whose heartbeat is older than its time limit lost its worker.
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

    class Meta:
        db_table = "monitoring_jobrun"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["asset", "-created_at"], name="jobrun_asset_recent")]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} ({self.state})"

    def get_absolute_url(self):
        return reverse("core:job_detail", kwargs={"uuid": self.uuid})

    @classmethod
    def enqueue(cls, kind, *, asset=None, requested_by=None, params=None):
        """Create the run row and dispatch it to a worker once the surrounding transaction commits."""
        from core.tasks import run_job

        run = cls.objects.create(kind=kind, asset=asset, requested_by=requested_by, params=params or {})
        transaction.on_commit(lambda: run_job.delay(run.pk))
        return run

    @property
    def is_finished(self):
        return self.state in self.FINISHED

    def claim(self, task_id=""):
        """Move queued → running; False when another worker already has it or it was cancelled."""
        now = timezone.now()
        claimed = JobRun.objects.filter(pk=self.pk, state=JobState.QUEUED).update(
            state=JobState.RUNNING,
            started_at=now,
            heartbeat_at=now,
            celery_task_id=task_id,
            attempts=models.F("attempts") + 1,
        )
        if claimed:
            self.refresh_from_db()
        return claimed == 1

    def report(self, step, progress=None, log_line=""):
        """Record what the job is doing; also the heartbeat. Returns False if the run was cancelled meanwhile."""
        fields = {"step": step, "heartbeat_at": timezone.now()}
        if progress is not None:
            fields["progress"] = progress
        if log_line:
            self.log = (self.log + f"{timezone.now():%H:%M:%S} {log_line.rstrip()}\n")[-20_000:]
            fields["log"] = self.log
        updated = JobRun.objects.filter(pk=self.pk, state=JobState.RUNNING).update(**fields)
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
        updated = JobRun.objects.filter(pk=self.pk, state=JobState.RUNNING).update(**fields)
        if updated:
            self.refresh_from_db()
        return updated == 1

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

    def requeue(self, reason):
        """Running → queued, so that a retried task can claim it again after a transient error."""
        self.log = (self.log + f"{timezone.now():%Y-%m-%d %H:%M:%S} {reason}\n")[-20_000:]
        return (
            JobRun.objects.filter(pk=self.pk, state=JobState.RUNNING).update(
                state=JobState.QUEUED, step="waiting to retry", log=self.log
            )
            == 1
        )

    @classmethod
    def reap(cls, now=None):
        """Fail running jobs whose worker stopped sending heartbeats for longer than the task time limit.

        Late acknowledgement gives the task back to the broker when a worker dies, but a worker killed mid-task on
        a host that never comes back leaves the row "running"; this makes it failed so the owner can start again.
        Returns the runs reaped by this call (a concurrent reaper gets none of the same rows).
        """
        now = now or timezone.now()
        limit = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
        minutes = round(limit.total_seconds() / 60)
        reaped = []
        for run in cls.objects.filter(state=JobState.RUNNING, heartbeat_at__lt=now - limit).select_related("asset"):
            error = (
                f"Worker lost: no sign of life from the worker for more than {minutes} minutes. "
                "The job did not finish; start it again."
            )
            if cls.objects.filter(pk=run.pk, state=JobState.RUNNING).update(
                state=JobState.FAILED, finished_at=now, error=error, step="worker lost"
            ):
                run.refresh_from_db()
                reaped.append(run)
        return reaped


class NotificationPreference(models.Model):
    """Which channels a person wants alerts on. No row means the defaults: inbox and email."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    inbox = models.BooleanField("in-app inbox", default=True)
    email = models.BooleanField(default=True)
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
