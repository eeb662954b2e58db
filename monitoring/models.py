from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from monitoring.choices import JobKind, JobState, NotificationKind


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

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["asset", "-created_at"], name="jobrun_asset_recent")]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} ({self.state})"

    @classmethod
    def enqueue(cls, kind, *, asset=None, requested_by=None, params=None):
        """Create the run row and dispatch it to a worker once the surrounding transaction commits."""
        from monitoring.tasks import run_job

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
            state=JobState.RUNNING, started_at=now, heartbeat_at=now, celery_task_id=task_id
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
            self.log = (self.log + log_line.rstrip() + "\n")[-20_000:]
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
