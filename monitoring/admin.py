from django.contrib import admin

from core.admin import AnnouncingAdmin
from monitoring import events
from monitoring.models import FreshnessPolicy, MaintenanceWindow


@admin.register(FreshnessPolicy)
class FreshnessPolicyAdmin(AnnouncingAdmin):
    list_display = ["asset", "method", "schedule_kind", "paused", "last_seen_at", "next_check_at"]
    list_filter = ["method", "paused"]
    raw_id_fields = ["asset", "created_by"]

    def announce(self, objects, removed):
        events.policy_changed.send(sender=FreshnessPolicy, asset_ids=[policy.asset_id for policy in objects])


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(AnnouncingAdmin):
    """Maintenance windows and snoozes (a window that starts now). Ending one early sets ``ended_at``; the row stays
    as the history. A change is announced, so the badge's "in maintenance until …" follows."""

    list_display = ["asset", "reason", "starts_at", "ends_at", "ended_at", "freshness_only", "set_by"]
    list_filter = ["freshness_only", ("ended_at", admin.EmptyFieldListFilter)]
    search_fields = ["asset__name", "reason", "set_by__username"]
    raw_id_fields = ["asset", "set_by"]
    readonly_fields = ["created_at"]
    list_select_related = ["asset", "set_by"]
    date_hierarchy = "starts_at"

    def announce(self, objects, removed):
        events.policy_changed.send(sender=MaintenanceWindow, asset_ids=[window.asset_id for window in objects])
