import django_filters
from django.db.models import Q

from core.filtersets import by_name
from registry.choices import Stage
from registry.models import ModelVersion, RegisteredModel


class RegisteredModelFilterSet(django_filters.FilterSet):
    """Shared by the model list page and ``/api/v1/models/``."""

    q = django_filters.CharFilter(method="filter_q", label="Name or summary contains")
    # MLflow's `search_registered_models(filter_string="name LIKE 'churn%'")`, served by the name's trigram index.
    name_prefix = django_filters.CharFilter(
        field_name="asset__name", lookup_expr="istartswith", label="Name starts with"
    )
    owner = by_name("asset__owner__username", "Owner (username)")
    team = by_name("asset__team__slug", "Team (short name)")
    tag = by_name("asset__tags__name", "Tag")
    stage = django_filters.ChoiceFilter(choices=Stage.choices, method="filter_stage", label="Has a version that is")

    class Meta:
        model = RegisteredModel
        fields = ["q", "name_prefix", "owner", "team", "tag", "stage"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(asset__name__icontains=value) | Q(summary__icontains=value))

    def filter_stage(self, queryset, name, value):
        return queryset.filter(pk__in=ModelVersion.objects.filter(stage=value).values("model_id"))


class ModelVersionFilterSet(django_filters.FilterSet):
    """Shared by the comparison page and ``/api/v1/models/<slug>/versions/``."""

    stage = django_filters.ChoiceFilter(choices=Stage.choices)

    class Meta:
        model = ModelVersion
        fields = ["stage"]
