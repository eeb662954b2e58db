from django.contrib import admin

from mlops.models import DeliveryHook, ModelOps, MonitoringRun, WebhookDelivery


@admin.register(ModelOps)
class ModelOpsAdmin(admin.ModelAdmin):
    list_display = ["model", "status", "status_since", "retrain_on_drift"]
    list_filter = ["status", "retrain_on_drift"]
    raw_id_fields = ["model", "challenger"]


@admin.register(DeliveryHook)
class DeliveryHookAdmin(admin.ModelAdmin):
    list_display = ["url", "team", "active"]
    readonly_fields = ["secret"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["hook", "event", "state", "attempts", "last_status_code", "created_at"]
    list_filter = ["state"]


@admin.register(MonitoringRun)
class MonitoringRunAdmin(admin.ModelAdmin):
    list_display = ["model", "window_end", "rows", "status"]
