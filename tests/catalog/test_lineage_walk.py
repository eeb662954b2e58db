import itertools

import pytest

from catalog.choices import AssetKind
from catalog.lineage import MAX_DEPTH, walk
from tests import factories


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
def test_one_query_whatever_the_graph(django_assert_num_queries):
    nodes = chain(30)
    with django_assert_num_queries(1):
        walk([nodes[0].pk], "down", max_depth=10)
