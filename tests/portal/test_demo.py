import itertools

import pytest
from django.core.management import call_command
from django.db.models import Count

from accounts.models import Team
from catalog.models import Asset, Column, LineageEdge
from registry.models import ModelVersion


def _counts():
    by_kind = dict(Asset.objects.values_list("kind").annotate(n=Count("pk")).order_by())
    return {
        **by_kind,
        "teams": Team.objects.count(),
        "columns": Column.objects.count(),
        "edges": LineageEdge.objects.count(),
        "versions": ModelVersion.objects.count(),
    }


@pytest.mark.django_db
def test_the_demo_tells_a_whole_story_and_loading_it_twice_changes_nothing(settings, tmp_path):
    settings.DATA_ROOT = tmp_path
    call_command("load_demo")
    first = _counts()
    call_command("load_demo")
    assert _counts() == first
    assert first["teams"] >= 3
    assert first["source"] >= 6
    assert first["dataset"] >= 30
    assert first["report"] >= 5
    assert first["pipeline"] >= 3
    assert first["model"] >= 4
    assert first["versions"] >= 4
    assert first["columns"] >= 30 * 3
    assert (tmp_path / "ml" / "customer_churn.csv").exists()
    assert (tmp_path / "store.sqlite3").exists()


@pytest.mark.django_db
def test_the_demo_lineage_runs_from_a_source_table_to_a_report(settings, tmp_path):
    settings.DATA_ROOT = tmp_path
    call_command("load_demo")
    # raw orders -> orders ETL -> orders -> daily sales -> executive dashboard
    path = ["raw-orders", "orders-etl", "orders", "daily-sales", "executive-sales"]
    for upstream, downstream in itertools.pairwise(path):
        assert LineageEdge.objects.filter(upstream__slug=upstream, downstream__slug=downstream).exists()
