import pytest

from catalog.choices import AssetKind, Classification, RetentionAction
from catalog.models import Column, Dataset, LineageEdge, NamingConvention
from tests import factories
from tests.helpers import assert_num_queries, count_queries

SCRIPT_PAYLOADS = [
    "<script>alert('x')</script>",
    '<img src="x" onerror="alert(1)">',
    "[click me](javascript:alert(1))",
    '<a href="javascript:alert(1)">link</a>',
    '<div onclick="alert(1)">hi</div>',
    "<iframe src='https://evil.example'></iframe>",
]


@pytest.mark.django_db
@pytest.mark.parametrize("payload", SCRIPT_PAYLOADS)
def test_a_description_is_rendered_as_markdown_without_anything_executable(client_for, owner, payload):
    factories.dataset("Orders", owner=owner, description=f"Orders **in bulk**.\n\n{payload}")
    html = client_for(owner).get("/catalog/dataset/orders/").content.decode()
    description = html.split('data-testid="description">', 1)[1].split("</div>", 1)[0]
    assert "<strong>in bulk</strong>" in description
    for forbidden in ("<script", "onerror", "onclick", "javascript:", "<iframe"):
        assert forbidden not in description


@pytest.mark.django_db
def test_a_dataset_page_answers_who_what_how_sensitive_and_what_feeds_it(client_for, outsider, owner, team):
    source = factories.source("Warehouse", owner=owner)
    dataset = factories.dataset(
        "Orders", source_=source, owner=owner, team=team, columns=[("order_id", "bigint"), ("email", "text")]
    )
    Dataset.objects.filter(pk=dataset.pk).update(
        classification=Classification.RESTRICTED, retention_days=90, retention_action=RetentionAction.DELETE
    )
    Column.objects.filter(name="email").update(is_pii=True)
    factories.edge(factories.pipeline("Orders ETL", owner=owner), dataset)
    factories.edge(dataset, factories.report("Sales dashboard", owner=factories.user("rita")))
    client = client_for(outsider)
    # The page is a header and tabs, each at its own URL (issue 17): who and what on the overview, the schema on
    # Columns, what feeds it and what it feeds on Lineage.
    html = client.get("/catalog/dataset/orders/").content.decode()
    for expected in ["olivia", "Data Platform", "Restricted", "Kept for 90 days, then deleted.", "Warehouse"]:
        assert expected in html
    assert "order_id" in client.get("/catalog/dataset/orders/columns/").content.decode()
    lineage = client.get("/catalog/dataset/orders/lineage/").content.decode()
    for expected in ["Orders ETL", "Sales dashboard", "rita"]:
        assert expected in lineage
    assert "/edit/" not in html


@pytest.mark.django_db
def test_a_name_that_breaks_a_convention_is_flagged_with_the_plain_words_rule(client_for, owner):
    NamingConvention.objects.create(kind=AssetKind.DATASET, pattern="[a-z_]+", explanation="Use snake_case.")
    factories.dataset("Daily Sales", owner=owner)
    html = client_for(owner).get("/catalog/dataset/daily-sales/").content.decode()
    assert 'data-testid="naming-violation"' in html and "Use snake_case." in html


def _queries(client, url):
    with count_queries() as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_the_detail_page_costs_the_same_with_10_or_1000_columns_and_neighbours(client_for, owner):
    """Session, user, asset with its joins, tags, teams-of-user, upstream, downstream, columns, history,
    conventions, lineage-form choices, scans: a fixed set whatever the size of the dataset."""
    client = client_for(owner)
    small = factories.dataset("Small", owner=owner, columns=[(f"c{i}", "int") for i in range(10)])
    big = factories.dataset("Big", owner=owner, columns=[(f"c{i}", "int") for i in range(1000)])
    for target, count in ((small, 10), (big, 1000)):
        others = [factories.asset(AssetKind.REPORT, f"{target.asset.name} report {i}") for i in range(count)]
        LineageEdge.objects.bulk_create(LineageEdge(upstream=target.asset, downstream=other) for other in others)
    assert _queries(client, "/catalog/dataset/small/") == _queries(client, "/catalog/dataset/big/")


@pytest.mark.django_db
def test_a_source_page_lists_its_datasets_and_a_pipeline_page_its_runs(client_for, owner):
    source = factories.source("Store database", owner=owner)
    factories.dataset("Store orders", source_=source, qualified_name="orders")
    pipeline = factories.pipeline("Orders ETL", owner=owner)
    pipeline.runs.create(run_id="run-1", origin="openlineage", state="complete", output_rows=1234)
    client = client_for(owner)
    assert "Store orders" in client.get(f"/catalog/source/{source.asset.slug}/").content.decode()
    assert "1,234" in client.get("/catalog/pipeline/orders-etl/").content.decode()


# --- what an asset page costs, and that it computes once ----------------------------------------------------------
def _page_of(kind, owner, team):
    """An asset of ``kind`` fed by one input dataset, its badge stored and current, as most pages find it."""
    from trust.badges import badges_for

    builders = {
        "dataset": lambda: factories.dataset("Orders", owner=owner, team=team).asset,
        "report": lambda: factories.report("Sales", owner=owner, team=team).asset,
        "pipeline": lambda: factories.pipeline("Orders ETL", owner=owner, team=team).asset,
        "source": lambda: factories.source("Warehouse", owner=owner, team=team).asset,
        "model": lambda: factories.registered_model("Churn", owner=owner, team=team).asset,
        "model_version": lambda: factories.model_version(
            factories.registered_model("Churn", owner=owner, team=team)
        ).asset,
    }
    asset = builders[kind]()
    factories.edge(factories.dataset("Input", owner=owner), asset)
    badges_for([asset])
    return asset


# What every asset page's Overview tab costs, in order: session, user; the asset with its joins and can_edit (one
# query, ``asset_for_user``); the one walk upstream; the naming conventions; the glossary terms it uses; the menu's
# unread notifications;
# the trust header: the deprecation, deprecated inputs upstream, open issues here and upstream, the stored badge,
# watching, pending acknowledgements, last review, certification; the tags; the freshness panel: the policies
# upstream, the asset's own. History, columns and neighbours are tabs of their own (tests/test_query_counts.py).
EVERY_ASSET_PAGE = 18
ASSET_PAGE_QUERIES = {
    "dataset": EVERY_ASSET_PAGE + 1,  # its declared consumers (issue 15)
    "report": EVERY_ASSET_PAGE,
    "pipeline": EVERY_ASSET_PAGE + 1,  # its recent runs
    "source": EVERY_ASSET_PAGE + 2,  # the count of its datasets, the first of them
    "model_version": EVERY_ASSET_PAGE,
}
# A model's catalog address leads to its card in the registry (tests/registry/test_views.py pins that page).


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(ASSET_PAGE_QUERIES))
def test_an_asset_page_costs_a_pinned_number_of_queries(kind, client_for, owner, team, outsider):
    asset = _page_of(kind, owner, team)
    client = client_for(outsider)
    with assert_num_queries(ASSET_PAGE_QUERIES[kind]):
        assert client.get(asset.get_absolute_url()).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [*ASSET_PAGE_QUERIES, "model"])
@pytest.mark.parametrize("badge", ["stored", "missing"])
def test_an_asset_page_walks_upstream_once_and_writes_nothing(kind, badge, client_for, owner, team, teammate):
    from trust.models import StoredBadge

    asset = _page_of(kind, owner, team)
    if badge == "missing":
        StoredBadge.objects.all().delete()
    client = client_for(teammate)
    with count_queries() as captured:
        page = client.get(f"/models/{asset.slug}/" if kind == "model" else asset.get_absolute_url())
    assert page.status_code == 200 and page.context["can_edit"] is True
    sql = [query["sql"] for query in captured]
    # One walk for the trust header, the badge and the freshness panel alike.
    assert sum("WITH RECURSIVE" in statement for statement in sql) == 1
    # One permission check: the team membership is an EXISTS inside the asset's query.
    assert sum("accounts_team_members" in statement for statement in sql) == 1
    # A GET never writes: not the stored badge either.
    assert not [statement for statement in sql if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert StoredBadge.objects.filter(asset=asset).exists() == (badge == "stored")


# --- the header and the tabs (issue 17) ----------------------------------------------------------------------------
@pytest.mark.django_db
def test_every_tab_has_its_own_url_and_the_header_names_the_one_primary_action(client_for, owner, outsider):
    report_row = factories.report("Sales", owner=owner)
    type(report_row).objects.filter(pk=report_row.pk).update(url="https://bi.example.com/sales")
    dataset = factories.dataset("Orders", owner=owner, columns=[("order_id", "bigint")])
    client = client_for(outsider)
    report = client.get("/catalog/report/sales/").content.decode()
    header = report.split('data-testid="asset-header"', 1)[1].split("</header>", 1)[0]
    assert "Open the dashboard" in header and "olivia" in header
    assert 'aria-current="page">Overview<' in report
    for tab, label in [("lineage", "Lineage"), ("issues", "Issues and requests"), ("history", "History")]:
        page = client.get(f"/catalog/report/sales/{tab}/")
        assert page.status_code == 200 and f'aria-current="page">{label}<' in page.content.decode()
    columns = client.get(f"/catalog/dataset/{dataset.asset.slug}/columns/").content.decode()
    assert "order_id" in columns and 'id="use-this-data"' in columns
    assert "Use this data" in client.get(f"/catalog/dataset/{dataset.asset.slug}/").content.decode()
    # A report has no columns tab, and a made-up tab is a plain 404.
    assert client.get("/catalog/report/sales/columns/").status_code == 404
    assert client.get("/catalog/report/sales/nonsense/").status_code == 404


@pytest.mark.django_db
def test_no_page_marks_a_link_as_a_button(client_for, owner):
    """Links with role=button were announced as buttons that Space does not press (issue 17)."""
    factories.report("Sales", owner=owner)
    model = factories.registered_model("Churn", owner=owner)
    client = client_for(owner)
    for url in ["/", "/catalog/", "/catalog/report/sales/", f"/models/{model.asset.slug}/", "/models/", "/issues/"]:
        assert 'role="button"' not in client.get(url).content.decode(), url
