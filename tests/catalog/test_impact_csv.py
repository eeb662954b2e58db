"""The impact files (everything downstream of an asset, or of one column) are streamed a hop at a time, and say
exactly what the file written at once in memory said."""

import csv
import io
import itertools

import pytest

from catalog.assets import set_column_lineage
from catalog.choices import AssetKind, Lifecycle, LineageOrigin
from catalog.lineage import column_walk, impact_key, walk
from catalog.models import Asset, Column, LineageEdge
from tests import factories
from tests.helpers import body, count_queries

pytestmark = pytest.mark.django_db


def written_at_once(request_url, asset, depth):
    """The asset impact file as the portal wrote it before it streamed (the whole walk, every row sorted, one
    string): the reference the streamed file is compared with, byte for byte."""
    hops = walk([asset.pk], "down", depth)
    content = io.StringIO()
    writer = csv.writer(content)
    writer.writerow(["hops", "kind", "name", "owner", "owner email", "team", "status", "url"])
    rows = Asset.objects.filter(pk__in=list(hops)).select_related("owner", "team")
    for row in sorted(rows, key=lambda row: impact_key(hops[row.pk], row.name, row.pk)):
        writer.writerow(
            [
                hops[row.pk],
                AssetKind(row.kind).label,
                row.name,
                row.owner.username if row.owner else "",
                row.owner.email if row.owner else "",
                row.team.name if row.team else "",
                Lifecycle(row.lifecycle).label,
                request_url + row.get_absolute_url(),
            ]
        )
    return content.getvalue().encode()


def columns_written_at_once(start, depth):
    """The column impact file as the portal wrote it before it streamed."""
    hops = column_walk([start.pk], "down", depth)
    rows = sorted(
        Column.objects.filter(pk__in=list(hops)).select_related("dataset__asset__owner", "dataset__asset__team"),
        key=lambda row: (hops[row.pk], row.dataset.asset.name.lower(), row.name),
    )
    content = io.StringIO()
    writer = csv.writer(content)
    writer.writerow(["hops", "dataset", "column", "type", "owner", "owner email", "team", "url"])
    for row in rows:
        owner, team = row.dataset.asset.owner, row.dataset.asset.team
        writer.writerow(
            [
                hops[row.pk],
                row.dataset.asset.name,
                row.name,
                row.data_type,
                owner.username if owner else "",
                owner.email if owner else "",
                team.name if team else "",
                "http://testserver" + row.dataset.asset.get_absolute_url(),
            ]
        )
    return content.getvalue().encode()


@pytest.fixture
def hub(owner, team):
    """A hub whose descendants are reached by paths of several lengths and through a cycle, with names that sort
    differently by case, tie, hold commas, quotes and accents, and assets with no owner or team, of every kind."""
    rita = factories.user("rita")
    hub = factories.asset(AssetKind.DATASET, "Hub", owner=owner, team=team)
    names = ["zeta", "Alpha", "alpha", 'Émile\'s, "quoted" report', "beta", "Beta", "gamma\nnewline", "Ω omega"]
    kinds = [AssetKind.DATASET, AssetKind.REPORT, AssetKind.PIPELINE, AssetKind.MODEL]
    lifecycles = list(Lifecycle)
    levels = [[hub]]

    def link(upstream, downstream):
        LineageEdge.objects.get_or_create(upstream=upstream, downstream=downstream)

    for depth in range(1, 6):
        level = []
        for number, name in enumerate(names):
            level.append(
                Asset.objects.create(
                    kind=kinds[(number + depth) % len(kinds)],
                    name=name,
                    slug=f"d{depth}-{number}",
                    owner=[owner, rita, None][number % 3],
                    team=team if number % 2 else None,
                    lifecycle=lifecycles[number % len(lifecycles)],
                )
            )
        for up, down in itertools.product(levels[-1], level):
            if (up.pk + down.pk) % 3:  # not every pair: some assets are reached only through others
                link(up, down)
        link(levels[-1][0], level[0])
        levels.append(level)
    link(hub, levels[4][1])  # a shortcut: five hops away by one path, one hop by this one
    link(levels[5][2], hub)  # a cycle back to the start, which is never listed
    link(levels[5][3], levels[1][5])
    return hub


@pytest.mark.parametrize("depth", ["", "?depth=2", "?depth=10"])
def test_the_streamed_impact_file_is_byte_for_byte_the_file_written_at_once(client_for, owner, hub, depth):
    response = client_for(owner).get(f"/catalog/dataset/hub/impact.csv{depth}")

    expected = written_at_once("http://testserver", hub, int(depth.rsplit("=", 1)[-1] or 3))
    assert response.streaming
    assert body(response) == expected
    assert expected.count(b"\n") > 20  # the graph is not empty
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="impact-hub.csv"'


def test_an_asset_with_nothing_downstream_gives_the_header_alone(client_for, owner):
    factories.asset(AssetKind.REPORT, "Lonely", owner=owner)

    response = client_for(owner).get("/catalog/report/lonely/impact.csv")

    assert body(response) == b"hops,kind,name,owner,owner email,team,status,url\r\n"


def test_the_impact_file_is_sent_a_hop_at_a_time_each_hop_read_when_it_is_sent(client_for, owner, hub):
    response = client_for(owner).get("/catalog/dataset/hub/impact.csv?depth=10")
    pieces = iter(response.streaming_content)

    with count_queries() as first:
        head = next(pieces).decode()
    with count_queries() as rest:
        tail = b"".join(pieces).decode()

    rows = list(csv.reader(io.StringIO(head)))
    assert rows[0][0] == "hops" and {row[0] for row in rows[1:]} == {"1"}
    assert len(rows) == 1 + sum(1 for row in csv.reader(io.StringIO(head + tail)) if row[0] == "1")
    # The first piece: the walk's cursor opened and its first hop fetched, and that hop's assets; no more.
    assert len(first) < len(rest)
    assert {row[0] for row in csv.reader(io.StringIO(tail))} == {"2", "3", "4", "5"}


def test_the_streamed_file_of_one_column_s_impact_is_the_file_written_at_once(client_for, owner, team):
    rita = factories.user("rita")
    customers = factories.dataset("customers", owner=owner, columns=[("email", "text")])
    readers = [
        factories.dataset(name, owner=person, team=group, slug=slug, columns=[("email", "text"), ("Email", "varchar")])
        for name, slug, person, group in [
            ("newsletter", "newsletter", rita, None),
            ('Greetings, "CRM"', "greetings", None, team),
            ("archive", "archive", owner, team),
            ("Archive", "archive-2", rita, team),
        ]
    ]
    set_column_lineage(
        readers[0].pk, {"email": [(customers.pk, "email", "")]}, actor=None, origin=LineageOrigin.OPENLINEAGE
    )
    set_column_lineage(
        readers[1].pk, {"email": [(customers.pk, "email", "")]}, actor=None, origin=LineageOrigin.OPENLINEAGE
    )
    set_column_lineage(
        readers[2].pk,
        {"email": [(readers[0].pk, "email", "")], "Email": [(readers[1].pk, "email", "")]},
        actor=None,
        origin=LineageOrigin.OPENLINEAGE,
    )
    set_column_lineage(
        readers[3].pk, {"Email": [(readers[2].pk, "email", "")]}, actor=None, origin=LineageOrigin.OPENLINEAGE
    )
    start = Column.objects.get(dataset=customers, name="email")
    client = client_for(factories.user("reader"))

    for depth in (1, 2, 10):
        response = client.get(f"/catalog/dataset/customers/columns/email/impact/?format=csv&depth={depth}")

        written = body(response)
        assert response.streaming
        assert written == columns_written_at_once(start, depth)
        assert response["Content-Disposition"] == 'attachment; filename="impact-customers-email.csv"'
    assert written.count(b"\r\n") == 1 + 5
