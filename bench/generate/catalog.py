"""The catalog's assets: sources, datasets with their columns and tags, reports and pipelines.

``copy_assets`` writes the shared ``Asset`` rows every kind starts from (the registry's models too).
"""

from datetime import timedelta

import numpy as np

from bench.generate.shape import DOMAIN_SIZE, DOMAINS, ENTITIES, HUB_DOMAINS, domain_of_dataset, team_of_domain
from bench.generate.writer import uuids
from catalog.choices import AssetKind, DatasetFormat, Lifecycle, SourceKind
from catalog.models import Asset, Column, Dataset, DataSource, Pipeline, Report

COLUMNS_PER_DATASET = 20
STAGES = ["raw", "stg", "int", "fct", "dim", "agg", "mart"]
SUFFIXES = ["daily", "hourly", "snapshot", "history", "current", "v2", "enriched", "clean"]
COLUMN_NAMES = [
    ("id", "bigint"), ("customer_id", "bigint"), ("order_id", "bigint"), ("account_id", "bigint"),
    ("created_at", "timestamp"), ("updated_at", "timestamp"), ("event_date", "date"), ("amount", "numeric(12,2)"),
    ("currency", "char(3)"), ("country", "char(2)"), ("status", "text"), ("channel", "text"), ("email", "text"),
    ("phone", "text"), ("first_name", "text"), ("last_name", "text"), ("birth_date", "date"), ("sku", "text"),
    ("quantity", "integer"), ("unit_price", "numeric(12,2)"), ("discount", "numeric(5,2)"), ("tax", "numeric(12,2)"),
    ("store_id", "integer"), ("region", "text"), ("segment", "text"), ("score", "double precision"),
    ("is_active", "boolean"), ("source_system", "text"), ("batch_id", "uuid"), ("ip_address", "inet"),
    ("user_agent", "text"), ("session_id", "uuid"), ("campaign_id", "bigint"), ("revenue", "numeric(14,2)"),
    ("cost", "numeric(14,2)"), ("margin", "numeric(6,4)"), ("category", "text"), ("brand", "text"),
    ("warehouse", "text"), ("shipped_at", "timestamp"), ("delivered_at", "timestamp"), ("rating", "smallint"),
    ("comment", "text"), ("employee_id", "bigint"), ("supplier_id", "bigint"), ("contract_value", "numeric(14,2)"),
    ("risk_score", "double precision"), ("label", "boolean"), ("probability", "double precision"), ("lat", "real"),
    ("lon", "real"), ("postcode", "text"), ("city", "text"), ("iban", "text"), ("card_last4", "char(4)"),
    ("device", "text"), ("os", "text"), ("app_version", "text"), ("load_ts", "timestamp"), ("row_hash", "text"),
]  # fmt: skip
PII_COLUMNS = {"email", "phone", "first_name", "last_name", "birth_date", "ip_address", "iban", "postcode"}


def _asset_rows(gen, rng, kind, first, names, slugs, descriptions, team_of):
    """Rows of the shared ``Asset`` table: owner is a member of the owning team, a few are deprecated or retired."""
    count = len(names)
    teams, users = gen.counts["teams"], gen.counts["users"]
    age = rng.integers(0, 2 * 365 * 86400, count)
    touched = rng.integers(0, 90 * 86400, count)
    created, updated = gen.instants(age), gen.instants(np.maximum(age - touched, 0))
    fate = rng.random(count)
    review = rng.random(count) < 0.3
    asset_uuids = uuids(rng, count)
    # User n is in team ``n % teams`` (see ``people.write_users``): the owner is one of the owning team's members.
    member_pick = rng.integers(0, max(1, users // teams) + 1, count)
    for n in range(count):
        team = team_of(n) % teams
        members = (users - team + teams - 1) // teams
        owner = team + teams * (member_pick[n] % members) if members > 0 else team % users
        lifecycle = (
            Lifecycle.RETIRED if fate[n] < 0.01 else Lifecycle.DEPRECATED if fate[n] < 0.04 else Lifecycle.ACTIVE
        )
        yield (
            first + n, asset_uuids[n], kind, names[n], slugs[n], descriptions[n], gen.ids["users"] + owner,
            gen.ids["teams"] + team, lifecycle, None, 90 if review[n] else None,
            (gen.epoch + timedelta(days=int(touched[n]) % 90)).date() if review[n] else None, "", created[n],
            updated[n],
        )  # fmt: skip


ASSET_COLUMNS = [
    "id", "uuid", "kind", "name", "slug", "description", "owner_id", "team_id", "lifecycle", "maintained_until",
    "review_interval_days", "next_review_date", "deprecation_conditions", "created_at", "updated_at",
]  # fmt: skip


def copy_assets(gen, rng, kind, name, names, slugs, descriptions, team_of):
    """Write one ``Asset`` row per name, with ids allocated under ``name``; returns the first id.
    ``team_of(n)`` is the owning team of the n-th."""
    first = gen.allocate(name, Asset, len(names))
    gen.copy(Asset, ASSET_COLUMNS, _asset_rows(gen, rng, kind, first, names, slugs, descriptions, team_of))
    return first


def write_sources(gen):
    rng = gen.rng("sources")
    count = gen.counts["sources"]
    systems = [
        (SourceKind.POSTGRESQL, "postgres"), (SourceKind.MYSQL, "mysql"), (SourceKind.OBJECT_STORE, "s3"),
        (SourceKind.FILES, "files"), (SourceKind.HTTP_API, "api"),
    ]  # fmt: skip
    system = rng.integers(0, len(systems), count)
    names = [f"{systems[system[n]][1]}-{DOMAINS[n % len(DOMAINS)]}-{n + 1:04d}" for n in range(count)]
    descriptions = [
        f"The {DOMAINS[n % len(DOMAINS)]} {systems[system[n]][1]} system, read nightly by the warehouse loaders."
        for n in range(count)
    ]
    first = copy_assets(gen, rng, AssetKind.SOURCE, "sources", names, names, descriptions, lambda n: n)

    def rows():
        for n in range(count):
            kind, word = systems[system[n]]
            connection_info = {"host": f"{word}-{n + 1}.internal", "port": 5432, "database": DOMAINS[n % len(DOMAINS)]}
            yield first + n, kind, connection_info, f"{word.upper()}_{n + 1}_PASSWORD"

    gen.copy(DataSource, ["asset_id", "source_kind", "connection", "secret_env_var"], rows())


def write_datasets(gen):
    rng = gen.rng("datasets")
    count, sources = gen.counts["datasets"], gen.counts["sources"]
    domains = domain_of_dataset(np.arange(count))
    entity = rng.integers(0, len(ENTITIES), count)
    suffix = rng.integers(0, len(SUFFIXES), count)
    positions = np.arange(count) % DOMAIN_SIZE
    # Early positions in a domain are its raw and staging tables, late ones its marts.
    stage = np.minimum(positions * len(STAGES) // DOMAIN_SIZE, len(STAGES) - 1)
    names, descriptions = [], []
    for n in range(count):
        area = DOMAINS[domains[n] % len(DOMAINS)]
        if n < len(HUB_DOMAINS):
            names.append(f"core_{ENTITIES[n % len(ENTITIES)]}")
            descriptions.append(f"The company-wide {ENTITIES[n % len(ENTITIES)]} table every domain builds on.")
            continue
        thing = ENTITIES[entity[n]]
        names.append(f"{STAGES[stage[n]]}_{area}_{thing}_{SUFFIXES[suffix[n]]}_{n + 1}")
        descriptions.append(
            f"{SUFFIXES[suffix[n]].title()} {thing} for {area}, {STAGES[stage[n]]} layer. "
            f"One row per {thing.rstrip('s')}; loaded by the {area} team."
        )
    slugs = [name.replace("_", "-") for name in names]
    first = copy_assets(
        gen, rng, AssetKind.DATASET, "datasets", names, slugs, descriptions,
        lambda n: team_of_domain(gen, domain_of_dataset(n)),
    )  # fmt: skip
    formats = [DatasetFormat.TABLE, DatasetFormat.TABLE, DatasetFormat.VIEW, DatasetFormat.PARQUET, DatasetFormat.CSV]
    fmt = rng.integers(0, len(formats), count)
    row_counts = rng.lognormal(12, 3, count).astype(np.int64)
    loaded = gen.when(rng, count, 30)

    def rows():
        for n in range(count):
            source = gen.ids["sources"] + (domains[n] * 7 + n) % sources
            area = DOMAINS[domains[n] % len(DOMAINS)]
            yield (
                first + n, source, f"{area}.{names[n]}", formats[fmt[n]], "Reporting and analysis.", "", "daily",
                int(row_counts[n]), int(row_counts[n]) * 120, loaded[n], "", "",
            )  # fmt: skip

    gen.copy(
        Dataset,
        ["asset_id", "source_id", "qualified_name", "format", "intended_use", "out_of_scope_uses", "update_frequency",
         "row_count", "size_bytes", "last_updated_at", "documentation_url", "snapshot_url"],
        rows(),
    )  # fmt: skip
    _dataset_tags(gen, rng, first, count)


def _dataset_tags(gen, rng, first, count):
    tags = gen.counts["tags"]
    how_many = rng.integers(0, 4, count)
    picks = rng.integers(0, tags, (count, 3))

    def rows():
        for n in range(count):
            for tag in sorted(set(picks[n, : how_many[n]].tolist())):
                yield first + n, gen.ids["tags"] + tag

    gen.copy(Asset.tags.through, ["asset_id", "tag_id"], rows())


def write_columns(gen):
    rng = gen.rng("columns")
    count = gen.counts["datasets"]
    first_dataset = gen.ids["datasets"]
    gen.allocate("columns", Column, count * COLUMNS_PER_DATASET)
    # Each dataset takes its own 20 distinct names: the first 20 of a random order of the name list.
    order = np.argsort(rng.random((count, len(COLUMN_NAMES))), axis=1)[:, :COLUMNS_PER_DATASET]
    order[:, 0] = 0  # every table starts with its id
    order[:, 1:] = np.where(order[:, 1:] == 0, 1 + (order[:, 1:] % (len(COLUMN_NAMES) - 1)), order[:, 1:])
    nullable = rng.random((count, COLUMNS_PER_DATASET)) < 0.6

    def rows():
        for n in range(count):
            seen = set()
            for position, pick in enumerate(order[n]):
                name, data_type = COLUMN_NAMES[pick]
                if name in seen:  # the id fix-up above can repeat a name: keep the table valid
                    name = f"{name}_{position}"
                seen.add(name)
                yield (
                    first_dataset + n, name, data_type, f"The {name.replace('_', ' ')}.", bool(nullable[n, position]),
                    name in PII_COLUMNS, "", position,
                )  # fmt: skip

    gen.copy(
        Column, ["dataset_id", "name", "data_type", "description", "nullable", "is_pii", "example_value", "position"],
        rows(),
    )  # fmt: skip


def write_reports(gen):
    rng = gen.rng("reports")
    count, domains = gen.counts["reports"], max(1, gen.counts["datasets"] // DOMAIN_SIZE)
    thing = rng.integers(0, len(ENTITIES), count)
    names = [
        f"{DOMAINS[(n % domains) % len(DOMAINS)].title()} {ENTITIES[thing[n]]} dashboard {n + 1}" for n in range(count)
    ]
    slugs = [f"{DOMAINS[(n % domains) % len(DOMAINS)]}-{ENTITIES[thing[n]]}-dashboard-{n + 1}" for n in range(count)]
    descriptions = [f"Weekly view of {ENTITIES[thing[n]]} for the business." for n in range(count)]
    first = copy_assets(
        gen, rng, AssetKind.REPORT, "reports", names, slugs, descriptions, lambda n: team_of_domain(gen, n % domains)
    )
    gen.copy(
        Report,
        ["asset_id", "url", "audience", "refresh_schedule"],
        ((first + n, f"https://bi.example.com/d/{n + 1}", "Managers", "daily") for n in range(count)),
    )


def write_pipelines(gen):
    rng = gen.rng("pipelines")
    count, domains = gen.counts["pipelines"], max(1, gen.counts["datasets"] // DOMAIN_SIZE)
    names = [f"load_{DOMAINS[(n % domains) % len(DOMAINS)]}_{n + 1}" for n in range(count)]
    slugs = [name.replace("_", "-") for name in names]
    descriptions = [f"Airflow DAG building the {DOMAINS[(n % domains) % len(DOMAINS)]} marts." for n in range(count)]
    first = copy_assets(
        gen, rng, AssetKind.PIPELINE, "pipelines", names, slugs, descriptions,
        lambda n: team_of_domain(gen, n % domains),
    )  # fmt: skip
    gen.copy(
        Pipeline,
        ["asset_id", "schedule", "code_url", "namespace"],
        ((first + n, "0 6 * * *", f"https://git.example.com/dags/{names[n]}.py", "airflow") for n in range(count)),
    )
