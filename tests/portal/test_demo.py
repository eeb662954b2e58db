"""The demo company: loading it twice changes nothing, and what it holds tells the portal's whole story.

Only the first test loads its own demo (it loads it twice); the others read the one loaded for the session."""

import itertools

import pytest
from django.core.management import call_command
from django.db.models import Count

from accounts.models import Team
from catalog.models import Asset, Column, LineageEdge
from core.models import JobRun, Notification
from monitoring.models import FreshnessPolicy
from registry.models import CardRevision, ModelVersion, PromotionRequest
from trust.models import BadgeLink, Certification, DataIssue, Deprecation, DeprecationImpact, Review


def _counts():
    by_kind = dict(Asset.objects.values_list("kind").annotate(n=Count("pk")).order_by())
    tables = [Team, Column, LineageEdge, ModelVersion, CardRevision, PromotionRequest, FreshnessPolicy, JobRun]
    tables += [DataIssue, Deprecation, DeprecationImpact, Review, Certification, BadgeLink, Notification]
    return {**by_kind, **{model.__name__: model.objects.count() for model in tables}}


@pytest.mark.django_db
def test_loading_the_demo_twice_changes_nothing(settings, tmp_path):
    settings.DATA_ROOT = tmp_path
    call_command("load_demo")
    first = _counts()
    keys = dict(FreshnessPolicy.objects.values_list("asset__slug", "ping_key"))
    call_command("load_demo")
    assert _counts() == first
    # Heartbeat addresses are random per instance, and kept on a reload (the pipelines already use them).
    assert dict(FreshnessPolicy.objects.values_list("asset__slug", "ping_key")) == keys
    assert (tmp_path / "ml" / "customer_churn.csv").exists()
    assert (tmp_path / "store.sqlite3").exists()


def test_the_demo_tells_a_whole_story(demo):
    counts = _counts()
    assert counts["Team"] >= 3
    assert counts["source"] >= 6
    assert counts["dataset"] >= 30
    assert counts["report"] >= 5
    assert counts["pipeline"] >= 3
    assert counts["model"] >= 4
    assert counts["ModelVersion"] >= 4
    assert counts["Column"] >= 30 * 3


def test_the_demo_lineage_runs_from_a_source_table_to_a_report(demo):
    # raw orders -> orders ETL -> orders -> daily sales -> executive dashboard
    path = ["raw-orders", "orders-etl", "orders", "daily-sales", "executive-sales"]
    for upstream, downstream in itertools.pairwise(path):
        assert LineageEdge.objects.filter(upstream__slug=upstream, downstream__slug=downstream).exists()
