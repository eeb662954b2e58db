from django.contrib import admin

from core.admin import AnnouncingAdmin
from monitoring import events
from monitoring.models import FreshnessPolicy


@admin.register(FreshnessPolicy)
class FreshnessPolicyAdmin(AnnouncingAdmin):
    list_display = ["asset", "method", "schedule_kind", "paused", "last_seen_at", "next_check_at"]
    list_filter = ["method", "paused"]
    raw_id_fields = ["asset", "created_by"]

    def announce(self, objects, removed):
        events.policy_changed.send(sender=FreshnessPolicy, asset_ids=[policy.asset_id for policy in objects])
