from django.contrib import admin

from core.admin import HistoryAdmin
from mlops.models import (
    DeliveryHook,
    ModelOps,
    MonitoringResult,
    MonitoringRun,
    Outcome,
    Prediction,
    ScoringSchedule,
    WebhookDelivery,
)


@admin.register(ModelOps)
class ModelOpsAdmin(admin.ModelAdmin):
    list_display = ["model", "status", "status_since", "retrain_on_drift"]
    list_filter = ["status", "retrain_on_drift"]
    raw_id_fields = ["model", "challenger"]


@admin.register(ScoringSchedule)
class ScoringScheduleAdmin(admin.ModelAdmin):
    list_display = ["model", "version", "dataset", "every_hours", "next_run_at", "active", "last_note"]
    list_filter = ["active"]
    raw_id_fields = ["model", "version", "dataset", "last_run", "created_by"]


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


@admin.register(Prediction)
class PredictionAdmin(HistoryAdmin):
    """Predictions a model in use reported (``POST /api/v1/models/<slug>/predictions``): read only."""

    list_display = ["prediction_id", "model", "version", "score", "predicted_at", "received_at"]
    search_fields = ["prediction_id", "model__asset__name"]
    list_select_related = ["model__asset", "version"]
    date_hierarchy = "predicted_at"


@admin.register(Outcome)
class OutcomeAdmin(HistoryAdmin):
    list_display = ["prediction_id", "model", "observed_at", "received_at"]
    search_fields = ["prediction_id", "model__asset__name"]
    list_select_related = ["model__asset"]
    date_hierarchy = "observed_at"


@admin.register(MonitoringResult)
class MonitoringResultAdmin(HistoryAdmin):
    list_display = ["run", "kind", "name", "value", "threshold", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["name", "run__model__asset__name"]
    list_select_related = ["run__model__asset"]
