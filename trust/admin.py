from django.contrib import admin

from core.admin import AnnouncingAdmin, HistoryAdmin
from trust.models import (
    BadgeLink,
    Certification,
    ChangeRequest,
    ChangeRequestEvent,
    DataIssue,
    Dependency,
    Deprecation,
    DeprecationImpact,
    IssueEvent,
    ProblemDelivery,
    ProblemNotice,
    RequirementsReview,
    Review,
    StoredBadge,
    UpstreamProblem,
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


@admin.register(StoredBadge)
class StoredBadgeAdmin(HistoryAdmin):
    """What the refresher computed; a badge changes by its inputs changing, never by hand."""

    list_display = ["asset", "level", "stale", "computed_at", "expires_at"]
    list_filter = ["level", "stale"]
    search_fields = ["asset__name"]
    list_select_related = ["asset"]


@admin.register(Dependency)
class DependencyAdmin(admin.ModelAdmin):
    """Declared through the dataset page or the API (who may speak for the consumer is checked there); the owner's
    answer goes through acknowledge/decline, which tell the consumer. Staff may correct the columns or purpose."""

    list_display = ["dataset", "consumer_name", "status", "columns", "declared_by", "declared_at", "decided_at"]
    list_filter = ["status"]
    search_fields = [
        "dataset__name", "consumer_user__username", "consumer_team__name", "consumer_asset__name", "purpose",
    ]  # fmt: skip
    raw_id_fields = ["dataset", "consumer_user", "consumer_team", "consumer_asset", "declared_by", "decided_by"]
    readonly_fields = ["uuid", "status", "decline_reason", "declared_by", "declared_at", "decided_by", "decided_at"]
    list_select_related = ["dataset", "consumer_user", "consumer_team", "consumer_asset", "declared_by"]

    def has_add_permission(self, request, obj=None):
        return False


class ChangeRequestEventInline(admin.TabularInline):
    """The request's history: read only."""

    model = ChangeRequestEvent
    extra = 0
    readonly_fields = ["author", "from_status", "to_status", "body", "created_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ChangeRequest)
class ChangeRequestAdmin(admin.ModelAdmin):
    """Read mostly: a request moves through its page (proposed → accepted → in progress → delivered, or declined),
    which records the step and tells the requester and watchers."""

    list_display = ["title", "asset", "status", "requested_by", "created_at", "closed_at"]
    list_filter = ["status"]
    search_fields = ["title", "wanted", "why", "asset__name", "requested_by__username"]
    raw_id_fields = ["asset", "requested_by"]
    readonly_fields = ["uuid", "status", "decline_reason", "requested_by", "created_at", "updated_at", "closed_at"]
    list_select_related = ["asset", "requested_by"]
    inlines = [ChangeRequestEventInline]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RequirementsReview)
class RequirementsReviewAdmin(HistoryAdmin):
    list_display = ["asset", "reviewed_by", "reviewed_at", "open_requests", "next_review_date", "current"]
    list_filter = ["current"]
    search_fields = ["asset__name", "reviewed_by__username", "comment"]
    list_select_related = ["asset", "reviewed_by"]


@admin.register(UpstreamProblem)
class UpstreamProblemAdmin(HistoryAdmin):
    """Problems told to the people downstream (``trust.downstream``), open until cleared."""

    list_display = ["summary", "asset", "cause_kind", "critical", "silenced", "started_at", "cleared_at"]
    list_filter = ["cause_kind", "critical", "silenced", ("cleared_at", admin.EmptyFieldListFilter)]
    search_fields = ["summary", "asset__name", "cause_key"]
    list_select_related = ["asset"]
    date_hierarchy = "started_at"


@admin.register(ProblemNotice)
class ProblemNoticeAdmin(HistoryAdmin):
    """Each transition's fan-out (the outbox): a notice stuck in pending or sending is what the relay picks up."""

    list_display = ["problem", "transition", "state", "created_at", "sent_at", "affected_count", "recipient_count"]
    list_filter = ["transition", "state"]
    search_fields = ["problem__summary", "problem__asset__name"]
    list_select_related = ["problem__asset"]
    date_hierarchy = "created_at"


@admin.register(ProblemDelivery)
class ProblemDeliveryAdmin(HistoryAdmin):
    list_display = ["notice", "user", "team", "asset_count", "created_at"]
    search_fields = ["user__username", "team__name", "notice__problem__summary"]
    list_select_related = ["notice__problem__asset", "user", "team"]
