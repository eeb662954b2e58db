import re
import uuid
import zoneinfo
from datetime import timedelta

from croniter import croniter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Case, F, Value, When
from django.db.models.functions import Concat
from django.urls import reverse
from django.utils import timezone

from catalog.choices import AssetKind, SourceKind
from monitoring.choices import (
    BOARD_ORDER,
    DriftMeasure,
    FreshnessMethod,
    FreshnessStatus,
    JobKind,
    JobState,
    NotificationKind,
    PingKind,
    ScheduleKind,
)

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
SQL_SOURCES = (SourceKind.POSTGRESQL, SourceKind.SQLITE, SourceKind.MYSQL)


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
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["asset", "-created_at"], name="jobrun_asset_recent")]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} ({self.state})"

    def get_absolute_url(self):
        return reverse("monitoring:job_detail", kwargs={"uuid": self.uuid})

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

    def __str__(self):
        return f"Channels of {self.user}"


class FreshnessPolicyQuerySet(models.QuerySet):
    def with_board_status(self):
        """Annotate ``board_status``, the status of the last check (unknown before the first), and ``board_rank``,
        its place on the board, so a board of any size is counted, filtered and paged by the database."""
        status = Case(
            When(announced_status="", then=Value(FreshnessStatus.UNKNOWN.value)), default=F("announced_status")
        )
        rank = Case(
            *(When(board_status=value, then=Value(place)) for place, value in enumerate(BOARD_ORDER)),
            output_field=models.IntegerField(),
        )
        return self.annotate(board_status=status).annotate(board_rank=rank)

    def in_board_order(self):
        return self.order_by("board_rank", "asset__name", "pk")

    def board_slice(self, counts, start, stop):
        """Rows ``start:stop`` of ``with_board_status()`` in board order (status, then name), given ``counts`` by
        status. Only the statuses falling in that range are read, so the first page of a board of thousands joins
        its few stale policies to their assets, not every policy."""
        skipped, seen, wanted = 0, 0, []
        for status in BOARD_ORDER:
            count = counts.get(status, 0)
            if seen + count <= start:
                skipped += count
            elif seen < stop:
                wanted.append(status)
            seen += count
        in_order = self.filter(board_status__in=wanted).in_board_order()
        # The ids first: ordering needs only each asset's name, which its index holds, not its whole row.
        ids = list(in_order.values_list("pk", flat=True)[start - skipped : stop - skipped])
        return sorted(self.filter(pk__in=ids), key=lambda policy: ids.index(policy.pk))

    def waiting_for_a_check(self, now=None):
        """Policies whose deadline has passed and that the sweep has not checked yet: their status may be old."""
        return self.filter(paused=False, next_check_at__lt=(now or timezone.now()) - timedelta(minutes=2))


class FreshnessPolicy(models.Model):
    """How fresh an asset must be and how the portal finds out when it last changed.

    Status is computed from timestamps (``status_at``), never stored as truth. Two things are stored: the
    timestamps the probes and pings observed, and ``next_check_at``, the one deadline the sweep looks for
    (indexed; NULL when nothing can change without a ping). ``announced_status`` is the last status people were
    told about; moving it is a compare-and-set, so two sweepers cannot announce the same transition twice.
    """

    asset = models.OneToOneField("catalog.Asset", on_delete=models.CASCADE, related_name="freshness_policy")
    method = models.CharField(max_length=20, choices=FreshnessMethod.choices)
    schedule_kind = models.CharField(max_length=10, choices=ScheduleKind.choices, default=ScheduleKind.PERIOD)
    period = models.DurationField(
        null=True, blank=True, help_text="How often new data is expected, e.g. '1 00:00:00' for daily."
    )
    cron = models.CharField(
        max_length=100, blank=True, help_text="When new data is expected, in cron syntax, e.g. '0 6 * * 1-5'."
    )
    time_zone = models.CharField(max_length=64, default="UTC", help_text="The time zone the cron schedule is in.")
    grace = models.DurationField(
        default=timedelta(hours=1), help_text="How long after the due time the data is late before it is stale."
    )
    timestamp_column = models.CharField(
        max_length=100, blank=True, help_text="SQL: the column holding each row's update time."
    )
    sql_filter = models.CharField(
        max_length=300, blank=True, help_text="SQL: an optional condition, e.g. status = 'shipped'."
    )
    file_path = models.CharField(
        max_length=300, blank=True, help_text="File: path under DATA_ROOT; the dataset's own path when empty."
    )
    url = models.URLField("URL", max_length=500, blank=True, help_text="HTTP: the address to ask.")
    json_field = models.CharField(
        "JSON field",
        max_length=100,
        blank=True,
        help_text="HTTP: dotted path of a timestamp in the JSON answer, e.g. 'meta.updated_at'. "
        "The Last-Modified header when empty.",
    )
    ping_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    timeout_seconds = models.PositiveSmallIntegerField(default=10, help_text="How long a probe may take.")
    paused = models.BooleanField(default=False)

    last_seen_at = models.DateTimeField(null=True, blank=True, help_text="When the data last changed, as observed.")
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_failed_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    probe_error = models.TextField(blank=True)
    announced_status = models.CharField(max_length=10, choices=FreshnessStatus.choices, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FreshnessPolicyQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "freshness policies"
        indexes = [
            # The sweep's only query: what is due now. Most rows are not, and NULL means "waiting for a ping".
            models.Index(
                fields=["next_check_at"],
                name="freshness_due",
                condition=models.Q(next_check_at__isnull=False, paused=False),
            )
        ]

    def __str__(self):
        return f"Freshness of {self.asset}"

    def get_absolute_url(self):
        return reverse("monitoring:freshness_detail", kwargs={"uuid": self.asset.uuid})

    @property
    def method_name(self):
        """The method's short name ("SQL", "Heartbeat") for tables."""
        return self.get_method_display().split(":")[0]

    @property
    def is_probed(self):
        return self.method != FreshnessMethod.HEARTBEAT

    def clean(self):
        errors = {
            **self._clean_schedule(),
            **self._clean_limits(),
            **self._clean_asset(),
            **self._clean_method(self._dataset()),
        }
        if errors:
            raise ValidationError(errors)

    def _dataset(self):
        """The policy's dataset, or None when its asset is not a dataset (or not chosen yet)."""
        asset = self.asset if self.asset_id else None
        if asset is None or asset.kind != AssetKind.DATASET:
            return None
        return getattr(asset, "dataset", None)

    # Each ``_clean_*`` returns ``{field: message}`` for what is wrong in its part of the form.
    def _clean_schedule(self):
        if self.schedule_kind == ScheduleKind.PERIOD:
            if not self.period or self.period <= timedelta(0):
                return {"period": "Say how often new data is expected, e.g. '1 00:00:00' for daily."}
            return {}
        errors = {}
        if not self.cron or not croniter.is_valid(self.cron):
            errors["cron"] = "Give a cron schedule of five fields, e.g. '0 6 * * *' for 06:00 every day."
        try:
            zoneinfo.ZoneInfo(self.time_zone or "")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            errors["time_zone"] = f"'{self.time_zone}' is not a time zone; use a name like Europe/Paris."
        return errors

    def _clean_limits(self):
        errors = {}
        if self.grace is not None and self.grace < timedelta(0):
            errors["grace"] = "The grace time cannot be negative."
        if not 1 <= (self.timeout_seconds or 0) <= 120:
            errors["timeout_seconds"] = "A probe may take between 1 and 120 seconds."
        return errors

    def _clean_asset(self):
        if self.asset_id and self.asset.kind not in (AssetKind.DATASET, AssetKind.REPORT, AssetKind.PIPELINE):
            return {"asset": "Freshness applies to datasets, reports and pipelines."}
        return {}

    def _clean_method(self, dataset):
        if self.method == FreshnessMethod.SQL:
            return self._clean_sql(dataset)
        if self.method == FreshnessMethod.FILE:
            return self._clean_file(dataset)
        if self.method == FreshnessMethod.HTTP and not self.url:
            return {"url": "Give the address to ask."}
        return {}

    def _clean_sql(self, dataset):
        errors = {}
        if dataset is None:
            errors["method"] = "The SQL method reads a dataset's table; this asset is not a dataset."
        elif dataset.source.source_kind not in SQL_SOURCES:
            errors["method"] = (
                f"The dataset lives in a {dataset.source.get_source_kind_display()} source; the SQL method "
                "reads PostgreSQL, SQLite and MySQL tables."
            )
        if not IDENTIFIER.match(self.timestamp_column or ""):
            errors["timestamp_column"] = "Name the timestamp column (letters, digits and underscores)."
        elif (
            dataset is not None
            and dataset.columns.exists()
            and not dataset.columns.filter(name=self.timestamp_column).exists()
        ):
            errors["timestamp_column"] = f"The dataset has no recorded column '{self.timestamp_column}'."
        if any(token in self.sql_filter for token in (";", "--", "/*")):
            errors["sql_filter"] = "The filter is one condition: no semicolons or comments."
        return errors

    def _clean_file(self, dataset):
        if not self.file_path and dataset is None:
            return {"file_path": "Give the file's path under DATA_ROOT."}
        if self.file_path.startswith("/") or ".." in self.file_path.split("/"):
            return {"file_path": "The path is relative to DATA_ROOT and stays inside it."}
        return {}

    # --- status, computed ---------------------------------------------------------------------------------------
    def due_after(self, moment):
        """When the next update is expected, given the data last changed at ``moment``."""
        if self.schedule_kind == ScheduleKind.CRON:
            zone = zoneinfo.ZoneInfo(self.time_zone)
            return croniter(self.cron, moment.astimezone(zone)).get_next(type(moment)).astimezone(moment.tzinfo)
        return moment + self.period

    def status_at(self, now=None):
        """``(status, reason)`` at ``now``, from the stored timestamps alone."""
        now = now or timezone.now()
        return self._overriding_status(now) or self._scheduled_status(now)

    def _overriding_status(self, now):
        """What holds whatever the schedule says: paused, a failing check, a failed or overrunning run; else None."""
        if self.paused:
            return FreshnessStatus.UNKNOWN, "Checks are paused."
        if self.is_probed and self.probe_error:
            return FreshnessStatus.UNKNOWN, f"The check itself failed: {self.probe_error}"
        seen = self.last_seen_at
        if self.last_failed_at and (seen is None or self.last_failed_at >= seen):
            return FreshnessStatus.STALE, f"The pipeline reported a failure at {_when(self.last_failed_at)}."
        started = self.last_started_at
        if started and (seen is None or started > seen) and now >= started + self.grace:
            return FreshnessStatus.STALE, f"A run started at {_when(started)} and has not finished."
        return None

    def _scheduled_status(self, now):
        """Fresh, late or stale by the last update, the schedule and the grace time."""
        seen = self.last_seen_at
        if seen is None:
            return FreshnessStatus.UNKNOWN, "No update has been seen yet."
        due = self.due_after(seen)
        if now < due:
            return FreshnessStatus.FRESH, f"Updated {_when(seen)}; next update due {_when(due)}."
        if now < due + self.grace:
            return (
                FreshnessStatus.LATE,
                f"The update due {_when(due)} has not arrived (grace until {_when(due + self.grace)}).",
            )
        return FreshnessStatus.STALE, f"The update due {_when(due)} has not arrived; last update {_when(seen)}."

    def next_change_at(self, now):
        """The next moment the computed status changes by itself, or None if only a ping or probe can change it."""
        if self.paused:
            return None
        seen, started = self.last_seen_at, self.last_started_at
        candidates = []
        if started and (seen is None or started > seen) and now < started + self.grace:
            candidates.append(started + self.grace)
        if seen is not None and not (self.last_failed_at and self.last_failed_at >= seen):
            due = self.due_after(seen)
            candidates += [moment for moment in (due, due + self.grace) if moment > now]
        return min(candidates, default=None)

    def plan_next_check(self, now):
        """The deadline the sweep looks for: the next status change, and for probes at least every interval."""
        change = self.next_change_at(now)
        if not self.is_probed or self.paused:
            return change
        probe = now + timedelta(seconds=settings.FRESHNESS_PROBE_INTERVAL)
        return min(change, probe) if change else probe


def _when(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


class FreshnessCheck(models.Model):
    """One observation of a policy: a probe, a ping or a sweep's evaluation. The history behind the timeline."""

    class Trigger(models.TextChoices):
        PROBE = "probe", "Probe"
        PING = "ping", "Ping"
        SWEEP = "sweep", "Deadline passed"

    policy = models.ForeignKey(FreshnessPolicy, on_delete=models.CASCADE, related_name="checks")
    checked_at = models.DateTimeField(default=timezone.now)
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    ping_kind = models.CharField(max_length=10, choices=PingKind.choices, blank=True)
    status = models.CharField(max_length=10, choices=FreshnessStatus.choices)
    observed_at = models.DateTimeField(null=True, blank=True, help_text="The data's last change, as seen then.")
    reason = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    run_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-checked_at", "-pk"]
        indexes = [
            models.Index(fields=["policy", "-checked_at"], name="freshnesscheck_recent"),
            # The hourly prune finds the checks past their retention here, instead of reading the whole table.
            models.Index(fields=["checked_at"], name="freshnesscheck_prune"),
        ]

    def __str__(self):
        return f"{self.policy.asset} {self.status} at {self.checked_at:%Y-%m-%d %H:%M}"


class Alert(models.Model):
    """One announced event on an asset: a freshness transition, a failed job, a drifting pipeline run.

    The row is the alert history; the inbox rows, emails and webhooks sent for it are its deliveries.
    """

    asset = models.ForeignKey("catalog.Asset", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    from_status = models.CharField(max_length=10, choices=FreshnessStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=FreshnessStatus.choices, blank=True)
    job_run = models.ForeignKey(JobRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    recipient_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["asset", "-created_at"], name="alert_asset_recent")]

    def __str__(self):
        return self.title


class DriftFinding(models.Model):
    """A pipeline run whose duration or output volume is far outside the pipeline's recent history."""

    pipeline_run = models.ForeignKey("catalog.PipelineRun", on_delete=models.CASCADE, related_name="drift_findings")
    measure = models.CharField(max_length=20, choices=DriftMeasure.choices)
    value = models.FloatField()
    median = models.FloatField()
    mad = models.FloatField(help_text="Median absolute deviation of the recent runs.")
    history_size = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # check_run may be called twice for one run (a heartbeat and an OpenLineage event): one finding each.
            models.UniqueConstraint(fields=["pipeline_run", "measure"], name="drift_unique_run_measure")
        ]

    def __str__(self):
        return f"{self.pipeline_run}: {self.get_measure_display()} {self.value:g} (median {self.median:g})"
