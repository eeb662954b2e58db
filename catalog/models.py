import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.urls import reverse

from catalog.choices import AssetKind, DatasetFormat, Lifecycle, LineageOrigin, RunOrigin, RunState, SourceKind


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class AssetQuerySet(models.QuerySet):
    def with_people(self):
        """The joins every list needs to show owner and team without a query per row."""
        return self.select_related("owner", "team")

    def visible(self):
        return self.exclude(lifecycle=Lifecycle.RETIRED)

    def editable_by(self, user):
        if user.is_staff:
            return self
        return self.filter(Q(owner=user) | Q(team__members=user)).distinct()


class Asset(models.Model):
    """The one identity shared by every catalogued thing: sources, datasets, reports, pipelines, models, versions.

    Owners, watchers, lineage, issues, deprecation, freshness and trust all point here with real foreign keys, so
    each of those features is written once. The kind-specific facts live in a one-to-one row (``asset.dataset``,
    ``asset.report`` …) whose primary key is this asset's id.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=AssetKind.choices, db_index=True)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown. What it is, where it comes from, how to use it.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_assets"
    )
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="assets")
    tags = models.ManyToManyField(Tag, blank=True, related_name="assets")
    lifecycle = models.CharField(max_length=20, choices=Lifecycle.choices, default=Lifecycle.ACTIVE, db_index=True)
    maintained_until = models.DateField(
        null=True, blank=True, help_text="The owner commits to maintaining this asset until this date."
    )
    review_interval_days = models.PositiveIntegerField(null=True, blank=True)
    next_review_date = models.DateField(null=True, blank=True, help_text="When someone must check this asset again.")
    deprecation_conditions = models.TextField(
        blank=True, help_text="Under which conditions this asset should be deprecated."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AssetQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["kind", "slug"], name="asset_unique_slug_per_kind")]
        indexes = [
            models.Index(fields=["kind", "name"], name="asset_kind_name"),
            # Measured by `make bench` at 170,000 assets. Lists and /api/v1/assets/ page by name: without this
            # every page sorts the whole table.
            models.Index(fields=["name", "id"], name="asset_by_name"),
            # "Recently updated" on the home page.
            models.Index(fields=["-updated_at"], name="asset_recently_updated"),
            # `icontains` on name and description (the q filter, search): trigram indexes on the UPPER() that
            # Django's icontains compares, so a substring match is an index lookup instead of a full scan.
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="asset_name_trigram"),
            GinIndex(OpClass(Upper("description"), name="gin_trgm_ops"), name="asset_description_trigram"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("catalog:asset_detail", kwargs={"kind": self.kind, "slug": self.slug})

    def can_edit(self, user):
        """Owners, members of the owning team and staff may change an asset; nobody else."""
        if not user.is_authenticated:
            return False
        if user.is_staff or self.owner_id == user.id:
            return True
        return self.team_id is not None and user.teams.filter(pk=self.team_id).exists()


class DataSource(models.Model):
    """A system data is read from. Secrets are never stored: only the name of the environment variable holding one."""

    asset = models.OneToOneField(Asset, primary_key=True, on_delete=models.CASCADE, related_name="source")
    source_kind = models.CharField(max_length=20, choices=SourceKind.choices)
    connection = models.JSONField(
        default=dict, blank=True, help_text="Host, port, database, path or bucket. Never a password."
    )
    secret_env_var = models.CharField(
        max_length=100, blank=True, help_text="Name of the environment variable that holds the password or key."
    )

    def __str__(self):
        return self.asset.name


class Dataset(models.Model):
    """A table, view or file that people read. Identified within its source by a qualified name."""

    asset = models.OneToOneField(Asset, primary_key=True, on_delete=models.CASCADE, related_name="dataset")
    source = models.ForeignKey(DataSource, on_delete=models.PROTECT, related_name="datasets")
    qualified_name = models.CharField(max_length=300, help_text="e.g. schema.table, or a path under DATA_ROOT.")
    format = models.CharField(max_length=20, choices=DatasetFormat.choices, default=DatasetFormat.TABLE)
    intended_use = models.TextField(blank=True)
    out_of_scope_uses = models.TextField(blank=True)
    update_frequency = models.CharField(max_length=100, blank=True, help_text="e.g. 'daily at 06:00 UTC'.")
    row_count = models.BigIntegerField(null=True, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    last_updated_at = models.DateTimeField(null=True, blank=True)
    documentation_url = models.URLField(blank=True)
    snapshot_url = models.URLField(blank=True, help_text="Link to a frozen snapshot of the data.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "qualified_name"], name="dataset_unique_name_per_source")
        ]

    def __str__(self):
        return self.asset.name


class Column(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="columns")
    name = models.CharField(max_length=200)
    data_type = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    nullable = models.BooleanField(default=True)
    is_pii = models.BooleanField("contains personal data", default=False)
    example_value = models.CharField(max_length=200, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["dataset", "position", "name"]
        constraints = [models.UniqueConstraint(fields=["dataset", "name"], name="column_unique_name_per_dataset")]

    def __str__(self):
        return self.name


class Report(models.Model):
    """A dashboard or report that business users read. Its inputs are its upstream lineage edges."""

    asset = models.OneToOneField(Asset, primary_key=True, on_delete=models.CASCADE, related_name="report")
    url = models.URLField("dashboard URL", blank=True)
    audience = models.CharField(max_length=200, blank=True)
    refresh_schedule = models.CharField(max_length=100, blank=True)

    def __str__(self):
        return self.asset.name


class Pipeline(models.Model):
    """A job that reads datasets and writes datasets."""

    asset = models.OneToOneField(Asset, primary_key=True, on_delete=models.CASCADE, related_name="pipeline")
    schedule = models.CharField(max_length=100, blank=True)
    code_url = models.URLField(blank=True)
    namespace = models.CharField(max_length=200, blank=True, help_text="OpenLineage job namespace.")

    def __str__(self):
        return self.asset.name


class PipelineRun(models.Model):
    """One execution of a pipeline, reported by OpenLineage events or heartbeat pings carrying a run id.

    Duration and output volume feed the drift rule (monitoring); ``run_id`` is the reporter's own id, so the
    START and COMPLETE events of one run land on one row.
    """

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="runs")
    run_id = models.CharField(max_length=100)
    origin = models.CharField(max_length=20, choices=RunOrigin.choices)
    state = models.CharField(max_length=20, choices=RunState.choices, default=RunState.RUNNING)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    output_rows = models.BigIntegerField(null=True, blank=True)
    output_bytes = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["pipeline", "run_id"], name="pipelinerun_unique_run_id")]
        indexes = [models.Index(fields=["pipeline", "-ended_at"], name="pipelinerun_recent")]

    def __str__(self):
        return f"{self.pipeline} run {self.run_id}"

    @property
    def duration_seconds(self):
        if self.started_at and self.ended_at:
            return (self.ended_at - self.started_at).total_seconds()
        return None


class LineageEdge(models.Model):
    """Data flows from ``upstream`` to ``downstream``."""

    upstream = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="downstream_edges")
    downstream = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="upstream_edges")
    origin = models.CharField(max_length=20, choices=LineageOrigin.choices, default=LineageOrigin.MANUAL)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["upstream", "downstream"], name="lineage_unique_edge"),
            models.CheckConstraint(condition=~Q(upstream=models.F("downstream")), name="lineage_no_self_loop"),
        ]
        # The unique constraint's index serves walks downstream; walks upstream need their own.
        indexes = [models.Index(fields=["downstream", "upstream"], name="lineage_by_downstream")]

    def __str__(self):
        return f"{self.upstream} → {self.downstream}"


class Watch(models.Model):
    """A user who wants to hear about changes, issues and alerts on an asset."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watches")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="watches")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "asset"], name="watch_unique_user_asset")]

    def __str__(self):
        return f"{self.user} watches {self.asset}"
