import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q

from accounts.models import Team
from catalog.choices import AssetKind, Lifecycle
from catalog.models import Asset, Tag


class AssetFilterSet(django_filters.FilterSet):
    """Shared by the catalog list page and ``/api/v1/assets/``."""

    q = django_filters.CharFilter(method="filter_q", label="Name or description contains")
    kind = django_filters.ChoiceFilter(choices=AssetKind.choices)
    owner = django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        to_field_name="username",
    )
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.all(), to_field_name="slug")
    tag = django_filters.ModelChoiceFilter(field_name="tags", queryset=Tag.objects.all(), to_field_name="name")
    lifecycle = django_filters.ChoiceFilter(choices=Lifecycle.choices, label="Status")

    class Meta:
        model = Asset
        fields = ["q", "kind", "owner", "team", "tag", "lifecycle"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))
