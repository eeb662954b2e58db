from django.contrib import admin

from core.admin import AnnouncingAdmin
from trust.models import (
    BadgeLink,
    Certification,
    DataIssue,
    Deprecation,
    DeprecationImpact,
    IssueEvent,
    Review,
    StoredBadge,
)


class BadgeInputAdmin(AnnouncingAdmin):
    """Trust rows a badge reads; ``travels``: whether the assets downstream read them too."""

    travels = True

    def announce(self, objects, removed):
        StoredBadge.invalidate([row.asset_id for row in objects], downstream=self.travels)


class IssueEventInline(admin.TabularInline):
    model = IssueEvent
    extra = 0
    readonly_fields = ["author", "from_status", "to_status", "body", "created_at"]


@admin.register(DataIssue)
class DataIssueAdmin(BadgeInputAdmin):
    """Read mostly: status changes go through the issue page so the history and notifications stay right."""

    list_display = ["title", "asset", "severity", "status", "reported_by", "created_at"]
    list_filter = ["status", "severity", "category"]
    search_fields = ["title", "description", "asset__name"]
    raw_id_fields = ["asset", "reported_by", "duplicate_of"]
    readonly_fields = ["uuid", "status", "created_at", "acknowledged_at", "closed_at", "acknowledge_by"]
    inlines = [IssueEventInline]


class ImpactInline(admin.TabularInline):
    model = DeprecationImpact
    extra = 0
    raw_id_fields = ["asset", "acknowledged_by"]


@admin.register(Deprecation)
class DeprecationAdmin(BadgeInputAdmin):
    list_display = ["asset", "state", "sunset_date", "replacement", "proposed_by"]
    list_filter = ["state"]
    raw_id_fields = ["asset", "replacement", "proposed_by", "withdrawn_by"]
    readonly_fields = ["uuid", "state", "created_at", "withdrawn_at", "retired_at"]
    inlines = [ImpactInline]


@admin.register(Review, Certification)
class VouchingAdmin(BadgeInputAdmin):
    raw_id_fields = ["asset"]
    travels = False


@admin.register(BadgeLink)
class BadgeLinkAdmin(admin.ModelAdmin):
    raw_id_fields = ["asset"]
