from django.contrib import admin

from catalog.models import Asset, Column, Dataset, DataSource, LineageEdge, Pipeline, Report, Tag, Watch


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "owner", "team", "lifecycle", "updated_at"]
    list_filter = ["kind", "lifecycle", "team"]
    search_fields = ["name", "slug", "description"]
    autocomplete_fields = ["owner", "team", "tags"]
    readonly_fields = ["uuid", "created_at", "updated_at"]


class ColumnInline(admin.TabularInline):
    model = Column
    extra = 0


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["asset", "source", "qualified_name", "format"]
    search_fields = ["asset__name", "qualified_name"]
    raw_id_fields = ["asset", "source"]
    inlines = [ColumnInline]


@admin.register(DataSource, Report, Pipeline)
class KindAdmin(admin.ModelAdmin):
    raw_id_fields = ["asset"]
    search_fields = ["asset__name"]


@admin.register(LineageEdge)
class LineageEdgeAdmin(admin.ModelAdmin):
    list_display = ["upstream", "downstream", "origin", "created_at"]
    list_filter = ["origin"]
    raw_id_fields = ["upstream", "downstream", "created_by"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Watch)
class WatchAdmin(admin.ModelAdmin):
    list_display = ["user", "asset", "created_at"]
    raw_id_fields = ["user", "asset"]
