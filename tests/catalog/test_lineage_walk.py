import itertools
import random

import pytest
from django.db import connection

from catalog.choices import AssetKind
from catalog.lineage import MAX_DEPTH, walk
from catalog.models import LineageEdge
from tests import factories
from tests.helpers import assert_num_queries


def chain(length):
    nodes = [factories.asset(AssetKind.DATASET, f"node {i}") for i in range(length)]
    for upstream, downstream in itertools.pairwise(nodes):
        factories.edge(upstream, downstream)
    return nodes


@pytest.mark.django_db
def test_downstream_and_upstream_with_hop_counts():
    a, b, c, d = chain(4)
    assert walk([a.pk], "down") == {b.pk: 1, c.pk: 2, d.pk: 3}
    assert walk([d.pk], "up", max_depth=2) == {c.pk: 1, b.pk: 2}


@pytest.mark.django_db
def test_a_cycle_terminates_and_leaves_out_the_start():
    a, b, c = chain(3)
    factories.edge(c, a)
    assert walk([a.pk], "down", max_depth=MAX_DEPTH) == {b.pk: 1, c.pk: 2}


@pytest.mark.django_db
def test_the_depth_limit_holds_even_when_asked_for_more():
    nodes = chain(15)
    found = walk([nodes[0].pk], "down", max_depth=50)
    assert len(found) == MAX_DEPTH
    assert max(found.values()) == MAX_DEPTH


@pytest.mark.django_db
def test_the_shortest_path_wins_in_a_diamond():
    a, _, c = chain(3)
    factories.edge(a, c)
    assert walk([a.pk], "down")[c.pk] == 1


@pytest.mark.django_db
def test_one_query_whatever_the_graph():
    nodes = chain(30)
    with assert_num_queries(1):
        walk([nodes[0].pk], "down", max_depth=10)


@pytest.mark.django_db
def test_several_starts_give_each_asset_its_nearest_start_and_leave_every_start_out():
    a, b, c, d = chain(4)
    e = factories.asset(AssetKind.REPORT, "e")
    factories.edge(d, e)
    # b is a start and also 1 hop from a: it is left out; d is 2 hops from b, 3 from a.
    assert walk([a.pk, b.pk], "down") == {c.pk: 1, d.pk: 2, e.pk: 3}
    assert walk([e.pk, c.pk], "up", max_depth=1) == {d.pk: 1, b.pk: 1}


@pytest.mark.django_db
def test_upstream_through_a_cycle_stops_at_the_depth_and_leaves_out_the_start():
    a, b, c, d = chain(4)
    factories.edge(d, b)  # b → c → d → b
    assert walk([d.pk], "up", max_depth=MAX_DEPTH) == {c.pk: 1, b.pk: 2, a.pk: 3}
    assert walk([d.pk], "up", max_depth=2) == {c.pk: 1, b.pk: 2}


@pytest.mark.django_db
def test_an_asset_without_lineage_reaches_nothing():
    (alone,) = chain(1)
    assert walk([alone.pk], "down", max_depth=MAX_DEPTH) == {}
    assert walk([alone.pk], "up", max_depth=MAX_DEPTH) == {}


@pytest.mark.django_db
def test_the_postgresql_walk_agrees_with_the_portable_walk_on_a_tangled_graph(monkeypatch):
    """SQLite (``make run``) takes the plain recursive query; both must give the same hops for any start."""
    rng = random.Random(7)
    nodes = chain(40)  # a long path, so depth 10 cuts it
    for _ in range(80):  # shortcuts, back edges and cycles
        up, down = rng.sample(nodes, 2)
        LineageEdge.objects.get_or_create(upstream=up, downstream=down)
    cases = [([node.pk], direction, depth) for node in nodes[::3] for direction in ("down", "up") for depth in (1, 3)]
    cases += [([node.pk for node in rng.sample(nodes, 4)], direction, MAX_DEPTH) for direction in ("down", "up")]
    breadth_first = [walk(*case) for case in cases]
    monkeypatch.setattr(connection, "vendor", "sqlite")
    assert [walk(*case) for case in cases] == breadth_first
    assert any(len(found) > 10 for found in breadth_first)
