"""The demo catalog: a retail company's warehouse, files, reports and pipelines, connected by lineage.

Idempotent: every object is found by its slug (or natural key) and updated, so loading twice changes nothing.
Also writes real files under DATA_ROOT (CSV files and a SQLite database) so scans and jobs have data to read.
"""

import csv
import random
import sqlite3
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from catalog.choices import AssetKind, Classification, DatasetFormat, LineageOrigin, RetentionAction, SourceKind
from catalog.models import (
    Asset,
    Column,
    Dataset,
    DataSource,
    LineageEdge,
    NamingConvention,
    Pipeline,
    Report,
    SecretBinding,
    SourceHost,
    Tag,
)
from catalog.search import reindex

SOURCES = {
    "warehouse": ("Analytics warehouse", SourceKind.POSTGRESQL, "data-platform", "alice",
                  {"host": "warehouse.internal", "port": 5432, "database": "analytics"}, "PORTAL_SECRET_WAREHOUSE",
                  "The central PostgreSQL warehouse. Cleaned, modelled tables land here every night."),
    "crm": ("CRM database", SourceKind.MYSQL, "sales-analytics", "bob",
            {"host": "crm-db.internal", "port": 3306, "database": "crm"}, "PORTAL_SECRET_CRM",
            "Replica of the sales CRM: accounts, contacts and opportunities."),
    "events": ("Web events bucket", SourceKind.OBJECT_STORE, "data-platform", "alice",
               {"bucket": "s3://acme-web-events", "region": "eu-west-1"}, "PORTAL_SECRET_EVENTS_S3",
               "Raw clickstream from the web shop, partitioned by day."),
    "finance-files": ("Finance exports", SourceKind.FILES, "finance-bi", "dave",
                      {"path": "finance"}, "",
                      "Monthly CSV exports from the ERP, dropped by Finance under DATA_ROOT/finance."),
    "payments-api": ("Payments provider API", SourceKind.HTTP_API, "finance-bi", "dave",
                     {"url": "https://api.payments.example.com/v2"}, "PORTAL_SECRET_PAYMENTS_API",
                     "Settlements and refunds from the payment provider."),
    "store-db": ("Store operations database", SourceKind.SQLITE, "data-platform", "alice",
                 {"path": "store.sqlite3"}, "",
                 "The stores' operational database (SQLite under DATA_ROOT), scanned nightly."),
    "ml-files": ("Machine learning files", SourceKind.FILES, "marketing-science", "carol",
                 {"path": "ml"}, "",
                 "Training and scoring sets prepared for the customer models, under DATA_ROOT/ml."),
}  # fmt: skip

CUSTOMER_COLUMNS = [
    ("customer_id", "bigint", "Unique customer number.", False, False),
    ("email", "text", "Contact email.", True, True),
    ("country", "char(2)", "ISO country code of the billing address.", False, False),
    ("segment", "text", "consumer, small business or enterprise.", False, False),
    ("signup_date", "date", "First order or account creation, whichever is first.", False, False),
]
ORDER_COLUMNS = [
    ("order_id", "bigint", "Unique order number.", False, False),
    ("customer_id", "bigint", "Who placed the order.", False, False),
    ("ordered_at", "timestamptz", "When the order was placed.", False, False),
    ("store_id", "integer", "Store, or 0 for the web shop.", False, False),
    ("amount_eur", "numeric(12,2)", "Order value including VAT.", False, False),
    ("status", "text", "placed, shipped, returned or cancelled.", False, False),
]

# The store database and the finance files are scanned for real: their columns carry the types a scan reads
# (SQLite's declared types, pandas' dtypes), so a first scan of the demo reports no spurious schema change.
RAW_ORDER_COLUMNS = [
    ("order_id", "integer", "Till order number.", False, False),
    ("customer_id", "integer", "Loyalty card number.", False, False),
    ("ordered_at", "timestamp", "Till time, local.", False, False),
    ("store_id", "integer", "Store number.", True, False),
    ("amount_eur", "numeric", "Order value including VAT.", True, False),
    ("status", "text", "placed, shipped or returned.", True, False),
]


def _cols(*names):
    """Columns from 'name:type' strings, for datasets whose columns need no description."""
    return [(n.split(":")[0], n.split(":")[1], "", True, False) for n in names]


# key: (source, qualified name, display name, format, team, owner, description, intended use, columns, tags)
DATASETS = {
    "raw-orders": ("store-db", "orders", "Raw store orders", DatasetFormat.TABLE, "data-platform", "alice",
                   "Orders as written by the store tills, **unvalidated**.", "Input to the orders pipeline only.",
                   RAW_ORDER_COLUMNS, ["raw", "orders"]),
    "raw-stores": ("store-db", "stores", "Raw store list", DatasetFormat.TABLE, "data-platform", "alice",
                   "Store master data from the operations database.", "Input to the orders pipeline.",
                   _cols("store_id:integer", "name:text", "city:text", "opened_on:date"), ["raw"]),
    "orders": ("warehouse", "sales.orders", "Orders", DatasetFormat.TABLE, "data-platform", "alice",
               "All validated orders, web and store, one row per order. Refreshed nightly at 03:00 UTC.",
               "Revenue, volume and customer behaviour analysis.", ORDER_COLUMNS, ["orders", "gold"]),
    "order-lines": ("warehouse", "sales.order_lines", "Order lines", DatasetFormat.TABLE, "data-platform", "alice",
                    "One row per product in an order.", "Product mix and basket analysis.",
                    _cols("order_id:bigint", "line_no:integer", "product_id:bigint", "quantity:integer",
                          "unit_price_eur:numeric(10,2)"), ["orders", "gold"]),
    "customers": ("warehouse", "crm.customers", "Customers", DatasetFormat.TABLE, "data-platform", "alice",
                  "Deduplicated customers across web shop, stores and CRM.", "Customer analytics and models.",
                  CUSTOMER_COLUMNS, ["customers", "gold", "pii"]),
    "products": ("warehouse", "catalog.products", "Products", DatasetFormat.TABLE, "data-platform", "alice",
                 "The product catalogue with categories and list prices.", "Joining product attributes.",
                 _cols("product_id:bigint", "sku:text", "name:text", "category:text", "list_price_eur:numeric(10,2)"),
                 ["products", "gold"]),
    "daily-sales": ("warehouse", "sales.daily_sales", "Daily sales", DatasetFormat.TABLE, "sales-analytics", "bob",
                    "Revenue and orders per day, store and channel.", "Sales dashboards and forecasting.",
                    _cols("day:date", "store_id:integer", "channel:text", "orders:integer", "revenue_eur:numeric"),
                    ["sales", "gold"]),
    "sales-targets": ("crm", "targets", "Sales targets", DatasetFormat.TABLE, "sales-analytics", "bob",
                      "Quarterly targets per region, entered by sales managers in the CRM.", "Target vs actual.",
                      _cols("quarter:text", "region:text", "target_eur:numeric(14,2)"), ["sales"]),
    "accounts": ("crm", "accounts", "CRM accounts", DatasetFormat.TABLE, "sales-analytics", "bob",
                 "Business customers and their account managers.", "B2B reporting.",
                 _cols("account_id:bigint", "name:text", "industry:text", "manager:text"), ["sales", "customers"]),
    "opportunities": ("crm", "opportunities", "Opportunities", DatasetFormat.TABLE, "sales-analytics", "bob",
                      "Open and closed sales opportunities.", "Pipeline reporting.",
                      _cols("opportunity_id:bigint", "account_id:bigint", "stage:text", "value_eur:numeric(14,2)",
                            "close_date:date"), ["sales"]),
    "contacts": ("crm", "contacts", "CRM contacts", DatasetFormat.TABLE, "sales-analytics", "bob",
                 "People at business customers.", "Account management only.",
                 [("contact_id", "bigint", "", False, False), ("account_id", "bigint", "", False, False),
                  ("full_name", "text", "", False, True), ("phone", "text", "", True, True)], ["sales", "pii"]),
    "page-views": ("events", "page_views/", "Page views", DatasetFormat.PARQUET, "data-platform", "alice",
                   "Every page view on the web shop, one file per day.", "Traffic and funnel analysis.",
                   _cols("event_id:string", "session_id:string", "customer_id:int64", "url:string", "ts:timestamp"),
                   ["events", "raw"]),
    "sessions": ("warehouse", "web.sessions", "Web sessions", DatasetFormat.TABLE, "data-platform", "alice",
                 "Page views grouped into sessions (30 minutes of inactivity ends one).", "Funnel and engagement.",
                 _cols("session_id:text", "customer_id:bigint", "started_at:timestamptz", "pages:integer",
                       "converted:boolean"), ["events", "gold"]),
    "cart-events": ("events", "cart_events/", "Cart events", DatasetFormat.PARQUET, "data-platform", "alice",
                    "Add-to-cart and remove-from-cart events.", "Funnel analysis.",
                    _cols("event_id:string", "session_id:string", "product_id:int64", "action:string",
                          "ts:timestamp"), ["events", "raw"]),
    "search-queries": ("events", "search_queries/", "Site search queries", DatasetFormat.JSON, "data-platform",
                       "alice", "What people typed into the shop's search box.", "Search relevance work.",
                       _cols("query:string", "results:int64", "session_id:string", "ts:timestamp"), ["events"]),
    "monthly-revenue": ("finance-files", "finance/monthly_revenue.csv", "Monthly revenue (ERP)", DatasetFormat.CSV,
                        "finance-bi", "dave", "Booked revenue per month and business unit, exported from the ERP.",
                        "Finance reporting; the source of truth for revenue.",
                        _cols("month:str", "business_unit:str", "revenue_eur:float64", "cost_eur:float64"),
                        ["finance"]),
    "cost-centres": ("finance-files", "finance/cost_centres.csv", "Cost centres", DatasetFormat.CSV, "finance-bi",
                     "dave", "Cost centre codes and their owners.", "Cost allocation.",
                     _cols("code:str", "name:str", "owner:str"), ["finance"]),
    "budget": ("finance-files", "finance/budget_2026.csv", "Budget 2026", DatasetFormat.CSV, "finance-bi", "dave",
               "The approved 2026 budget per month and business unit.", "Budget vs actual.",
               _cols("month:str", "business_unit:str", "budget_eur:int64"), ["finance"]),
    "settlements": ("payments-api", "settlements", "Payment settlements", DatasetFormat.JSON, "finance-bi", "dave",
                    "Daily settlements from the payment provider.", "Cash reconciliation.",
                    _cols("settlement_id:string", "day:date", "amount_eur:float", "fees_eur:float"), ["finance"]),
    "refunds": ("payments-api", "refunds", "Refunds", DatasetFormat.JSON, "finance-bi", "dave",
                "Refunds issued through the payment provider.", "Returns analysis and reconciliation.",
                _cols("refund_id:string", "order_id:int64", "amount_eur:float", "reason:string"), ["finance"]),
    "margin": ("warehouse", "finance.margin", "Gross margin", DatasetFormat.TABLE, "finance-bi", "dave",
               "Revenue minus cost of goods per month and category.", "Margin reporting.",
               _cols("month:date", "category:text", "revenue_eur:numeric", "cogs_eur:numeric", "margin_pct:numeric"),
               ["finance", "gold"]),
    "customer-features": ("warehouse", "ml.customer_features", "Customer features", DatasetFormat.TABLE,
                          "marketing-science", "carol", "One row per customer with behavioural features for models.",
                          "Training and scoring the customer models.",
                          _cols("customer_id:bigint", "orders_90d:integer", "revenue_90d:numeric",
                                "days_since_last_order:integer", "sessions_30d:integer"), ["ml", "customers"]),
    "customer-churn": ("ml-files", "ml/customer_churn.csv", "Customer churn training set", DatasetFormat.CSV,
                       "marketing-science", "carol",
                       "Labelled customers: did they order again within 90 days? Built from customer features.",
                       "Training the churn model. Not for reporting: the label is 90 days behind.",
                       _cols("tenure_months:int64", "orders_90d:int64", "revenue_90d:float64",
                             "days_since_last_order:int64", "support_tickets:int64", "segment:str",
                             "churned:int64"), ["ml"]),
    "churn-scores": ("warehouse", "ml.churn_scores", "Churn scores", DatasetFormat.TABLE, "marketing-science",
                     "carol", "Daily churn probability per active customer.", "Retention campaigns.",
                     _cols("customer_id:bigint", "scored_on:date", "churn_probability:real", "model_version:text"),
                     ["ml", "customers"]),
    "ltv-scores": ("warehouse", "ml.ltv_scores", "Lifetime value scores", DatasetFormat.TABLE, "marketing-science",
                   "frank", "Predicted 12-month revenue per customer.", "Marketing budget allocation.",
                   _cols("customer_id:bigint", "scored_on:date", "ltv_eur:numeric"), ["ml"]),
    "campaigns": ("crm", "campaigns", "Marketing campaigns", DatasetFormat.TABLE, "marketing-science", "frank",
                  "Campaigns with their audience and budget.", "Campaign analysis.",
                  _cols("campaign_id:bigint", "name:text", "channel:text", "budget_eur:numeric", "start_date:date"),
                  ["marketing"]),
    "campaign-responses": ("crm", "campaign_responses", "Campaign responses", DatasetFormat.TABLE,
                           "marketing-science", "frank", "Who received and who responded to each campaign.",
                           "Uplift modelling.", _cols("campaign_id:bigint", "customer_id:bigint", "responded:boolean"),
                           ["marketing"]),
    "demand-history": ("warehouse", "ml.demand_history", "Demand history", DatasetFormat.TABLE, "sales-analytics",
                       "bob", "Units sold per product, store and week, with promotions flagged.",
                       "Demand forecasting.", _cols("week:date", "store_id:integer", "product_id:bigint",
                                                    "units:integer", "on_promotion:boolean"), ["ml", "sales"]),
    "demand-forecast": ("warehouse", "ml.demand_forecast", "Demand forecast", DatasetFormat.TABLE, "sales-analytics",
                        "bob", "Forecast units per product, store and week, 8 weeks ahead.", "Replenishment.",
                        _cols("week:date", "store_id:integer", "product_id:bigint", "forecast_units:real"),
                        ["ml", "sales"]),
    "inventory": ("store-db", "inventory", "Store inventory", DatasetFormat.TABLE, "data-platform", "alice",
                  "Stock on hand per store and product, updated hourly.", "Replenishment and availability.",
                  _cols("store_id:integer", "product_id:integer", "on_hand:integer", "updated_at:timestamp"),
                  ["operations"]),
    "returns": ("warehouse", "sales.returns", "Returns", DatasetFormat.TABLE, "sales-analytics", "bob",
                "Returned orders with reasons.", "Returns analysis.",
                _cols("order_id:bigint", "returned_on:date", "reason:text", "amount_eur:numeric"), ["sales"]),
    "support-tickets": ("crm", "support_tickets", "Support tickets", DatasetFormat.TABLE, "sales-analytics", "bob",
                        "Customer service tickets.", "Service quality and churn features.",
                        _cols("ticket_id:bigint", "customer_id:bigint", "opened_at:timestamp", "topic:text"),
                        ["customers"]),
}  # fmt: skip

REPORTS = {
    "executive-sales": ("Executive sales dashboard", "sales-analytics", "bob", "Leadership team",
                        "Daily at 07:00 UTC", "Revenue, orders and target attainment for the leadership team."),
    "finance-monthly": ("Monthly finance pack", "finance-bi", "dave", "Finance and the board",
                        "Monthly, 3rd working day", "Revenue, margin and budget variance per business unit."),
    "retention": ("Customer retention dashboard", "marketing-science", "carol", "Marketing and CRM teams",
                  "Daily at 08:00 UTC", "Churn risk by segment and the effect of retention campaigns."),
    "web-funnel": ("Web shop funnel", "data-platform", "alice", "E-commerce team",
                   "Hourly", "Sessions, add-to-cart and conversion through the web shop funnel."),
    "replenishment": ("Store replenishment report", "sales-analytics", "bob", "Store managers",
                      "Weekly, Monday 05:00 UTC", "What to order for each store next week."),
}  # fmt: skip

PIPELINES = {
    "orders-etl": ("Orders ETL", "data-platform", "alice", "0 3 * * *",
                   "Validates store and web orders and loads them into the warehouse."),
    "web-sessionizer": ("Web sessionizer", "data-platform", "alice", "15 * * * *",
                        "Groups page views into sessions."),
    "finance-close": ("Finance close", "finance-bi", "dave", "0 6 3 * *",
                      "Joins ERP revenue with warehouse costs into the margin table."),
}  # fmt: skip

# upstream -> downstream, by (kind, key)
LINEAGE = [
    ("raw-orders", "orders-etl"), ("raw-stores", "orders-etl"), ("page-views", "orders-etl"),
    ("orders-etl", "orders"), ("orders-etl", "order-lines"), ("orders-etl", "returns"),
    ("orders", "daily-sales"), ("order-lines", "daily-sales"), ("daily-sales", "executive-sales"),
    ("sales-targets", "executive-sales"), ("page-views", "web-sessionizer"), ("cart-events", "web-sessionizer"),
    ("web-sessionizer", "sessions"), ("sessions", "web-funnel"), ("monthly-revenue", "finance-close"),
    ("budget", "finance-close"), ("orders", "finance-close"), ("products", "finance-close"),
    ("finance-close", "margin"), ("margin", "finance-monthly"), ("monthly-revenue", "finance-monthly"),
    ("budget", "finance-monthly"), ("settlements", "finance-monthly"), ("orders", "customer-features"),
    ("sessions", "customer-features"), ("support-tickets", "customer-features"),
    ("customer-features", "customer-churn"), ("customers", "customer-features"), ("churn-scores", "retention"),
    ("campaign-responses", "retention"), ("order-lines", "demand-history"), ("inventory", "replenishment"),
    ("demand-forecast", "replenishment"), ("returns", "executive-sales"),
]  # fmt: skip


def _asset(kind, slug, name, team, owner, description, teams, users, **extra):
    asset, _ = Asset.objects.update_or_create(
        kind=kind,
        slug=slug,
        defaults={"name": name, "description": description, "team": teams[team], "owner": users[owner], **extra},
    )
    return asset


def _allow(source, secret):
    """What staff would do for the demo's sources: allow their hosts and bind their secrets to them."""
    if not source.is_networked:
        return
    host, port = source.address()
    SourceHost.objects.get_or_create(host=host, port=port, defaults={"note": "Demo source."})
    if secret:
        SecretBinding.objects.get_or_create(variable=secret, source=source, defaults={"host": host})


def load(teams, users):
    write_demo_files()
    today = timezone.localdate()
    sources = {}
    for key, (name, kind, team, owner, connection, secret, description) in SOURCES.items():
        asset = _asset(AssetKind.SOURCE, key, name, team, owner, description, teams, users)
        sources[key], _ = DataSource.objects.update_or_create(
            asset=asset, defaults={"source_kind": kind, "connection": connection, "secret_env_var": secret}
        )
        _allow(sources[key], secret)
    assets = {}
    for index, (key, spec) in enumerate(DATASETS.items()):
        source, qualified, name, fmt, team, owner, description, use, columns, tags = spec
        asset = _asset(
            AssetKind.DATASET, key, name, team, owner, description, teams, users,
            maintained_until=date(today.year + 1, 12, 31),
            review_interval_days=90,
            next_review_date=today + timedelta(days=7 + 3 * index),
        )  # fmt: skip
        asset.tags.set([Tag.objects.get_or_create(name=tag)[0] for tag in tags])
        dataset, _ = Dataset.objects.update_or_create(
            asset=asset,
            defaults={
                "source": sources[source], "qualified_name": qualified, "format": fmt, "intended_use": use,
                "update_frequency": "daily", "row_count": 1000 * (index + 1) ** 2,
            },
        )  # fmt: skip
        for position, (col_name, col_type, col_description, nullable, pii) in enumerate(columns):
            Column.objects.update_or_create(
                dataset=dataset,
                name=col_name,
                defaults={
                    "data_type": col_type, "description": col_description, "nullable": nullable, "is_pii": pii,
                    "position": position,
                },
            )  # fmt: skip
        assets[key] = asset
    for key, (name, team, owner, audience, schedule, description) in REPORTS.items():
        asset = _asset(AssetKind.REPORT, key, name, team, owner, description, teams, users)
        Report.objects.update_or_create(
            asset=asset,
            defaults={
                "url": f"https://bi.example.com/dashboards/{key}",
                "audience": audience,
                "refresh_schedule": schedule,
            },
        )
        assets[key] = asset
    for key, (name, team, owner, schedule, description) in PIPELINES.items():
        asset = _asset(AssetKind.PIPELINE, key, name, team, owner, description, teams, users)
        Pipeline.objects.update_or_create(
            asset=asset,
            defaults={"schedule": schedule, "code_url": f"https://git.example.com/data/{key}", "namespace": "demo"},
        )
        assets[key] = asset
    for upstream, downstream in LINEAGE:
        LineageEdge.objects.get_or_create(
            upstream=assets[upstream], downstream=assets[downstream], defaults={"origin": LineageOrigin.MANUAL}
        )
    _governance(sources, assets, users)
    reindex(Asset.objects.filter(kind__in=[AssetKind.SOURCE, *CATALOG_KINDS]).values_list("pk", flat=True))
    return assets


CATALOG_KINDS = [AssetKind.DATASET, AssetKind.REPORT, AssetKind.PIPELINE]
# OpenLineage namespaces, so events from the demo's pipelines land on the catalogued datasets.
NAMESPACES = {
    "warehouse": "postgres://warehouse.internal:5432",
    "crm": "mysql://crm-db.internal:3306",
    "events": "s3://acme-web-events",
    "store-db": "sqlite://store.sqlite3",
}
# Datasets whose handling differs from the default (internal, no retention rule).
GOVERNANCE = {
    "customers": (Classification.CONFIDENTIAL, 3 * 365, RetentionAction.ANONYMISE),
    "contacts": (Classification.RESTRICTED, 2 * 365, RetentionAction.DELETE),
    "page-views": (Classification.INTERNAL, 400, RetentionAction.DELETE),
    "cart-events": (Classification.INTERNAL, 400, RetentionAction.DELETE),
    "search-queries": (Classification.INTERNAL, 90, RetentionAction.DELETE),
    "raw-orders": (Classification.CONFIDENTIAL, 90, RetentionAction.DELETE),
    "products": (Classification.PUBLIC, None, ""),
    "monthly-revenue": (Classification.CONFIDENTIAL, 10 * 365, RetentionAction.ARCHIVE),
    "customer-features": (Classification.CONFIDENTIAL, 365, RetentionAction.REVIEW),
}
DATASET_NAMES = (
    r"[A-Z][A-Za-z0-9 ()&,.'-]*",
    "Dataset names are plain words starting with a capital letter, like “Daily sales”: no underscores, "
    "no file extensions, no schema prefixes. A scan names new tables after the table; rename them.",
)


def _governance(sources, assets, users):
    for key, namespace in NAMESPACES.items():
        DataSource.objects.filter(pk=sources[key].pk).update(namespace=namespace)
    for key, (classification, days, action) in GOVERNANCE.items():
        Dataset.objects.filter(asset=assets[key]).update(
            classification=classification, retention_days=days, retention_action=action
        )
    Dataset.objects.filter(asset=assets["orders"]).update(steward=users["bob"])
    pattern, explanation = DATASET_NAMES
    NamingConvention.objects.update_or_create(
        kind=AssetKind.DATASET, pattern=pattern, defaults={"explanation": explanation}
    )


def write_demo_files():
    """Real files for the demo's file datasets and SQLite source, regenerated identically on every load."""
    root = settings.DATA_ROOT
    (root / "finance").mkdir(parents=True, exist_ok=True)
    (root / "ml").mkdir(parents=True, exist_ok=True)
    rng = random.Random(42)
    units = ["Retail", "Web shop", "Business"]
    with open(root / "finance" / "monthly_revenue.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["month", "business_unit", "revenue_eur", "cost_eur"])
        for month in range(1, 13):
            for unit in units:
                revenue = round(rng.uniform(800_000, 1_500_000), 2)
                writer.writerow([f"2026-{month:02d}-01", unit, revenue, round(revenue * rng.uniform(0.55, 0.7), 2)])
    with open(root / "finance" / "budget_2026.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["month", "business_unit", "budget_eur"])
        for month in range(1, 13):
            for unit in units:
                writer.writerow([f"2026-{month:02d}-01", unit, 1_100_000])
    with open(root / "finance" / "cost_centres.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "name", "owner"])
        for code, name in [("CC100", "Stores"), ("CC200", "Web shop"), ("CC300", "Logistics"), ("CC400", "HQ")]:
            writer.writerow([code, name, "dave@example.com"])
    with open(root / "ml" / "customer_churn.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["tenure_months", "orders_90d", "revenue_90d", "days_since_last_order",
                         "support_tickets", "segment", "churned"])  # fmt: skip
        for _ in range(600):
            tenure = rng.randint(1, 72)
            orders = rng.randint(0, 12)
            recency = rng.randint(1, 180)
            tickets = rng.randint(0, 5)
            segment = rng.choice(["consumer", "small business", "enterprise"])
            risk = 0.02 * recency - 0.25 * orders + 0.3 * tickets - 0.01 * tenure + rng.gauss(0, 0.8)
            writer.writerow([tenure, orders, round(orders * rng.uniform(20, 90), 2), recency, tickets, segment,
                             int(risk > 0.8)])  # fmt: skip
    _write_store_database(root / "store.sqlite3", rng)


def _write_store_database(path, rng):
    connection = sqlite3.connect(path)
    try:
        with connection:
            connection.executescript(
                """
                DROP TABLE IF EXISTS orders; DROP TABLE IF EXISTS stores; DROP TABLE IF EXISTS inventory;
                CREATE TABLE stores (store_id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT, opened_on DATE);
                CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL,
                    ordered_at TIMESTAMP NOT NULL, store_id INTEGER, amount_eur NUMERIC, status TEXT);
                CREATE TABLE inventory (store_id INTEGER, product_id INTEGER, on_hand INTEGER,
                    updated_at TIMESTAMP);
                """
            )
            cities = ["Lyon", "Porto", "Gent", "Turin", "Leeds"]
            connection.executemany(
                "INSERT INTO stores VALUES (?, ?, ?, ?)",
                [(i, f"Store {city}", city, f"20{10 + i}-03-01") for i, city in enumerate(cities, start=1)],
            )
            # The tills' data ends now, so the freshness check on this table finds it up to date after a load.
            now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
            connection.executemany(
                "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (i, rng.randint(1, 400), (now - timedelta(minutes=17 * (2000 - i))).isoformat(sep=" "),
                     rng.randint(0, 5), round(rng.uniform(5, 300), 2), rng.choice(["placed", "shipped", "returned"]))
                    for i in range(1, 2001)
                ],
            )  # fmt: skip
            connection.executemany(
                "INSERT INTO inventory VALUES (?, ?, ?, ?)",
                [(s, p, rng.randint(0, 80), now.isoformat(sep=" ")) for s in range(1, 6) for p in range(1, 41)],
            )
    finally:
        connection.close()
