import django_filters
from django.db.models import Q

from catalog.choices import AssetKind
from trust.choices import ChangeRequestStatus, IssueCategory, IssueSeverity, IssueStatus
from trust.models import ChangeRequest, DataIssue
from trust.models.requests import REQUESTABLE_KINDS


class DataIssueFilterSet(django_filters.FilterSet):
    """Shared by the issues page and ``/api/v1/issues/``."""

    q = django_filters.CharFilter(method="filter_q", label="Title or text contains")
    state = django_filters.ChoiceFilter(
        choices=[("open", "Open"), ("closed", "Closed")],
        method="filter_state",
        label="Open or closed",
    )
    status = django_filters.ChoiceFilter(choices=IssueStatus.choices)
    severity = django_filters.ChoiceFilter(choices=IssueSeverity.choices)
    category = django_filters.ChoiceFilter(choices=IssueCategory.choices)
    kind = django_filters.ChoiceFilter(field_name="asset__kind", choices=AssetKind.choices, label="Asset kind")
    asset = django_filters.UUIDFilter(field_name="asset__uuid", label="Asset (UUID)")
    mine = django_filters.BooleanFilter(method="filter_mine", label="Reported by me")
    my_assets = django_filters.BooleanFilter(method="filter_my_assets", label="On my assets")

    class Meta:
        model = DataIssue
        fields = ["q", "state", "status", "severity", "category", "kind", "asset", "mine", "my_assets"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))

    def filter_state(self, queryset, name, value):
        if value == "open":
            return queryset.filter(status__in=DataIssue.OPEN_STATES)
        return queryset.filter(status__in=DataIssue.CLOSED_STATES)

    def filter_mine(self, queryset, name, value):
        user = self.request.user
        return queryset.filter(reported_by=user) if value else queryset.exclude(reported_by=user)

    def filter_my_assets(self, queryset, name, value):
        user = self.request.user
        mine = Q(asset__owner=user) | Q(asset__team__members=user)
        return queryset.filter(pk__in=DataIssue.objects.filter(mine).values("pk")) if value else queryset


class ChangeRequestFilterSet(django_filters.FilterSet):
    """Shared by the change requests page and ``/api/v1/change-requests/``."""

    q = django_filters.CharFilter(method="filter_q", label="Title or text contains")
    state = django_filters.ChoiceFilter(
        choices=[("open", "Open"), ("closed", "Closed")], method="filter_state", label="Open or closed"
    )
    status = django_filters.ChoiceFilter(choices=ChangeRequestStatus.choices)
    kind = django_filters.ChoiceFilter(
        field_name="asset__kind",
        choices=[(kind, AssetKind(kind).label) for kind in REQUESTABLE_KINDS],
        label="Asset kind",
    )
    asset = django_filters.UUIDFilter(field_name="asset__uuid", label="Asset (UUID)")
    mine = django_filters.BooleanFilter(method="filter_mine", label="Requested by me")
    my_assets = django_filters.BooleanFilter(method="filter_my_assets", label="On my assets")

    class Meta:
        model = ChangeRequest
        fields = ["q", "state", "status", "kind", "asset", "mine", "my_assets"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(wanted__icontains=value) | Q(why__icontains=value))

    def filter_state(self, queryset, name, value):
        open_ = Q(status__in=ChangeRequest.OPEN_STATES)
        return queryset.filter(open_) if value == "open" else queryset.exclude(open_)

    def filter_mine(self, queryset, name, value):
        user = self.request.user
        return queryset.filter(requested_by=user) if value else queryset.exclude(requested_by=user)

    def filter_my_assets(self, queryset, name, value):
        user = self.request.user
        mine = Q(asset__owner=user) | Q(asset__team__members=user)
        return queryset.filter(pk__in=ChangeRequest.objects.filter(mine).values("pk")) if value else queryset
