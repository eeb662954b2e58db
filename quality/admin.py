"""Quality checks and what they found, as imported (dbt, Great Expectations, Soda, OpenLineage assertions and
metrics) and run: staff read them here; the imports and runs are the only writers, so a check's history stays what
happened."""

from django.contrib import admin

from core.admin import HistoryAdmin
from quality.models import CheckResult, DatasetMetrics, DbtNode, FreshnessObservation, QualityCheck


@admin.register(QualityCheck)
class QualityCheckAdmin(HistoryAdmin):
    list_display = ["name", "asset", "column", "check_type", "severity", "origin", "last_status", "last_run_at", "gone"]
    list_filter = ["last_status", "severity", "origin", "gone"]
    search_fields = ["name", "key", "column", "asset__name", "external_id"]
    list_select_related = ["asset"]


@admin.register(CheckResult)
class CheckResultAdmin(HistoryAdmin):
    list_display = ["quality_check", "status", "failures", "executed_at", "origin", "run_key"]
    list_filter = ["status", "origin"]
    search_fields = ["quality_check__name", "quality_check__asset__name", "run_key", "message"]
    list_select_related = ["quality_check__asset"]
    date_hierarchy = "executed_at"


@admin.register(FreshnessObservation)
class FreshnessObservationAdmin(HistoryAdmin):
    list_display = ["asset", "status", "max_loaded_at", "observed_at", "run_key"]
    list_filter = ["status"]
    search_fields = ["asset__name", "run_key"]
    list_select_related = ["asset"]
    date_hierarchy = "observed_at"


@admin.register(DbtNode)
class DbtNodeAdmin(HistoryAdmin):
    list_display = ["unique_id", "project", "resource_type", "asset", "source", "gone", "seen_at"]
    list_filter = ["resource_type", "gone"]
    search_fields = ["unique_id", "project", "asset__name"]
    list_select_related = ["asset", "source"]


@admin.register(DatasetMetrics)
class DatasetMetricsAdmin(HistoryAdmin):
    list_display = ["asset", "measured_at", "row_count", "bytes", "file_count", "run_key"]
    search_fields = ["asset__name", "run_key"]
    list_select_related = ["asset"]
    date_hierarchy = "measured_at"
