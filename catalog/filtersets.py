import django_filters
from django.db.models import Q

from catalog.choices import AssetKind, Classification, Lifecycle
from catalog.models import Asset, Dataset, DataSource, Pipeline, Report
from core.filtersets import by_name


class AssetFilterSet(django_filters.FilterSet):
    """Shared by the catalog list pages and ``/api/v1/assets/``."""

    q = django_filters.CharFilter(method="filter_q", label="Name or description contains")
    kind = django_filters.ChoiceFilter(choices=AssetKind.choices)
    owner = by_name("owner__username", "Owner (username)")
    team = by_name("team__slug", "Team (short name)")
    tag = by_name("tags__name", "Tag")
    lifecycle = django_filters.ChoiceFilter(choices=Lifecycle.choices, label="Status")
    classification = django_filters.ChoiceFilter(
        field_name="dataset__classification", choices=Classification.choices, label="Classification (datasets)"
    )
    sort = django_filters.OrderingFilter(
        fields=[("name", "name"), ("updated_at", "updated"), ("kind", "kind"), ("owner__username", "owner")],
        field_labels={"updated_at": "Last changed", "owner__username": "Owner"},
        label="Sort by",
    )

    class Meta:
        model = Asset
        fields = ["q", "kind", "owner", "team", "tag", "lifecycle", "classification"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))


class KindFilterSet(django_filters.FilterSet):
    """The asset filters for the API's per-kind lists (sources, datasets, reports, pipelines)."""

    q = django_filters.CharFilter(method="filter_q", label="Name or description contains")
    owner = by_name("asset__owner__username", "Owner (username)")
    team = by_name("asset__team__slug", "Team (short name)")
    tag = by_name("asset__tags__name", "Tag")
    lifecycle = django_filters.ChoiceFilter(field_name="asset__lifecycle", choices=Lifecycle.choices, label="Status")

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(asset__name__icontains=value) | Q(asset__description__icontains=value))


class SourceFilterSet(KindFilterSet):
    class Meta:
        model = DataSource
        fields = ["source_kind"]


class DatasetFilterSet(KindFilterSet):
    source = django_filters.CharFilter(field_name="source__asset__slug")

    class Meta:
        model = Dataset
        fields = ["classification", "format"]


class ReportFilterSet(KindFilterSet):
    class Meta:
        model = Report
        fields = []


class PipelineFilterSet(KindFilterSet):
    class Meta:
        model = Pipeline
        fields = ["namespace"]
