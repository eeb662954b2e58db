from django.contrib import admin

from catalog import events
from catalog.models import (
    Asset,
    AssetChange,
    Column,
    Dataset,
    DataSource,
    LineageEdge,
    LineageEvent,
    LineageGrant,
    NamingConvention,
    Pipeline,
    PipelineRun,
    Report,
    SchemaChange,
    SecretBinding,
    SourceHost,
    Tag,
    Watch,
)
from core.admin import AnnouncingAdmin


@admin.register(Asset)
class AssetAdmin(AnnouncingAdmin):
    list_display = ["name", "kind", "owner", "team", "lifecycle", "updated_at"]
    list_filter = ["kind", "lifecycle", "team"]
    search_fields = ["name", "slug", "description"]
    autocomplete_fields = ["owner", "team", "tags"]
    readonly_fields = ["uuid", "created_at", "updated_at"]

    def announce(self, objects, removed):
        ids = [asset.pk for asset in objects]
        if removed:
            events.assets_removed.send(sender=Asset, asset_ids=ids)
        else:
            events.asset_changed.send(sender=Asset, asset_ids=ids, travels=True)


class ColumnInline(admin.TabularInline):
    model = Column
    extra = 0


class KindRowAdmin(AnnouncingAdmin):
    """A kind row (a dataset's intended use, a report's audience) is part of what its asset says about itself."""

    def announce(self, objects, removed):
        events.asset_changed.send(sender=Asset, asset_ids=[row.asset_id for row in objects], travels=False)


@admin.register(Dataset)
class DatasetAdmin(KindRowAdmin):
    list_display = ["asset", "source", "qualified_name", "format"]
    search_fields = ["asset__name", "qualified_name"]
    raw_id_fields = ["asset", "source"]
    inlines = [ColumnInline]


@admin.register(DataSource, Report, Pipeline)
class KindAdmin(KindRowAdmin):
    raw_id_fields = ["asset"]
    search_fields = ["asset__name"]


@admin.register(LineageEdge)
class LineageEdgeAdmin(AnnouncingAdmin):
    list_display = ["upstream", "downstream", "origin", "created_at"]
    list_filter = ["origin"]
    raw_id_fields = ["upstream", "downstream", "created_by"]

    def announce(self, objects, removed):
        events.lineage_changed.send(sender=LineageEdge, downstream_ids=[edge.downstream_id for edge in objects])


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Watch)
class WatchAdmin(admin.ModelAdmin):
    list_display = ["user", "asset", "created_at"]
    raw_id_fields = ["user", "asset"]


@admin.register(NamingConvention)
class NamingConventionAdmin(admin.ModelAdmin):
    list_display = ["kind", "pattern", "explanation", "created_by"]
    list_filter = ["kind"]


@admin.register(AssetChange)
class AssetChangeAdmin(admin.ModelAdmin):
    """History is evidence: readable here, never edited."""

    list_display = ["asset", "action", "actor", "created_at"]
    list_filter = ["action"]
    raw_id_fields = ["asset", "actor"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SchemaChange)
class SchemaChangeAdmin(admin.ModelAdmin):
    list_display = ["dataset", "origin", "detected_at"]
    list_filter = ["origin"]
    raw_id_fields = ["dataset"]


@admin.register(PipelineRun)
class PipelineRunAdmin(admin.ModelAdmin):
    list_display = ["pipeline", "run_id", "state", "started_at", "ended_at", "output_rows"]
    list_filter = ["state", "origin"]
    raw_id_fields = ["pipeline"]


@admin.register(LineageEvent)
class LineageEventAdmin(admin.ModelAdmin):
    """OpenLineage events waiting for the worker, those it could not ingest, and those refused because they would
    have changed assets their token's owner may not change (with why)."""

    list_display = ["id", "received_at", "received_by", "refused", "error"]
    list_filter = ["refused", ("error", admin.EmptyFieldListFilter)]
    readonly_fields = ["payload", "received_by", "received_at", "refused", "error"]


@admin.register(LineageGrant)
class LineageGrantAdmin(admin.ModelAdmin):
    """Which account may change, through OpenLineage, the assets of a namespace it does not own (a pipeline's
    service account writing the warehouse's tables)."""

    list_display = ["namespace", "user", "note", "created_at"]
    search_fields = ["namespace", "user__username", "note"]
    autocomplete_fields = ["user"]


@admin.register(SourceHost)
class SourceHostAdmin(admin.ModelAdmin):
    """The hosts PostgreSQL and MySQL sources may point at; a source elsewhere is refused when saved, scanned and
    probed."""

    list_display = ["host", "port", "may_reach_portal_database", "note"]
    search_fields = ["host", "note"]


@admin.register(SecretBinding)
class SecretBindingAdmin(admin.ModelAdmin):
    """Which source may send which PORTAL_SECRET_* variable, and to which host. Binding a variable to a source
    that names none sets it on the source."""

    list_display = ["variable", "source", "host", "created_at"]
    search_fields = ["variable", "source__asset__name", "host"]
    raw_id_fields = ["source"]
