from django.contrib import admin

from core.admin import AnnouncingAdmin
from registry.events import send_card_changed
from registry.models import (
    Assumption,
    CardRevision,
    ChecklistTick,
    Metric,
    ModelCard,
    ModelUser,
    ModelVersion,
    PromotionRequest,
    RegisteredModel,
    StageChange,
)


class ModelUserInline(admin.TabularInline):
    model = ModelUser
    extra = 0


class AssumptionInline(admin.TabularInline):
    model = Assumption
    extra = 0
    raw_id_fields = ["verified_by"]


class CardInputAdmin(AnnouncingAdmin):
    """Rows a model card's completeness reads: their changes mark the model's badge."""

    def announce(self, objects, removed):
        send_card_changed(*(obj.pk if isinstance(obj, RegisteredModel) else obj.model_id for obj in objects))


@admin.register(RegisteredModel)
class RegisteredModelAdmin(CardInputAdmin):
    list_display = ["asset", "summary", "mlflow_name"]
    search_fields = ["asset__name", "mlflow_name"]
    raw_id_fields = ["asset"]
    filter_horizontal = ["developers", "approvers"]
    inlines = [ModelUserInline, AssumptionInline]


class MetricInline(admin.TabularInline):
    model = Metric
    extra = 0


class StageChangeInline(admin.TabularInline):
    model = StageChange
    fk_name = "version"
    extra = 0
    can_delete = False
    readonly_fields = ["from_stage", "to_stage", "actor", "reason", "promotion", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ModelVersion)
class ModelVersionAdmin(CardInputAdmin):
    """A stage edited here goes through ``change_stage``: the same rules and the same history as the pages."""

    list_display = ["model", "version", "stage", "algorithm", "created_at"]
    list_filter = ["stage"]
    raw_id_fields = ["asset", "model", "created_by", "training_datasets", "evaluation_datasets"]
    inlines = [MetricInline, StageChangeInline]

    def save_model(self, request, obj, form, change):
        if change and "stage" in form.changed_data:
            new_stage = obj.stage
            obj.stage = form.initial["stage"]
            super().save_model(request, obj, form, change)
            obj.change_stage(new_stage, request.user, reason="Changed in the administration.")
        else:
            super().save_model(request, obj, form, change)


@admin.register(ModelCard)
class ModelCardAdmin(admin.ModelAdmin):
    """Read-only here: card edits go through the card page or the API so that every one is a revision."""

    list_display = ["model", "revision", "updated_by", "updated_at"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CardRevision)
class CardRevisionAdmin(admin.ModelAdmin):
    list_display = ["card", "number", "author", "created_at"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PromotionRequest)
class PromotionRequestAdmin(admin.ModelAdmin):
    list_display = ["version", "state", "requested_by", "requested_at", "decided_by"]
    list_filter = ["state"]
    readonly_fields = ["model", "version", "state", "requested_by", "decided_by", "decided_at"]


@admin.register(ChecklistTick)
class ChecklistTickAdmin(admin.ModelAdmin):
    list_display = ["version", "item", "ticked_by", "ticked_at"]
    raw_id_fields = ["version", "ticked_by"]
