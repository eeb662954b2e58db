import django_filters

from catalog.choices import AssetKind
from catalog.filtersets import by_name
from monitoring.choices import FreshnessMethod, FreshnessStatus, JobKind, JobState, NotificationKind
from monitoring.models import Alert, FreshnessCheck, FreshnessPolicy, JobRun


class FreshnessPolicyFilterSet(django_filters.FilterSet):
    """Shared by the freshness board and ``/api/v1/freshness-policies/``. Status filters on the status of the last
    check (the sweep checks each policy when its deadline passes); a policy never checked yet counts as unknown."""

    team = by_name("asset__team__slug", "Team (short name)")
    kind = django_filters.ChoiceFilter(field_name="asset__kind", choices=AssetKind.choices, empty_label="Any")
    method = django_filters.ChoiceFilter(choices=FreshnessMethod.choices, empty_label="Any")
    asset = django_filters.UUIDFilter(field_name="asset__uuid")
    status = django_filters.ChoiceFilter(choices=FreshnessStatus.choices, method="filter_status", empty_label="Any")

    class Meta:
        model = FreshnessPolicy
        fields = ["team", "kind", "method", "asset", "status"]

    def filter_status(self, queryset, name, value):
        return queryset.with_board_status().filter(board_status=value)


class JobRunFilterSet(django_filters.FilterSet):
    """Shared by the job list and ``/api/v1/job-runs/``."""

    kind = django_filters.ChoiceFilter(choices=JobKind.choices, empty_label="Any")
    state = django_filters.ChoiceFilter(choices=JobState.choices, empty_label="Any")
    asset = django_filters.UUIDFilter(field_name="asset__uuid")
    mine = django_filters.BooleanFilter(method="filter_mine", label="Started by me")

    class Meta:
        model = JobRun
        fields = ["kind", "state", "asset", "mine"]

    def filter_mine(self, queryset, name, value):
        return queryset.filter(requested_by=self.request.user) if value else queryset


class AlertFilterSet(django_filters.FilterSet):
    """Shared by the alert history and ``/api/v1/alerts/``."""

    kind = django_filters.ChoiceFilter(choices=NotificationKind.choices, empty_label="Any")
    team = by_name("asset__team__slug", "Team (short name)")
    asset = django_filters.UUIDFilter(field_name="asset__uuid")

    class Meta:
        model = Alert
        fields = ["kind", "team", "asset"]


class FreshnessCheckFilterSet(django_filters.FilterSet):
    """``/api/v1/freshness-checks/``: one asset's results, or only some statuses."""

    asset = django_filters.UUIDFilter(field_name="policy__asset__uuid")
    status = django_filters.ChoiceFilter(choices=FreshnessStatus.choices)

    class Meta:
        model = FreshnessCheck
        fields = ["asset", "status"]
