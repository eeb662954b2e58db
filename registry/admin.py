from django.contrib import admin

from registry.models import Metric, ModelVersion, RegisteredModel


@admin.register(RegisteredModel)
class RegisteredModelAdmin(admin.ModelAdmin):
    list_display = ["asset", "summary", "mlflow_name"]
    search_fields = ["asset__name", "mlflow_name"]
    raw_id_fields = ["asset"]
    filter_horizontal = ["developers"]


class MetricInline(admin.TabularInline):
    model = Metric
    extra = 0


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["model", "version", "stage", "algorithm", "created_at"]
    list_filter = ["stage"]
    raw_id_fields = ["asset", "model", "created_by"]
    inlines = [MetricInline]
