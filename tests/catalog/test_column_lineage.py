"""Column-level lineage: who reads which column, on the dataset page and in the impact of one column (page and
CSV), and schema changes told only to the readers of the columns that changed."""

import csv
import io

import pytest

from catalog.assets import set_column_lineage
from catalog.choices import LineageOrigin, SchemaChangeOrigin
from catalog.models import AssetChange, ColumnLineage
from catalog.scanning import FoundColumn, apply_schema
from core.choices import NotificationKind
from core.models import Notification
from tests import factories
from tests.helpers import body

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    """customers (id, email, name, owned by ann) read by newsletter (email, bob's) and greetings (name, carol's)."""
    ann, bob, carol = factories.user("ann"), factories.user("bob"), factories.user("carol")
    customers = factories.dataset(
        "customers", owner=ann, columns=[("id", "integer"), ("email", "text"), ("name", "text")]
    )
    newsletter = factories.dataset("newsletter", owner=bob, columns=[("id", "integer"), ("email", "text")])
    greetings = factories.dataset("greetings", owner=carol, columns=[("name", "text")])
    for reader in (newsletter, greetings):
        factories.edge(customers, reader)
    set_column_lineage(
        newsletter.pk, {"email": [(customers.pk, "email", "")]}, actor=None, origin=LineageOrigin.OPENLINEAGE
    )
    set_column_lineage(
        greetings.pk, {"name": [(customers.pk, "name", "")]}, actor=None, origin=LineageOrigin.OPENLINEAGE
    )
    return customers, newsletter, greetings


def told(user):
    return Notification.objects.filter(recipient__username=user, kind=NotificationKind.SCHEMA_CHANGE).count()


def test_a_removed_column_alerts_its_readers_and_not_the_readers_of_another(shop):
    customers, _, _ = shop

    apply_schema(customers, [FoundColumn("id", "integer"), FoundColumn("name", "text")], SchemaChangeOrigin.SCAN)

    assert told("ann") == 1 and told("bob") == 1
    assert told("carol") == 0
    body = Notification.objects.get(recipient__username="bob").body
    assert "removed email" in body and "newsletter (email)" in body


def test_a_retyped_column_alerts_its_readers_only(shop):
    customers, _, _ = shop

    apply_schema(
        customers,
        [FoundColumn("id", "integer"), FoundColumn("email", "text"), FoundColumn("name", "varchar(20)")],
        SchemaChangeOrigin.SCAN,
    )

    assert told("carol") == 1 and told("bob") == 0


def test_column_lineage_is_recorded_in_the_history_and_replaced_per_origin(shop):
    _, newsletter, _ = shop
    change = AssetChange.objects.filter(asset=newsletter.asset, changes__has_key="column lineage").get()
    assert change.changes["column lineage"] == ["", "email ← customers.email"]

    set_column_lineage(newsletter.pk, {"email": []}, actor=None, origin=LineageOrigin.OPENLINEAGE)

    assert not ColumnLineage.objects.filter(downstream__dataset=newsletter).exists()


def test_the_dataset_page_shows_each_columns_sources_and_readers(shop, client):
    customers, newsletter, _ = shop
    client.force_login(factories.user("reader"))

    # The columns are on the dataset's Columns tab.
    page = client.get(customers.asset.get_absolute_url() + "columns/").content.decode()
    reader_page = client.get(newsletter.asset.get_absolute_url() + "columns/").content.decode()

    assert "newsletter</a>.<code>email</code>" in page and "greetings</a>.<code>name</code>" in page
    assert "customers</a>.<code>email</code>" in reader_page
    assert f"/catalog/dataset/{customers.asset.slug}/columns/email/impact/" in page


def test_the_impact_of_one_column_lists_its_readers_with_their_owners_as_csv(shop, client):
    customers, _, _ = shop
    client.force_login(factories.user("reader"))

    response = client.get(f"/catalog/dataset/{customers.asset.slug}/columns/email/impact/?format=csv")
    page = client.get(f"/catalog/dataset/{customers.asset.slug}/columns/email/impact/")

    rows = list(csv.reader(io.StringIO(body(response).decode())))
    assert rows[0][:5] == ["hops", "dataset", "column", "type", "owner"]
    assert [row[:5] for row in rows[1:]] == [["1", "newsletter", "email", "text", "bob"]]
    assert "greetings" not in page.content.decode()
    assert client.get(f"/catalog/dataset/{customers.asset.slug}/columns/nothing/impact/").status_code == 404
