"""What happens around assets: lineage and its events and runs, watches, change history, conventions."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property

from catalog.choices import (
    AssetKind,
    ChangeAction,
    LineageOrigin,
    RunOrigin,
    RunState,
    SchemaChangeOrigin,
)
from catalog.models.assets import Asset, Column, Dataset, Pipeline

# A source's secret is read from the environment only if its variable has this prefix: otherwise an owner could
# name SECRET_KEY or DATABASE_URL and point the source at a host of their own, and the worker would send it there.


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
    refused = models.BooleanField(
        default=False,
        help_text="The event would have changed assets its token's owner may not change; nothing of it was written "
        "and the error says which.",
    )

    class Meta:
        indexes = [
            # The ingester's only query: the waiting events, oldest first.
            models.Index(fields=["id"], condition=Q(error=""), name="lineage_event_waiting")
        ]

    def __str__(self):
        return f"OpenLineage event {self.pk} from {self.received_by or 'someone'}"


class LineageGrant(models.Model):
    """Staff's permission for one account (typically a pipeline's service account) to change, through OpenLineage,
    the assets of one namespace it does not own: the datasets of the source whose namespace it is, the source, and
    the pipelines (jobs) of that job namespace. Without a grant an event changes only what its token's owner may
    edit (``catalog.access``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lineage_grants")
    namespace = models.CharField(
        max_length=300, help_text="An OpenLineage namespace, e.g. postgres://warehouse:5432 or airflow."
    )
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["namespace", "user"]
        constraints = [models.UniqueConstraint(fields=["user", "namespace"], name="lineagegrant_unique")]

    def __str__(self):
        return f"{self.user} may report lineage in {self.namespace}"


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


class ColumnLineage(models.Model):
    """Data of the ``upstream`` column flows into the ``downstream`` column (column-level lineage).

    Written only by ``catalog.assets.set_column_lineage`` (OpenLineage ``columnLineage`` facets, dbt imports), which
    records each change in the downstream asset's history. A column that disappears takes its links with it; the
    schema change that removed it is what tells its consumers (``catalog.scanning``).
    """

    upstream = models.ForeignKey(Column, on_delete=models.CASCADE, related_name="consumer_links")
    downstream = models.ForeignKey(Column, on_delete=models.CASCADE, related_name="source_links")
    origin = models.CharField(max_length=20, choices=LineageOrigin.choices, default=LineageOrigin.MANUAL)
    transformation = models.CharField(max_length=200, blank=True, help_text="How, in the reporter's words.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["upstream", "downstream"], name="columnlineage_unique_link"),
            models.CheckConstraint(condition=~Q(upstream=models.F("downstream")), name="columnlineage_no_self_loop"),
        ]
        # The unique constraint's index serves "who consumes this column"; "where does it come from" needs its own.
        indexes = [models.Index(fields=["downstream", "upstream"], name="columnlineage_by_downstream")]

    def __str__(self):
        return f"{self.upstream_id} → {self.downstream_id}"


class Watch(models.Model):
    """A user who wants to hear about changes, issues and alerts on an asset."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watches")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="watches")
    include_upstream = models.BooleanField(
        "problems upstream", default=True, help_text="Also hear about problems on what it is built from."
    )
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
