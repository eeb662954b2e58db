"""Assets and the kind-specific rows of the catalog: datasets with their columns, reports, pipelines."""

import uuid

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import get_script_prefix, get_urlconf, reverse

from catalog.choices import (
    AssetKind,
    Classification,
    DatasetFormat,
    Lifecycle,
    RetentionAction,
)
from catalog.models.sources import DataSource
from core.validators import web_url_validator

# A source's secret is read from the environment only if its variable has this prefix: otherwise an owner could
# name SECRET_KEY or DATABASE_URL and point the source at a host of their own, and the worker would send it there.


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


_ADDRESSES = {}
_SLUG_MARK = "0slug0"  # what the slug's converter accepts and no kind or prefix holds


def asset_url(kind, slug):
    """``reverse("catalog:asset_detail", ...)``, reversed once per kind: the address of a kind's assets differs only
    by the slug, which needs no quoting (letters, digits, - and _). A hub's lineage page links hundreds of assets,
    and reversing each cost 50 µs of the ORM-free part of the page."""
    key = (kind, get_script_prefix(), get_urlconf())
    parts = _ADDRESSES.get(key)
    if parts is None:
        parts = _ADDRESSES[key] = reverse("catalog:asset_detail", kwargs={"kind": kind, "slug": _SLUG_MARK}).rsplit(
            _SLUG_MARK, 1
        )
    return f"{parts[0]}{slug}{parts[1]}"


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
    # Maintained by ``catalog.search.reindex``: the words people search for (name, description, columns, tags,
    # owners) as plain text for the SQLite fallback, and weighted as a tsvector (GIN-indexed) on PostgreSQL.
    search_text = models.TextField(blank=True, editable=False)
    search_vector = SearchVectorField(null=True, editable=False)

    objects = AssetQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["kind", "slug"], name="asset_unique_slug_per_kind")]
        indexes = [
            # One kind's list in name order (the catalog's kind filter, the report list, /api/v1/pipelines/ …)
            # reads its first page straight off this index; without the id the page's tie-break sorts every row.
            models.Index(fields=["kind", "name", "id"], name="asset_kind_name_id"),
            # The count under a kind's list ("12,345 datasets", retired ones left out) read off the index alone.
            models.Index(fields=["kind", "lifecycle"], name="asset_kind_lifecycle"),
            # Measured by `make bench` at 170,000 assets. Lists and /api/v1/assets/ page by name: without this
            # every page sorts the whole table.
            models.Index(fields=["name", "id"], name="asset_by_name"),
            # "Recently updated" on the home page.
            models.Index(fields=["-updated_at"], name="asset_recently_updated"),
            # The review-reminder sweep reads due dates in order and skips the assets already told, from this index
            # and the notices' unique one alone: the table itself is read only for the batch it sends.
            models.Index(
                fields=["next_review_date", "id"],
                include=["lifecycle"],
                condition=Q(next_review_date__isnull=False),
                name="asset_review_due",
            ),
            # The trigram indexes behind `icontains` are PostgreSQL-only: see migration 0004.
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return asset_url(self.kind, self.slug)

    def can_edit(self, user):
        """Owners, members of the owning team and staff may change an asset; nobody else."""
        if not user.is_authenticated:
            return False
        if user.is_staff or self.owner_id == user.id:
            return True
        return self.team_id is not None and user.teams.filter(pk=self.team_id).exists()

    def clean(self):
        if self.name and not self.name.strip():
            raise ValidationError({"name": "The name cannot be only spaces."})
        if self.review_interval_days == 0:
            raise ValidationError({"review_interval_days": "A review interval must be at least one day."})

    def naming_violations(self, conventions):
        """The conventions (already fetched for this kind) whose pattern this asset's name breaks."""
        return [convention for convention in conventions if not convention.matches(self.name)]


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
    documentation_url = models.URLField(blank=True, validators=[web_url_validator])
    snapshot_url = models.URLField(
        blank=True, validators=[web_url_validator], help_text="Link to a frozen snapshot of the data."
    )
    steward = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stewarded_datasets",
        help_text="Answers questions about the content and its quality, when that is not the owner.",
    )
    classification = models.CharField(
        max_length=20, choices=Classification.choices, default=Classification.INTERNAL, db_index=True
    )
    retention_days = models.PositiveIntegerField(null=True, blank=True, help_text="Keep each record this many days…")
    retain_until = models.DateField(null=True, blank=True, help_text="…or keep the data until this date.")
    retention_action = models.CharField(
        max_length=20, choices=RetentionAction.choices, blank=True, help_text="What happens when retention is over."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "qualified_name"], name="dataset_unique_name_per_source")
        ]

    def __str__(self):
        return self.asset.name

    def clean(self):
        errors = {}
        self.qualified_name = (self.qualified_name or "").strip()
        if self.retention_days is not None and self.retain_until is not None:
            errors["retain_until"] = "Choose either a number of days or a date, not both."
        if self.retention_days == 0:
            errors["retention_days"] = "Keeping data for zero days means not keeping it: use at least one day."
        has_rule = self.retention_days is not None or self.retain_until is not None
        if has_rule and not self.retention_action:
            errors["retention_action"] = "Say what happens to the data when the retention period is over."
        if self.retention_action and not has_rule:
            errors["retention_action"] = "Give a number of days or a date first; this says what happens after."
        if ".." in self.qualified_name.replace("\\", "/").split("/"):
            errors["qualified_name"] = "A qualified name cannot climb out of its source with '..'."
        if errors:
            raise ValidationError(errors)

    @property
    def retention_rule(self):
        """The retention rule in plain words, or an empty string when none is set."""
        action = self.get_retention_action_display()
        if self.retention_days is not None:
            return f"Kept for {self.retention_days} days, then {action}."
        if self.retain_until is not None:
            return f"Kept until {self.retain_until:%d %B %Y}, then {action}."
        return ""


class Column(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="columns")
    name = models.CharField(max_length=200)
    data_type = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    nullable = models.BooleanField(default=True)
    is_pii = models.BooleanField("contains personal data", default=False)
    example_value = models.CharField(max_length=200, blank=True)
    position = models.PositiveIntegerField(default=0)
    # The latest profile, filled by a scan of a file dataset (pandas); empty for database tables.
    null_fraction = models.FloatField(null=True, blank=True)
    distinct_count = models.BigIntegerField(null=True, blank=True)
    min_value = models.CharField(max_length=200, blank=True)
    max_value = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["dataset", "position", "name"]
        constraints = [models.UniqueConstraint(fields=["dataset", "name"], name="column_unique_name_per_dataset")]

    def __str__(self):
        return self.name


class Report(models.Model):
    """A dashboard or report that business users read. Its inputs are its upstream lineage edges."""

    asset = models.OneToOneField(Asset, primary_key=True, on_delete=models.CASCADE, related_name="report")
    url = models.URLField("dashboard URL", blank=True, validators=[web_url_validator])
    audience = models.CharField(max_length=200, blank=True)
    refresh_schedule = models.CharField(max_length=100, blank=True)

    def __str__(self):
        return self.asset.name


class Pipeline(models.Model):
    """A job that reads datasets and writes datasets."""

    asset = models.OneToOneField(Asset, primary_key=True, on_delete=models.CASCADE, related_name="pipeline")
    schedule = models.CharField(max_length=100, blank=True)
    code_url = models.URLField(blank=True, validators=[web_url_validator])
    namespace = models.CharField(max_length=200, blank=True, help_text="OpenLineage job namespace.")

    def __str__(self):
        return self.asset.name
