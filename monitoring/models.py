import functools
import re
import uuid
import zoneinfo
from datetime import UTC, timedelta

from croniter import croniter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, F, Value, When
from django.urls import reverse
from django.utils import timezone

from catalog.choices import AssetKind, SourceKind
from core import outbound
from core.validators import web_url_validator
from monitoring.choices import (
    BOARD_ORDER,
    DriftMeasure,
    FilterOperator,
    FreshnessMethod,
    FreshnessStatus,
    PingKind,
    ScheduleKind,
)

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SQL_SOURCES = (SourceKind.POSTGRESQL, SourceKind.SQLITE, SourceKind.MYSQL)


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


@functools.lru_cache(maxsize=65_536)
def _next_cron_time(cron, time_zone, moment):
    """The first time ``cron`` fires after ``moment`` (UTC) in ``time_zone``, in UTC. Remembered per
    process: the badges of a page of deep reports ask it for the same few thousand policies' last updates again and
    again (a third of the badge refresher's time at full scale went to croniter, py-spy on 2026-12-07), and the
    answer depends on nothing else."""
    zone = zoneinfo.ZoneInfo(time_zone)
    return croniter(cron, moment.astimezone(zone)).get_next(type(moment)).astimezone(UTC)


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
    filter_column = models.CharField(
        max_length=100, blank=True, help_text="SQL: only count rows where this column… (e.g. status)"
    )
    filter_operator = models.CharField(
        "comparison", max_length=2, blank=True, choices=FilterOperator.choices, help_text="…compares so…"
    )
    filter_value = models.CharField(
        max_length=200, blank=True, help_text="…to this value (e.g. shipped), sent as a query parameter."
    )
    sql_filter = models.CharField(
        "free-text SQL condition",
        max_length=300,
        blank=True,
        help_text="SQL, legacy: a condition pasted into the query. Only the source's owner, its team and staff may "
        "write one, and it runs only while its writer still may; prefer column, comparison and value.",
    )
    sql_filter_author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        help_text="Who wrote the free-text condition: it runs only while they may edit the source.",
    )
    file_path = models.CharField(
        max_length=300, blank=True, help_text="File: path under DATA_ROOT; the dataset's own path when empty."
    )
    url = models.URLField(
        "URL", max_length=500, blank=True, validators=[web_url_validator], help_text="HTTP: the address to ask."
    )
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
    probe_error = models.TextField(
        blank=True, help_text="The last probe's technical detail: for the asset's owners, its team and staff only."
    )
    probe_reason = models.CharField(
        max_length=300,
        blank=True,
        default="",
        db_default="",
        help_text="Why the last probe failed, in plain words anyone may read (monitoring.reasons).",
    )
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
        if self.method == FreshnessMethod.HTTP:
            if not self.url:
                return {"url": "Give the address to ask."}
            try:
                outbound.check_url(self.url)
            except outbound.OutboundRefused as exc:
                return {"url": str(exc)}
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
        return {**errors, **self._clean_structured_filter(dataset)}

    def _clean_structured_filter(self, dataset):
        """Column, comparison and value: all three or none; the column a plain name (quoted when run), the value
        bound as a parameter, so the condition cannot be anything but that one comparison."""
        if not (self.filter_column or self.filter_operator or self.filter_value):
            return {}
        if self.sql_filter:
            return {"sql_filter": "Give either a column, comparison and value or a free-text condition, not both."}
        if not COLUMN_NAME.match(self.filter_column or ""):
            return {"filter_column": "Name the column to compare (letters, digits and underscores)."}
        if self.filter_operator not in FilterOperator.values:
            return {"filter_operator": "Choose a comparison from the list."}
        recorded = dataset is not None and dataset.columns.exists()
        if recorded and not dataset.columns.filter(name=self.filter_column).exists():
            return {"filter_column": f"The dataset has no recorded column '{self.filter_column}'."}
        return {}

    def sql_filter_refusal(self, user, previous):
        """Record ``user`` as the writer of a new or changed free-text condition, or say why they may not write
        one (``{field: message}``). ``previous`` is the condition stored before this edit."""
        if self.sql_filter == previous:
            return {}
        if not self.sql_filter:
            self.sql_filter_author = None
            return {}
        dataset = self._dataset()
        if dataset is None or not dataset.source.asset.can_edit(user):
            return {
                "sql_filter": "Only the source's owner, its team and staff write free-text SQL conditions. "
                "Use a column, a comparison and a value instead."
            }
        self.sql_filter_author = user
        return {}

    def may_run_sql_filter(self):
        """A free-text condition runs only while whoever wrote it may still edit the dataset's source."""
        if not self.sql_filter:
            return True
        author = self.sql_filter_author
        return author is not None and author.is_active and self.asset.dataset.source.asset.can_edit(author)

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
            return _next_cron_time(self.cron, self.time_zone, moment.astimezone(UTC)).astimezone(moment.tzinfo)
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
            # Never the technical detail: the reason is shown to every reader, on badges and in alerts.
            plain = (self.probe_reason or "its owners can see the detail").rstrip(".")
            return FreshnessStatus.UNKNOWN, f"The check itself failed: {plain}."
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
    from core.moments import absolute

    return absolute(moment)


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


class MaintenanceWindow(models.Model):
    """A time when an asset (or only its freshness check) is known to be down or changing: no alerts and no
    notifications about it go out, and its badge says "in maintenance until …". Snoozing is a window that
    starts now. Recorded with who set it and why; ending one early sets ``ended_at`` (the row is the history)."""

    asset = models.ForeignKey("catalog.Asset", on_delete=models.CASCADE, related_name="maintenance_windows")
    freshness_only = models.BooleanField(
        "freshness check only",
        default=False,
        help_text="Silence only the freshness check, not the asset's other alerts.",
    )
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=300, help_text="Why: “warehouse migration”, “source system upgrade”.")
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="When someone ended it early.")

    class Meta:
        ordering = ["-starts_at", "-pk"]
        indexes = [models.Index(fields=["asset", "ends_at"], name="maintenance_by_asset_end")]

    def __str__(self):
        return f"{self.asset} in maintenance until {self.ends_at:%Y-%m-%d %H:%M}"

    @property
    def effective_end(self):
        return min(self.ends_at, self.ended_at) if self.ended_at else self.ends_at

    def is_active(self, now=None):
        now = now or timezone.now()
        return self.starts_at <= now < self.effective_end

    def clean(self):
        errors = {}
        if not (self.reason or "").strip():
            errors["reason"] = "Say why, so people who see the silence know what is going on."
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "The end must come after the start."
        elif self.ends_at and self._state.adding and self.ends_at <= timezone.now():
            errors["ends_at"] = "The end must be in the future."
        if errors:
            raise ValidationError(errors)
