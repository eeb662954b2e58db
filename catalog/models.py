import ipaddress
import os
import re
import socket
import uuid

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.functional import cached_property

from catalog.choices import (
    AssetKind,
    ChangeAction,
    Classification,
    DatasetFormat,
    Lifecycle,
    LineageOrigin,
    RetentionAction,
    RunOrigin,
    RunState,
    SchemaChangeOrigin,
    SourceKind,
)
from core.validators import web_url_validator

# A source's secret is read from the environment only if its variable has this prefix: otherwise an owner could
# name SECRET_KEY or DATABASE_URL and point the source at a host of their own, and the worker would send it there.
SECRET_ENV_PREFIX = "PORTAL_SECRET_"


def source_secret(variable):
    """The secret a source names, or None; variables outside ``SECRET_ENV_PREFIX`` are never read."""
    if not variable or not variable.startswith(SECRET_ENV_PREFIX):
        return None
    return os.environ.get(variable)


# Why a dataset cannot be placed in a source: one wording for the API, the page and every other way in.
SOURCE_NOT_YOURS = (
    "You may add datasets only to sources you may edit (their owner, their team or staff); "
    "“{source}” is not one of them. Ask its owner to add the dataset."
)

# Keys that would hold a secret if someone typed one into a source's connection settings.
SECRET_KEYS = {"password", "passwd", "pwd", "secret", "token", "api_key", "apikey", "access_key", "secret_key"}


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
        return reverse("catalog:asset_detail", kwargs={"kind": self.kind, "slug": self.slug})

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
    namespace = models.CharField(
        max_length=300,
        blank=True,
        help_text="OpenLineage namespace of this source, e.g. postgres://warehouse:5432. Events name datasets in it.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["namespace"], condition=~Q(namespace=""), name="datasource_unique_namespace"
            )
        ]

    def __str__(self):
        return self.asset.name

    @property
    def is_networked(self):
        """Whether the portal connects to this source over the network (and so where it points is governed)."""
        return self.source_kind in NETWORK_SOURCES

    def address(self):
        """``(host, port)`` the portal would connect to; the port is the kind's default when not given."""
        connection = self.connection if isinstance(self.connection, dict) else {}
        host = str(connection.get("host") or "localhost").strip().lower()
        try:
            port = int(connection.get("port") or DEFAULT_PORTS.get(self.source_kind, 0))
        except (TypeError, ValueError):
            port = -1
        return host, port

    def connection_refusal(self):
        """Why the portal must not connect to this source (a sentence), or "" when it may.

        Checked by ``clean()`` when the source is saved and again by the scan and the probe right before they
        connect, so a host removed from the allow-list (or a source written around the forms) is refused too."""
        if not self.is_networked:
            return ""
        host, port = self.address()
        allowed = [entry for entry in SourceHost.objects.all() if entry.matches(host, port)]
        if not allowed:
            return (
                f"The host {host}:{port} is not on the portal's list of allowed source hosts; ask staff to add it "
                "(admin: Allowed source hosts)."
            )
        if self._is_portal_database() and not any(entry.may_reach_portal_database for entry in allowed):
            return "A source may not point at the portal's own database unless staff allow it for this host."
        return ""

    def _is_portal_database(self):
        """Same server (by address, any loopback name counting as one) and same database as DATABASES['default']."""
        own = settings.DATABASES["default"]
        if self.source_kind != SourceKind.POSTGRESQL or own.get("ENGINE", "").split(".")[-1] != "postgresql":
            return False
        host, port = self.address()
        database = str(self.connection.get("database") or "").strip()
        own_port = int(own.get("PORT") or 5432)
        return port == own_port and database == own.get("NAME") and same_server(host, own.get("HOST") or "localhost")

    def secret(self):
        """The password this source may send: its variable's value, only if staff bound that variable to this
        source and to the host it points at. Raises ``SecretNotBound`` otherwise; None when it names no secret."""
        if not self.secret_env_var:
            return None
        host, _ = self.address()
        # By the exact name staff bound, not by address: nothing to resolve, nothing an attacker's DNS can change.
        if not SecretBinding.objects.filter(variable=self.secret_env_var, source_id=self.pk, host=host).exists():
            raise SecretNotBound(
                f"The secret {self.secret_env_var} is not bound to this source and its host {host}; "
                "staff bind secrets to sources in the admin (Secret bindings)."
            )
        return source_secret(self.secret_env_var)

    def clean(self):
        if not isinstance(self.connection, dict):
            raise ValidationError({"connection": 'Connection settings must be a JSON object, e.g. {"host": "db"}.'})
        secrets = sorted(key for key in self.connection if str(key).lower() in SECRET_KEYS)
        if secrets:
            raise ValidationError(
                {
                    "connection": f"Do not store secrets here ({', '.join(secrets)}). Put the secret in an environment "
                    "variable and give its name below."
                }
            )
        if self.secret_env_var and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.secret_env_var):
            raise ValidationError(
                {"secret_env_var": "An environment variable name has letters, digits and underscores only."}
            )
        if self.secret_env_var and not self.secret_env_var.startswith(SECRET_ENV_PREFIX):
            raise ValidationError(
                {
                    "secret_env_var": f"Source secrets live in variables named {SECRET_ENV_PREFIX}…, "
                    f"e.g. {SECRET_ENV_PREFIX}WAREHOUSE, so no source can read the portal's own settings."
                }
            )
        if self.secret_env_var:
            self._clean_secret_binding()
        refusal = self.connection_refusal()
        if refusal:
            raise ValidationError({"connection": refusal})

    def _clean_secret_binding(self):
        hosts = set(
            SecretBinding.objects.filter(variable=self.secret_env_var, source_id=self.pk).values_list("host", flat=True)
        )
        if not hosts:
            raise ValidationError(
                {
                    "secret_env_var": f"{self.secret_env_var} is not bound to this source. Staff bind each secret "
                    "to the sources (and host) allowed to use it; ask them, or leave this empty."
                }
            )
        if self.is_networked and self.address()[0] not in hosts:
            raise ValidationError(
                {
                    "connection": f"{self.secret_env_var} is bound to {', '.join(sorted(hosts))} only: ask staff to "
                    "bind it to the new host, or keep the host."
                }
            )


class SecretNotBound(Exception):
    """A source names a secret staff did not bind to it (or to the host it now points at)."""


# Sources the portal connects to over the network, and the port each kind listens on when none is given.
NETWORK_SOURCES = (SourceKind.POSTGRESQL, SourceKind.MYSQL)
DEFAULT_PORTS = {SourceKind.POSTGRESQL: 5432, SourceKind.MYSQL: 3306}
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _addresses(host):
    """The IP addresses a host name stands for; loopback names count as one address, whatever they resolve to."""
    host = (host or "").strip().lower().strip("[]")
    if host in LOOPBACK_NAMES:
        return {"loopback"}
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:
            found = {info[4][0] for info in socket.getaddrinfo(host, None)}
        except (OSError, UnicodeError):
            return {host}
        return {"loopback" if ipaddress.ip_address(a.split("%")[0]).is_loopback else a for a in found} | {host}
    return {"loopback" if address.is_loopback else str(address)}


def same_server(one, other):
    """Whether two host names or addresses reach the same server (they share an address)."""
    return bool(_addresses(one) & _addresses(other))


class SourceHost(models.Model):
    """A host staff allow sources to point at. A PostgreSQL or MySQL source whose host is not listed is refused."""

    host = models.CharField(max_length=255, help_text="A host name or IP address, e.g. warehouse.internal.")
    port = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: any port on this host.")
    may_reach_portal_database = models.BooleanField(
        default=False, help_text="Allow a source here to read the portal's own database (normally refused)."
    )
    note = models.CharField(max_length=300, blank=True, help_text="Why this host is allowed, and who asked.")

    class Meta:
        ordering = ["host", "port"]
        verbose_name = "allowed source host"
        constraints = [models.UniqueConstraint(fields=["host", "port"], name="sourcehost_unique_host_port")]

    def __str__(self):
        return f"{self.host}:{self.port}" if self.port else f"{self.host} (any port)"

    def save(self, *args, **kwargs):
        self.host = self.host.strip().lower()
        super().save(*args, **kwargs)

    def matches(self, host, port):
        # By name, not by resolved address: staff allow the name they reviewed, and a name an attacker controls
        # resolving to an allowed address does not make it allowed.
        return self.host == host and (self.port is None or self.port == port)


class SecretBinding(models.Model):
    """Staff's permission for one source to send one ``PORTAL_SECRET_*`` variable's value to one host.

    Nobody but staff can name a variable on a source: a source's ``secret_env_var`` must be bound to it, and the scan
    and the probe send the value only to the bound host."""

    variable = models.CharField(max_length=100, help_text=f"e.g. {SECRET_ENV_PREFIX}WAREHOUSE.")
    source = models.ForeignKey(DataSource, on_delete=models.CASCADE, related_name="secret_bindings")
    host = models.CharField(max_length=255, help_text="The only host this secret is sent to for this source.")
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["variable", "source"]
        constraints = [models.UniqueConstraint(fields=["variable", "source"], name="secretbinding_unique")]

    def __str__(self):
        return f"{self.variable} → {self.source} at {self.host}"

    def save(self, *args, **kwargs):
        self.host = self.host.strip().lower()
        super().save(*args, **kwargs)
        # Binding a variable to a source that names none is also naming it there: staff do it in one step.
        DataSource.objects.filter(pk=self.source_id, secret_env_var="").update(secret_env_var=self.variable)

    def clean(self):
        if not re.fullmatch(SECRET_ENV_PREFIX + r"[A-Za-z0-9_]+", self.variable or ""):
            raise ValidationError({"variable": f"Only variables named {SECRET_ENV_PREFIX}… hold source secrets."})


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


class LineageEvent(models.Model):
    """An OpenLineage event accepted by ``POST /api/v1/lineage`` and waiting for the worker to ingest it.

    The endpoint checks the event and answers at once (202); ``catalog.openlineage.ingest_queued`` records the
    waiting events in the order they came, then deletes them. Producers (Airflow, Spark, dbt) send an event per
    task state, thousands a minute in a large company, and must not wait for the catalog, as DataHub's Kafka
    ingestion does not make them wait. An event whose ingestion failed stays here with its error for staff.
    """

    payload = models.JSONField()
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    received_at = models.DateTimeField(auto_now_add=True)
    error = models.TextField(blank=True, help_text="Why ingesting it failed; empty while it waits.")

    class Meta:
        indexes = [
            # The ingester's only query: the waiting events, oldest first.
            models.Index(fields=["id"], condition=Q(error=""), name="lineage_event_waiting")
        ]

    def __str__(self):
        return f"OpenLineage event {self.pk} from {self.received_by or 'someone'}"


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


class AssetChange(models.Model):
    """One entry in an asset's history: who changed which fields, from what to what, and when.

    Written by ``catalog.changes.record_change`` on every edit path (pages, API, other apps), never by a signal.
    ``changes`` maps each changed field to ``[before, after]`` as displayed text.
    """

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="changes")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=20, choices=ChangeAction.choices, default=ChangeAction.UPDATED)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["asset", "-created_at"], name="assetchange_recent")]

    def __str__(self):
        return f"{self.get_action_display()} {self.asset} ({', '.join(self.changes)})"


class SchemaChange(models.Model):
    """A difference between a dataset's stored schema and what a scan or an OpenLineage event found.

    Shown on the dataset's timeline; its creation is what notifies the owners downstream.
    """

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="schema_changes")
    origin = models.CharField(max_length=20, choices=SchemaChangeOrigin.choices)
    added = models.JSONField(default=list, blank=True, help_text="[{name, type}] of new columns.")
    removed = models.JSONField(default=list, blank=True, help_text="[{name, type}] of columns that disappeared.")
    type_changed = models.JSONField(default=list, blank=True, help_text="[{name, before, after}].")
    detected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-detected_at", "-pk"]
        indexes = [models.Index(fields=["dataset", "-detected_at"], name="schemachange_recent")]

    def __str__(self):
        return f"Schema change on {self.dataset}: {self.summary}"

    @property
    def summary(self):
        parts = []
        if self.added:
            parts.append("added " + ", ".join(column["name"] for column in self.added))
        if self.removed:
            parts.append("removed " + ", ".join(column["name"] for column in self.removed))
        if self.type_changed:
            parts.append(
                "type changed: " + ", ".join(f"{c['name']} {c['before']} → {c['after']}" for c in self.type_changed)
            )
        return "; ".join(parts)


class NamingConvention(models.Model):
    """A rule staff set for the names of one kind of asset, with the reason in plain words.

    The pattern is a regular expression the whole name must match; the explanation is what people read.
    """

    kind = models.CharField(max_length=20, choices=AssetKind.choices)
    pattern = models.CharField(max_length=300, help_text="A regular expression the whole name must match.")
    explanation = models.TextField(help_text="The rule in plain words, e.g. 'lower case words joined by _'.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "pk"]
        constraints = [models.UniqueConstraint(fields=["kind", "pattern"], name="namingconvention_unique_pattern")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.explanation}"

    def clean(self):
        try:
            re.compile(self.pattern)
        except re.error as exc:
            raise ValidationError({"pattern": f"This is not a valid regular expression: {exc}."}) from None

    @cached_property
    def _compiled(self):
        return re.compile(self.pattern)

    def matches(self, name):
        return self._compiled.fullmatch(name) is not None
