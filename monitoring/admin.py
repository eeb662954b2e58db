from django.contrib import admin

from monitoring.models import Alert, FreshnessPolicy, JobRun, Notification, NotificationPreference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "kind", "created_at", "read_at"]
    list_filter = ["kind"]
    raw_id_fields = ["recipient", "asset"]


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ["__str__", "asset", "requested_by", "state", "step", "created_at", "finished_at"]
    list_filter = ["kind", "state"]
    raw_id_fields = ["asset", "requested_by"]
    readonly_fields = ["uuid", "celery_task_id", "heartbeat_at", "attempts"]


@admin.register(FreshnessPolicy)
class FreshnessPolicyAdmin(admin.ModelAdmin):
    list_display = ["asset", "method", "schedule_kind", "paused", "last_seen_at", "next_check_at"]
    list_filter = ["method", "paused"]
    raw_id_fields = ["asset", "created_by"]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "asset", "from_status", "to_status", "recipient_count", "created_at"]
    list_filter = ["kind"]
    raw_id_fields = ["asset", "job_run"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "inbox", "email"]
    raw_id_fields = ["user"]
