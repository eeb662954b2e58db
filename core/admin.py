from django.contrib import admin

from core.models import Alert, DigestItem, JobRun, Notification, NotificationPreference


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


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "asset", "from_status", "to_status", "recipient_count", "created_at"]
    list_filter = ["kind"]
    raw_id_fields = ["asset", "job_run"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "inbox", "inbox_cadence", "email", "email_cadence", "digest_hour", "digest_weekday"]
    list_filter = ["inbox_cadence", "email_cadence"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]


class AnnouncingAdmin(admin.ModelAdmin):
    """An admin for rows whose changes other apps hear about through domain events. Staff edit rows directly here,
    past the apps' own writers, so saving and deleting call ``announce(objects, removed)``, which each app writes
    with its own event: after a save (and its inlines), before a deletion (while lineage still leads from it)."""

    def announce(self, objects, removed):
        raise NotImplementedError

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        self.announce([form.instance], removed=False)

    def delete_model(self, request, obj):
        self.announce([obj], removed=True)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        self.announce(list(queryset), removed=True)
        super().delete_queryset(request, queryset)


class HistoryAdmin(admin.ModelAdmin):
    """Rows that are history or an outbox (deliveries, results, events), written only by the apps' own code: staff
    read and search them here and never add, change or delete one, so what was recorded stays what happened."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DigestItem)
class DigestItemAdmin(HistoryAdmin):
    """News waiting for a person's (or a team's) digest, and when it went."""

    list_display = ["title", "recipient", "team", "channel", "cadence", "kind", "created_at", "sent_at"]
    list_filter = ["cadence", "channel", "kind", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "recipient__username", "team__name"]
    date_hierarchy = "created_at"
