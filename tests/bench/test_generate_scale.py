"""The scale generator: the counts it promises, a lineage graph that is a DAG with hubs, and the same rows per seed."""

import hashlib
from collections import defaultdict, deque
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Max, Min

from bench.generate import counts_for, generate, parse_epoch, parse_scale
from bench.generate.catalog import COLUMNS_PER_DATASET
from bench.generate.shape import DOMAIN_SIZE, HUB_DOMAINS
from catalog.choices import AssetKind, Lifecycle
from catalog.lineage import walk
from catalog.models import Asset, Column, Dataset, LineageEdge
from core.models import Notification
from monitoring.choices import FreshnessMethod, FreshnessStatus
from monitoring.models import FreshnessCheck, FreshnessPolicy
from registry.models import ModelCard, ModelVersion, RegisteredModel
from tests import factories
from trust.choices import TrustLevel
from trust.facts import facts_for
from trust.models import DataIssue
from trust.rules import issues_rule

# 500 datasets: a few domains, so edges cross domains and hubs feed more than one.
TINY = 0.005
# The data's "now", pinned so that runs compare; the command's default is the current minute.
EPOCH = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _foreign_keys():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_constraint WHERE contype = 'f'")
        return cursor.fetchone()[0]


def _edges():
    return list(LineageEdge.objects.values_list("upstream_id", "downstream_id"))


def _is_acyclic(edges):
    """Kahn's algorithm: a graph is a DAG when every node can be taken off in topological order."""
    children, indegree = defaultdict(list), defaultdict(int)
    nodes = set()
    for up, down in edges:
        children[up].append(down)
        indegree[down] += 1
        nodes.update((up, down))
    ready = deque(node for node in nodes if indegree[node] == 0)
    taken = 0
    while ready:
        node = ready.popleft()
        taken += 1
        for child in children[node]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    return taken == len(nodes)


def _digest():
    sha = hashlib.sha256()
    for row in FreshnessPolicy.objects.order_by("pk").values_list(
        "asset_id", "method", "announced_status", "next_check_at"
    ):
        sha.update(repr(row).encode())
    for row in FreshnessCheck.objects.order_by("pk").values_list("policy_id", "checked_at", "status"):
        sha.update(repr(row).encode())
    for row in DataIssue.objects.order_by("pk").values_list("asset_id", "severity", "status", "created_at"):
        sha.update(repr(row).encode())
    for row in ModelCard.objects.order_by("pk").values_list("model_id", "description", "results"):
        sha.update(repr(row).encode())
    for row in Asset.objects.order_by("pk").values_list("pk", "uuid", "kind", "name", "slug", "owner_id", "team_id"):
        sha.update(repr(row).encode())
    for row in LineageEdge.objects.order_by("upstream_id", "downstream_id").values_list("upstream_id", "downstream_id"):
        sha.update(repr(row).encode())
    for row in Column.objects.order_by("pk").values_list("dataset_id", "name", "data_type", "is_pii"):
        sha.update(repr(row).encode())
    return sha.hexdigest()


@pytest.mark.django_db
def test_it_writes_the_promised_counts_and_puts_the_foreign_keys_back():
    keys_before = _foreign_keys()
    counts = counts_for(TINY)

    generate(TINY, seed=7, epoch=EPOCH)

    assert Asset.objects.filter(kind=AssetKind.SOURCE).count() == counts["sources"]
    assert Dataset.objects.count() == counts["datasets"]
    assert Column.objects.count() == counts["datasets"] * COLUMNS_PER_DATASET
    assert Asset.objects.filter(kind=AssetKind.REPORT).count() == counts["reports"]
    assert Asset.objects.filter(kind=AssetKind.PIPELINE).count() == counts["pipelines"]
    assert RegisteredModel.objects.count() == counts["models"]
    assert ModelVersion.objects.count() == counts["versions"]
    assert Notification.objects.exists()
    assert FreshnessPolicy.objects.count() == counts["policies"]
    assert FreshnessCheck.objects.count() == counts["checks"]
    assert DataIssue.objects.count() == counts["issues"]
    assert ModelCard.objects.count() == counts["models"]
    # Rules can draw the same pair twice and the table keeps it once: nearly all of the target, never more.
    assert 0.97 * counts["edges"] <= LineageEdge.objects.count() <= counts["edges"]
    assert _foreign_keys() == keys_before
    # The sequences moved past the copied ids: the ORM can add rows after a generation.
    assert (
        factories.asset(AssetKind.DATASET, "added after").pk > Asset.objects.exclude(name="added after").latest("pk").pk
    )


@pytest.mark.django_db
def test_lineage_is_a_dag_with_hubs_that_have_many_descendants():
    generate(TINY, seed=7, epoch=EPOCH)
    edges = _edges()

    assert _is_acyclic(edges)
    hubs = Asset.objects.filter(kind=AssetKind.DATASET, name__startswith="core_")
    assert hubs.count() == len(HUB_DOMAINS)
    assert not LineageEdge.objects.filter(downstream__in=hubs).exists(), "hubs are roots of the graph"
    datasets = Dataset.objects.count()
    biggest = max(len(walk([hub.pk], "down", max_depth=10)) for hub in hubs)
    assert biggest >= datasets // 5, "a hub reaches a large part of the catalog within 10 hops"
    # An ordinary dataset in the last layer of a domain reaches far less.
    ordinary = Asset.objects.filter(kind=AssetKind.DATASET).order_by("pk")[DOMAIN_SIZE - 1]
    assert len(walk([ordinary.pk], "down", max_depth=10)) < biggest


@pytest.mark.django_db
def test_part_of_the_dataset_edges_have_column_lineage_between_same_named_columns():
    from catalog.models import ColumnLineage

    generate(TINY, seed=7, epoch=EPOCH)

    links = list(
        ColumnLineage.objects.values_list(
            "upstream__name", "downstream__name", "upstream__dataset_id", "downstream__dataset_id"
        )
    )
    assert links and all(up == down for up, down, _, _ in links)
    linked = {(up, down) for _, _, up, down in links}
    between_datasets = set(
        LineageEdge.objects.filter(upstream__kind=AssetKind.DATASET, downstream__kind=AssetKind.DATASET).values_list(
            "upstream_id", "downstream_id"
        )
    )
    assert linked <= between_datasets
    assert 0.1 * len(between_datasets) <= len(linked) <= 0.3 * len(between_datasets)


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_rows_and_another_seed_different_ones():
    digests = []
    for seed in (3, 3, 4):
        with transaction.atomic():
            generate(TINY, seed=seed, epoch=EPOCH)
            digests.append(_digest())
            transaction.set_rollback(True)

    assert digests[0] == digests[1]
    assert digests[0] != digests[2]


@pytest.mark.django_db
def test_each_policy_reads_as_the_portal_left_it_at_its_last_check():
    generate(TINY, seed=7, epoch=EPOCH)
    policies = list(FreshnessPolicy.objects.select_related("asset"))

    for policy in policies:
        status, reason = policy.status_at(policy.last_checked_at)
        last = policy.checks.first()
        assert (policy.announced_status, last.status, last.reason) == (status, status, reason[:500])
        assert policy.next_check_at == policy.plan_next_check(policy.last_checked_at)
    hubs = {policy.asset.name for policy in policies if policy.asset.name.startswith("core_")}
    assert len(hubs) == len(HUB_DOMAINS)
    assert {policy.method for policy in policies} == set(FreshnessMethod.values)
    announced = [policy.announced_status for policy in policies]
    assert announced.count(FreshnessStatus.FRESH) > len(announced) / 2
    assert {FreshnessStatus.STALE, FreshnessStatus.UNKNOWN} <= set(announced)
    # The history ends at the epoch and stays inside the default retention, so the daily prune keeps it.
    span = FreshnessCheck.objects.aggregate(oldest=Min("checked_at"), newest=Max("checked_at"))
    assert EPOCH - timedelta(days=90) < span["oldest"] and span["newest"] <= EPOCH


@pytest.mark.django_db
def test_nothing_retired_still_feeds_another_asset():
    generate(TINY, seed=7, epoch=EPOCH)
    retired = Asset.objects.filter(lifecycle=Lifecycle.RETIRED)
    assert retired.exists() and Asset.objects.filter(lifecycle=Lifecycle.DEPRECATED).exists()
    assert not LineageEdge.objects.filter(upstream__in=retired).exists()


@pytest.mark.django_db
def test_serious_open_issues_make_the_issue_verdict_differ_across_the_catalog():
    generate(TINY, seed=7, epoch=EPOCH)
    assets = list(Asset.objects.filter(kind__in=[AssetKind.DATASET, AssetKind.REPORT]).values_list("pk", flat=True))

    levels = {issues_rule(facts)[0] for facts in facts_for(assets).values()}

    assert levels == {TrustLevel.TRUSTED, TrustLevel.CAUTION, TrustLevel.DO_NOT_USE}
    serious_open = DataIssue.objects.filter(status__in=DataIssue.OPEN_STATES).exclude(severity="minor")
    assert serious_open.count() < DataIssue.objects.count() / 20
    # Nobody left an overdue issue unannounced: the sweep would have alerted each one when its deadline passed.
    assert not DataIssue.objects.filter(
        status="open", acknowledge_by__lte=EPOCH, acknowledge_alert_at__isnull=True
    ).exists()


@pytest.mark.django_db
def test_model_cards_are_filled_to_varied_completeness():
    generate(TINY, seed=7, epoch=EPOCH)

    percents = [model.card_completeness()[0] for model in RegisteredModel.objects.select_related("asset")]

    assert min(percents) < 50 and max(percents) >= 80


@pytest.mark.django_db
def test_the_command_reports_what_it_wrote():
    out = StringIO()
    call_command("generate_scale", "--scale", str(TINY), "--seed", "1", "--epoch", "2026-11-02", stdout=out)

    assert "lineage" in out.getvalue()
    assert "Wrote" in out.getvalue()


@pytest.mark.django_db
def test_it_refuses_a_catalog_that_is_not_empty(owner):
    factories.asset(AssetKind.DATASET, "orders", owner=owner)

    with pytest.raises(CommandError, match="not empty"):
        generate(TINY, seed=1)
    assert Asset.objects.count() == 1


@pytest.mark.django_db
def test_it_refuses_a_database_that_is_not_postgresql(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")

    with pytest.raises(CommandError, match="needs PostgreSQL"):
        generate(TINY, seed=1)
    monkeypatch.undo()
    assert not Asset.objects.exists()


def test_it_rejects_an_epoch_that_is_not_a_date():
    with pytest.raises(CommandError, match="--epoch"):
        parse_epoch("yesterday")
    assert parse_epoch("2026-11-02") == datetime(2026, 11, 2, tzinfo=UTC)


@pytest.mark.parametrize("value", ["huge", "0", "-1", "2"])
def test_it_rejects_a_scale_that_makes_no_sense(value):
    with pytest.raises(CommandError, match="--scale"):
        parse_scale(value)


def test_named_scales():
    assert parse_scale("full") == 1.0
    assert counts_for(1.0)["datasets"] == 100_000
    assert counts_for(1.0)["edges"] == 1_000_000
    assert counts_for(parse_scale("small"))["datasets"] < counts_for(1.0)["datasets"]


@pytest.mark.django_db
def test_the_model_in_use_has_a_day_of_predictions_that_drift_on_one_feature():
    from mlops.models import Outcome, Prediction
    from mlops.monitoring import monitor_model

    counts = counts_for(TINY)
    generate(TINY, seed=7, epoch=EPOCH)
    assert Prediction.objects.count() == counts["predictions"]
    model_ids = set(Prediction.objects.values_list("model_id", flat=True).distinct())
    assert len(model_ids) == 1
    model = RegisteredModel.objects.get(pk=model_ids.pop())
    last_day = Prediction.objects.filter(predicted_at__gte=EPOCH - timedelta(days=1))
    assert last_day.count() == counts["predictions_per_day"]
    assert Outcome.objects.count() == pytest.approx(counts["predictions_per_day"] / 2, rel=0.1)
    summary = monitor_model(model, now=EPOCH)
    assert summary["rows"] == counts["predictions_per_day"]
    drifting = set(model.monitoring_runs.get().results.filter(kind="feature_drift", status="alert")
                   .values_list("name", flat=True))  # fmt: skip
    assert drifting == {"tenure"}
