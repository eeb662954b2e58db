import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q

from accounts.models import Team
from catalog.models import Tag
from registry.choices import Stage
from registry.models import ModelVersion, RegisteredModel


class RegisteredModelFilterSet(django_filters.FilterSet):
    """Shared by the model list page and ``/api/v1/models/``."""

    q = django_filters.CharFilter(method="filter_q", label="Name or summary contains")
    owner = django_filters.ModelChoiceFilter(
        field_name="asset__owner",
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        to_field_name="username",
    )
    team = django_filters.ModelChoiceFilter(field_name="asset__team", queryset=Team.objects.all(), to_field_name="slug")
    tag = django_filters.ModelChoiceFilter(field_name="asset__tags", queryset=Tag.objects.all(), to_field_name="name")
    stage = django_filters.ChoiceFilter(choices=Stage.choices, method="filter_stage", label="Has a version that is")

    class Meta:
        model = RegisteredModel
        fields = ["q", "owner", "team", "tag", "stage"]

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
