"""Filters of the shared rows (job runs, alerts), and the filter helper every app's FilterSets use."""

import django_filters

from core.choices import JobKind, JobState, NotificationKind
from core.models import Alert, JobRun


def by_name(field_name, label):
    """A filter on a person's username, a team's slug or a tag's name, typed rather than picked: a select listing
    every user, team and tag of a large company would weigh more than the page it sits on (see bench/RESULTS.md)."""
    return django_filters.CharFilter(field_name=field_name, label=label)


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
