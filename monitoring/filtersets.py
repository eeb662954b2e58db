import django_filters

from catalog.choices import AssetKind
from core.filtersets import by_name
from monitoring.choices import FreshnessMethod, FreshnessStatus
from monitoring.models import FreshnessCheck, FreshnessPolicy


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


class FreshnessCheckFilterSet(django_filters.FilterSet):
    """``/api/v1/freshness-checks/``: one asset's results, or only some statuses."""

    asset = django_filters.UUIDFilter(field_name="policy__asset__uuid")
    status = django_filters.ChoiceFilter(choices=FreshnessStatus.choices)

    class Meta:
        model = FreshnessCheck
        fields = ["asset", "status"]
