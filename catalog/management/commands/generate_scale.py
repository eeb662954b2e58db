"""Fill PostgreSQL with a large company's catalog, fast, for the benchmark (``make bench``).

Rows go in with ``COPY … FROM STDIN`` in chunks, never one ORM save per row, with ids allocated here so that
foreign keys need no round trip. The data is a pure function of ``--seed`` and the scale: every section draws
from its own random stream (seeded by the seed and the section's name), so a section added later does not change
the rows of the others.

The work is a list of sections, one per table or group of tables, run in order (``SECTIONS``). To add one
(freshness results, issues, cards …) write ``def _my_rows(gen): …`` using ``gen.copy``, ``gen.rng`` and the id
ranges in ``gen.ids``, and append ``Section("name", _my_rows)`` after the sections it depends on.

Lineage is a layered DAG: every dataset belongs to a domain (a block of ``DOMAIN_SIZE`` consecutive datasets)
and every dataset-to-dataset edge goes from a lower to a higher dataset number, so the graph is acyclic by
construction. Most edges stay inside a domain (short hops, like staging → intermediate → mart); a few cross
into the next domains; a handful of "core" hub datasets feed the first layers of many domains, so each hub has
thousands of descendants. Pipelines sit between their inputs and outputs, reports and model versions are sinks.
"""

import io
import json
import time
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, transaction

from accounts.models import Team
from catalog.choices import AssetKind, DatasetFormat, Lifecycle, LineageOrigin, SourceKind
from catalog.models import Asset, Column, Dataset, DataSource, LineageEdge, Pipeline, Report, Tag
from catalog.search import CONFIG as SEARCH_CONFIG
from monitoring.choices import NotificationKind
from monitoring.models import Notification
from registry.choices import Stage
from registry.models import Metric, ModelVersion, RegisteredModel

# Row counts at ``--scale full`` (factor 1.0), as the issue asks for.
FULL = {
    "teams": 500,
    "users": 5_000,
    "tags": 120,
    "sources": 2_000,
    "datasets": 100_000,
    "reports": 5_000,
    "pipelines": 3_000,
    "models": 10_000,
    "versions": 50_000,
    "edges": 1_000_000,
}
COLUMNS_PER_DATASET = 20
SMALL_FACTOR = 0.02
DOMAIN_SIZE = 200
# Few edges leave their domain: with more, ten hops from any table reach most of the catalog, which is not
# what real warehouses look like (and not what the issue asks: a few hubs with thousands of descendants).
CROSS_DOMAIN_SHARE = 0.002
# How many domains each core hub feeds at full scale; the count of hubs is fixed so every scale has hubs.
HUB_DOMAINS = [40, 25, 15, 10, 8, 6, 5, 4, 3, 2]
HUB_ENTRIES_PER_DOMAIN = 3
READS_PER_PIPELINE, WRITES_PER_PIPELINE = 3, 2
INPUTS_PER_REPORT = 4
TRAINING_SETS_PER_VERSION = 2
# Timestamps are relative to a fixed instant, not to now, so two runs with one seed give identical rows.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
CHUNK_ROWS = 50_000
NOTIFICATIONS_PER_USER = 20

DOMAINS = [
    "sales", "finance", "marketing", "logistics", "support", "hr", "risk", "product", "growth", "billing",
    "inventory", "pricing", "fraud", "payments", "web", "mobile", "crm", "supply", "legal", "security",
]  # fmt: skip
ENTITIES = [
    "orders", "customers", "invoices", "payments", "sessions", "events", "shipments", "products", "accounts",
    "tickets", "refunds", "subscriptions", "leads", "campaigns", "clicks", "returns", "contracts", "claims",
    "transactions", "employees", "suppliers", "stores", "carts", "reviews",
]  # fmt: skip
STAGES = ["raw", "stg", "int", "fct", "dim", "agg", "mart"]
SUFFIXES = ["daily", "hourly", "snapshot", "history", "current", "v2", "enriched", "clean"]
FIRST_NAMES = [
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kemi", "Liam", "Maya",
    "Noor", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Victor", "Wen", "Yara", "Zoe",
]  # fmt: skip
LAST_NAMES = [
    "Okafor", "Nguyen", "Schmidt", "Garcia", "Kowalski", "Haddad", "Rossi", "Tanaka", "Dubois", "Silva",
    "Jensen", "Ivanova", "Murphy", "Cohen", "Patel", "Larsen", "Moreau", "Novak", "Ortiz", "Berg",
]  # fmt: skip
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
ALGORITHMS = ["gradient boosting", "random forest", "logistic regression", "xgboost", "lightgbm", "neural network"]


def counts_for(factor):
    """Row counts at ``factor`` times full scale; never below what keeps every kind and a hub present."""
    counts = {name: max(1, round(full * factor)) for name, full in FULL.items()}
    counts["users"] = max(counts["users"], 2)
    counts["tags"] = max(counts["tags"], 20)
    counts["datasets"] = max(counts["datasets"], len(HUB_DOMAINS) + 2 * DOMAIN_SIZE // 10)
    counts["versions"] = max(counts["versions"], counts["models"])
    return counts


def parse_scale(value):
    if value == "full":
        return 1.0
    if value == "small":
        return SMALL_FACTOR
    try:
        factor = float(value)
    except ValueError:
        raise CommandError(f"--scale {value!r} is not 'full', 'small' or a number such as 0.1.") from None
    if not 0 < factor <= 1:
        raise CommandError(f"--scale {factor} is out of range: use a factor above 0 and at most 1.")
    return factor


def _copy_value(value):
    if type(value) is int:  # the most frequent case, and one that needs no escaping
        return str(value)
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dict | list):
        value = json.dumps(value)
    elif isinstance(value, datetime | date | uuid.UUID):
        value = value.isoformat() if not isinstance(value, uuid.UUID) else str(value)
    else:
        value = str(value)
    # COPY's text format: backslash, tab and newlines are the only characters with a meaning.
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


@dataclass
class Generator:
    """The state shared by the sections: the seed, the counts, and the id range allocated to each kind."""

    seed: int
    counts: dict
    cursor: object
    ids: dict = field(default_factory=dict)
    next_id: dict = field(default_factory=dict)
    written: dict = field(default_factory=dict)

    def rng(self, section):
        """A random stream of its own for ``section``, so sections do not shift each other's data."""
        return np.random.default_rng([self.seed, zlib.crc32(section.encode())])

    def allocate(self, name, model, count):
        """Reserve ``count`` consecutive primary keys of ``model``'s table; ``ids[name]`` is their first one."""
        table = model._meta.db_table
        key = model._meta.pk.column
        start = self.next_id.get(table)
        if start is None:
            self.cursor.execute(f'SELECT COALESCE(MAX("{key}"), 0) + 1 FROM "{table}"')
            start = self.cursor.fetchone()[0]
        self.next_id[table] = start + count
        self.ids[name] = start
        return start

    def copy(self, model_or_table, columns, rows):
        """Stream ``rows`` (tuples in ``columns`` order) into the table with COPY, in chunks of bounded memory.

        For a model, its other required columns get the model's defaults: Django keeps defaults in Python, not in
        the database, so a column added to the model later would otherwise make COPY fail on NOT NULL.
        """
        table = model_or_table if isinstance(model_or_table, str) else model_or_table._meta.db_table
        defaults = [] if isinstance(model_or_table, str) else _defaults_missing_from(model_or_table, columns)
        quoted = ", ".join(f'"{column}"' for column in [*columns, *(column for column, _ in defaults)])
        statement = f'COPY "{table}" ({quoted}) FROM STDIN'
        tail = "".join("\t" + _copy_value(value) for _, value in defaults)
        buffer, pending, total = io.StringIO(), 0, 0
        for row in rows:
            buffer.write("\t".join(_copy_value(v) for v in row) + tail)
            buffer.write("\n")
            pending += 1
            if pending == CHUNK_ROWS:
                total += self._flush(statement, buffer)
                buffer, pending = io.StringIO(), 0
        if pending:
            total += self._flush(statement, buffer)
        self.written[table] = self.written.get(table, 0) + total
        return total

    def _flush(self, statement, buffer):
        buffer.seek(0)
        self.cursor.copy_expert(statement, buffer)
        return self.cursor.rowcount


def _defaults_missing_from(model, columns):
    """``[(column, default)]`` for the model's NOT NULL columns that ``columns`` leaves out and that have a default
    (Django's: the field's ``default``, or "" for text)."""
    required = [f for f in model._meta.concrete_fields if f.column not in columns and not f.null and not f.primary_key]
    return [(field.column, field.get_default()) for field in required if field.get_default() is not None]


@dataclass
class Section:
    name: str
    fill: object


def _instants(seconds_before_epoch):
    """ISO 8601 UTC strings, made by numpy: formatting millions of datetimes in Python costs half a minute."""
    instants = np.datetime64(EPOCH.replace(tzinfo=None), "s") - seconds_before_epoch.astype("timedelta64[s]")
    return np.datetime_as_string(instants, timezone="UTC").tolist()


def _when(rng, count, max_days=365):
    """``count`` instants in the ``max_days`` before the epoch."""
    return _instants(rng.integers(0, max_days * 86400, count))


def _uuids(rng, count):
    raw = rng.bytes(16 * count)
    return [uuid.UUID(bytes=raw[i * 16 : i * 16 + 16], version=4) for i in range(count)]


def _teams(gen):
    count = gen.counts["teams"]
    first = gen.allocate("teams", Team, count)
    functions = ["Analytics", "Engineering", "Science", "Platform", "Operations"]
    rows = []
    for n in range(count):
        domain = DOMAINS[n % len(DOMAINS)]
        name = f"{domain.title()} {functions[(n // len(DOMAINS)) % len(functions)]} {n + 1}"
        rows.append((first + n, name, f"{domain}-{n + 1}", f"The {domain} people, group {n + 1}.", "", ""))
    gen.copy(Team, ["id", "name", "slug", "description", "email", "webhook_url"], rows)


def _users(gen):
    rng = gen.rng("users")
    count, teams = gen.counts["users"], gen.counts["teams"]
    user_model = get_user_model()
    first = gen.allocate("users", user_model, count)
    joined = _when(rng, count, 3 * 365)
    firsts = rng.integers(0, len(FIRST_NAMES), count)
    lasts = rng.integers(0, len(LAST_NAMES), count)

    def rows():
        for n in range(count):
            username = f"user{n + 1:05d}"
            # "!" marks an unusable password: generated people cannot sign in; the benchmark sets its own.
            yield (first + n, "!", None, False, username, FIRST_NAMES[firsts[n]], LAST_NAMES[lasts[n]],
                   f"{username}@example.com", False, True, joined[n])  # fmt: skip

    gen.copy(
        user_model,
        ["id", "password", "last_login", "is_superuser", "username", "first_name", "last_name", "email",
         "is_staff", "is_active", "date_joined"],
        rows(),
    )  # fmt: skip
    # Everyone is in their home team; a third are also in a second one.
    membership = Team.members.through
    second = rng.integers(1, teams, count) if teams > 1 else np.zeros(count, dtype=int)
    extra = rng.random(count) < 1 / 3

    def memberships():
        for n in range(count):
            home = n % teams
            yield first + n, gen.ids["teams"] + home
            if extra[n] and teams > 1:
                yield first + n, gen.ids["teams"] + (home + second[n]) % teams

    gen.copy(membership, ["user_id", "team_id"], memberships())


def _tags(gen):
    count = gen.counts["tags"]
    first = gen.allocate("tags", Tag, count)
    words = list(
        dict.fromkeys(["pii", "gold", "silver", "bronze", "certified", "deprecated-soon", *DOMAINS, *ENTITIES])
    )
    names = [words[n] if n < len(words) else f"topic-{n + 1}" for n in range(count)]
    gen.copy(Tag, ["id", "name"], [(first + n, names[n]) for n in range(count)])


def _domain_of_dataset(n):
    return n // DOMAIN_SIZE


def _asset_rows(gen, rng, kind, first, count, names, slugs, descriptions, team_of):
    """Rows of the shared ``Asset`` table: owner is a member of the owning team, a few are deprecated or retired."""
    teams, users = gen.counts["teams"], gen.counts["users"]
    age = rng.integers(0, 2 * 365 * 86400, count)
    touched = rng.integers(0, 90 * 86400, count)
    created, updated = _instants(age), _instants(np.maximum(age - touched, 0))
    fate = rng.random(count)
    review = rng.random(count) < 0.3
    uuids = _uuids(rng, count)
    # User n is in team ``n % teams`` (see ``_users``): the owner is one of the owning team's members.
    member_pick = rng.integers(0, max(1, users // teams) + 1, count)
    for n in range(count):
        team = team_of(n) % teams
        members = (users - team + teams - 1) // teams
        owner = team + teams * (member_pick[n] % members) if members > 0 else team % users
        lifecycle = (
            Lifecycle.RETIRED if fate[n] < 0.01 else Lifecycle.DEPRECATED if fate[n] < 0.04 else Lifecycle.ACTIVE
        )
        yield (
            first + n, uuids[n], kind, names[n], slugs[n], descriptions[n], gen.ids["users"] + owner,
            gen.ids["teams"] + team, lifecycle, None, 90 if review[n] else None,
            (EPOCH + timedelta(days=int(touched[n]) % 90)).date() if review[n] else None, "", created[n], updated[n],
        )  # fmt: skip


ASSET_COLUMNS = [
    "id", "uuid", "kind", "name", "slug", "description", "owner_id", "team_id", "lifecycle", "maintained_until",
    "review_interval_days", "next_review_date", "deprecation_conditions", "created_at", "updated_at",
]  # fmt: skip


def _copy_assets(gen, rng, kind, name, names, slugs, descriptions, team_of):
    count = len(names)
    first = gen.allocate(name, Asset, count)
    gen.copy(Asset, ASSET_COLUMNS, _asset_rows(gen, rng, kind, first, count, names, slugs, descriptions, team_of))
    return first


def _team_of_domain(gen, domain):
    return domain % gen.counts["teams"]


def _sources(gen):
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
    first = _copy_assets(gen, rng, AssetKind.SOURCE, "sources", names, names, descriptions, lambda n: n)

    def rows():
        for n in range(count):
            kind, word = systems[system[n]]
            connection_info = {"host": f"{word}-{n + 1}.internal", "port": 5432, "database": DOMAINS[n % len(DOMAINS)]}
            yield first + n, kind, connection_info, f"{word.upper()}_{n + 1}_PASSWORD"

    gen.copy(DataSource, ["asset_id", "source_kind", "connection", "secret_env_var"], rows())


def _datasets(gen):
    rng = gen.rng("datasets")
    count, sources = gen.counts["datasets"], gen.counts["sources"]
    domains = _domain_of_dataset(np.arange(count))
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
    first = _copy_assets(
        gen, rng, AssetKind.DATASET, "datasets", names, slugs, descriptions,
        lambda n: _team_of_domain(gen, _domain_of_dataset(n)),
    )  # fmt: skip
    formats = [DatasetFormat.TABLE, DatasetFormat.TABLE, DatasetFormat.VIEW, DatasetFormat.PARQUET, DatasetFormat.CSV]
    fmt = rng.integers(0, len(formats), count)
    row_counts = rng.lognormal(12, 3, count).astype(np.int64)
    loaded = _when(rng, count, 30)

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


def _columns(gen):
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


def _reports(gen):
    rng = gen.rng("reports")
    count, domains = gen.counts["reports"], max(1, gen.counts["datasets"] // DOMAIN_SIZE)
    thing = rng.integers(0, len(ENTITIES), count)
    names = [
        f"{DOMAINS[(n % domains) % len(DOMAINS)].title()} {ENTITIES[thing[n]]} dashboard {n + 1}" for n in range(count)
    ]
    slugs = [f"{DOMAINS[(n % domains) % len(DOMAINS)]}-{ENTITIES[thing[n]]}-dashboard-{n + 1}" for n in range(count)]
    descriptions = [f"Weekly view of {ENTITIES[thing[n]]} for the business." for n in range(count)]
    first = _copy_assets(
        gen, rng, AssetKind.REPORT, "reports", names, slugs, descriptions, lambda n: _team_of_domain(gen, n % domains)
    )
    gen.copy(
        Report,
        ["asset_id", "url", "audience", "refresh_schedule"],
        ((first + n, f"https://bi.example.com/d/{n + 1}", "Managers", "daily") for n in range(count)),
    )


def _pipelines(gen):
    rng = gen.rng("pipelines")
    count, domains = gen.counts["pipelines"], max(1, gen.counts["datasets"] // DOMAIN_SIZE)
    names = [f"load_{DOMAINS[(n % domains) % len(DOMAINS)]}_{n + 1}" for n in range(count)]
    slugs = [name.replace("_", "-") for name in names]
    descriptions = [f"Airflow DAG building the {DOMAINS[(n % domains) % len(DOMAINS)]} marts." for n in range(count)]
    first = _copy_assets(
        gen, rng, AssetKind.PIPELINE, "pipelines", names, slugs, descriptions,
        lambda n: _team_of_domain(gen, n % domains),
    )  # fmt: skip
    gen.copy(
        Pipeline,
        ["asset_id", "schedule", "code_url", "namespace"],
        ((first + n, "0 6 * * *", f"https://git.example.com/dags/{names[n]}.py", "airflow") for n in range(count)),
    )


def _models(gen):
    rng = gen.rng("models")
    count, versions, domains = (
        gen.counts["models"],
        gen.counts["versions"],
        max(1, gen.counts["datasets"] // DOMAIN_SIZE),
    )
    thing = rng.integers(0, len(ENTITIES), count)
    goals = ["churn", "fraud", "demand", "propensity", "ltv", "risk", "forecast", "ranking"]
    goal = rng.integers(0, len(goals), count)
    names = [
        f"{DOMAINS[(n % domains) % len(DOMAINS)]}-{ENTITIES[thing[n]]}-{goals[goal[n]]}-{n + 1}" for n in range(count)
    ]
    descriptions = [f"Predicts {goals[goal[n]]} from {ENTITIES[thing[n]]}." for n in range(count)]
    first = _copy_assets(
        gen, rng, AssetKind.MODEL, "models", names, names, descriptions, lambda n: _team_of_domain(gen, n % domains)
    )
    gen.copy(
        RegisteredModel,
        ["asset_id", "summary", "goal", "users_description", "mlflow_name"],
        ((first + n, descriptions[n], f"Reduce {goals[goal[n]]} losses.", "Internal teams.", names[n])
         for n in range(count)),
    )  # fmt: skip
    # Every model has one version; the rest are spread at random, so some models have many.
    per_model = 1 + np.bincount(rng.integers(0, count, versions - count), minlength=count)
    owner_team = [_team_of_domain(gen, n % domains) for n in range(count)]
    model_of = np.repeat(np.arange(count), per_model)
    number = np.concatenate([np.arange(1, k + 1) for k in per_model])
    latest = number == per_model[model_of]
    in_use = rng.random(count) < 0.6
    v_names = [f"{names[m]} v{k}" for m, k in zip(model_of.tolist(), number.tolist(), strict=True)]
    v_slugs = [f"{names[m]}-v{k}" for m, k in zip(model_of.tolist(), number.tolist(), strict=True)]
    v_first = _copy_assets(
        gen, rng, AssetKind.MODEL_VERSION, "versions", v_names, v_slugs, ["" for _ in v_names],
        lambda n: owner_team[model_of[n]],
    )  # fmt: skip
    algorithm = rng.integers(0, len(ALGORITHMS), versions)
    created = _when(rng, versions, 365)
    scores = rng.uniform(0.6, 0.95, (versions, 2))

    def stage(n):
        if latest[n]:
            return Stage.PRODUCTION if in_use[model_of[n]] else Stage.STAGING
        return Stage.ARCHIVED if number[n] < per_model[model_of[n]] - 1 else Stage.DEVELOPMENT

    def rows():
        for n in range(versions):
            passed = bool(scores[n, 0] > 0.7)
            yield (
                v_first + n, first + model_of[n], int(number[n]), stage(n), ALGORITHMS[algorithm[n]],
                {"max_depth": 6, "learning_rate": 0.1}, ["amount", "country", "channel"], "", 10_000_000,
                uuid.UUID(int=n + 1).hex, f"models:/{names[model_of[n]]}/{number[n]}", passed,
                {"auc": {"threshold": 0.7, "value": round(float(scores[n, 0]), 4), "passed": passed}},
                None, created[n],
            )  # fmt: skip

    gen.copy(
        ModelVersion,
        ["asset_id", "model_id", "version", "stage", "algorithm", "hyperparameters", "features", "snapshot_url",
         "size_bytes", "mlflow_run_id", "model_uri", "passed_thresholds", "threshold_results", "created_by_id",
         "created_at"],
        rows(),
    )  # fmt: skip
    gen.copy(
        Metric,
        ["version_id", "name", "value", "split"],
        (
            (v_first + n, metric, float(scores[n, column]), "test")
            for n in range(versions)
            for column, metric in enumerate(["auc", "f1"])
        ),
    )


def _dataset_edges(gen, rng, target):
    """``target`` distinct dataset → dataset edges (as dataset numbers), each from a lower to a higher number."""
    count = gen.counts["datasets"]
    hubs = min(len(HUB_DOMAINS), count)
    positions = np.arange(count) % DOMAIN_SIZE
    domains = _domain_of_dataset(np.arange(count))
    # Draw more than needed: short hops repeat, duplicates are dropped, then the surplus is cut at random.
    rate = 1.4 * target / max(1, count)
    in_degree = np.minimum(rng.poisson(rate, count), positions)
    down = np.repeat(np.arange(count), in_degree)
    hop = np.minimum(rng.geometric(0.08, down.size), positions[down])
    up = down - hop
    crossing = (rng.random(down.size) < CROSS_DOMAIN_SHARE) & (domains[down] > 0)
    low = np.maximum(domains[down] - 3, 0) * DOMAIN_SIZE
    high = domains[down] * DOMAIN_SIZE
    up = np.where(crossing, low + (rng.random(down.size) * (high - low)).astype(np.int64), up)
    # Hubs are fed by nothing but the sources: keep them roots.
    keep = down >= hubs
    keys = np.unique(up[keep].astype(np.int64) * count + down[keep])
    if keys.size > target:
        keys = np.sort(rng.choice(keys, target, replace=False))
    return keys // count, keys % count


def _hub_edges(gen, rng):
    """Each core hub feeds the first layers of many domains (the full-scale counts in ``HUB_DOMAINS``)."""
    count = gen.counts["datasets"]
    domains = max(1, count // DOMAIN_SIZE)
    factor = gen.counts["datasets"] / FULL["datasets"]
    ups, downs = [], []
    for hub, fed in enumerate(HUB_DOMAINS[: min(len(HUB_DOMAINS), count)]):
        fed = max(1, min(domains, round(fed * factor)))
        for domain in sorted(rng.choice(domains, fed, replace=False).tolist()):
            start = domain * DOMAIN_SIZE
            span = max(1, min(DOMAIN_SIZE // 10, count - start))
            for entry in sorted(set(rng.integers(0, span, HUB_ENTRIES_PER_DOMAIN).tolist())):
                target = start + entry
                if target >= len(HUB_DOMAINS) and target < count:
                    ups.append(hub)
                    downs.append(target)
    return np.array(ups, dtype=np.int64), np.array(downs, dtype=np.int64)


def _lineage(gen):
    rng = gen.rng("lineage")
    count = gen.counts["datasets"]
    datasets = gen.ids["datasets"]
    reports, pipelines, versions = gen.counts["reports"], gen.counts["pipelines"], gen.counts["versions"]
    edges = []  # (upstream asset id, downstream asset id) arrays
    # Sinks: reports and model versions read from the marts (late positions) of a domain.
    domains = max(1, count // DOMAIN_SIZE)

    def mart_of(n, how_many):
        domain = (n % domains) * DOMAIN_SIZE
        span = np.minimum(DOMAIN_SIZE, count - domain)
        return (domain + span // 2)[:, None] + (rng.random((len(n), how_many)) * (span - span // 2)[:, None]).astype(
            np.int64
        )

    report_numbers = np.arange(reports)
    inputs = mart_of(report_numbers, INPUTS_PER_REPORT)
    edges.append((datasets + inputs.ravel(), gen.ids["reports"] + np.repeat(report_numbers, INPUTS_PER_REPORT)))
    version_numbers = np.arange(versions)
    training = mart_of(version_numbers % gen.counts["models"], TRAINING_SETS_PER_VERSION)
    edges.append(
        (datasets + training.ravel(), gen.ids["versions"] + np.repeat(version_numbers, TRAINING_SETS_PER_VERSION))
    )
    # A pipeline reads early tables of its domain and writes later ones: it sits between them in the order.
    pipeline_numbers = np.arange(pipelines)
    base = (pipeline_numbers % domains) * DOMAIN_SIZE
    span = np.minimum(DOMAIN_SIZE, count - base)
    middle = base + span // 2
    reads = base[:, None] + (rng.random((pipelines, READS_PER_PIPELINE)) * (span // 2)[:, None]).astype(np.int64)
    writes = middle[:, None] + (rng.random((pipelines, WRITES_PER_PIPELINE)) * (span - span // 2)[:, None]).astype(
        np.int64
    )
    writes = np.maximum(writes, len(HUB_DOMAINS))  # hubs stay roots
    pipeline_ids = gen.ids["pipelines"] + pipeline_numbers
    edges.append((datasets + reads.ravel(), np.repeat(pipeline_ids, READS_PER_PIPELINE)))
    edges.append((np.repeat(pipeline_ids, WRITES_PER_PIPELINE), datasets + writes.ravel()))
    hub_up, hub_down = _hub_edges(gen, rng)
    edges.append((datasets + hub_up, datasets + hub_down))
    others = sum(len(up) for up, _ in edges)
    up, down = _dataset_edges(gen, rng, max(0, gen.counts["edges"] - others))
    edges.append((datasets + up, datasets + down))
    up = np.concatenate([e[0] for e in edges]).astype(np.int64)
    down = np.concatenate([e[1] for e in edges]).astype(np.int64)
    # Different rules can draw the same pair; the table allows each pair once.
    pairs = np.unique(np.stack([up, down], axis=1), axis=0)
    created = _when(rng, len(pairs), 180)
    origins = [LineageOrigin.OPENLINEAGE, LineageOrigin.OPENLINEAGE, LineageOrigin.SCAN, LineageOrigin.MANUAL]
    origin = rng.integers(0, len(origins), len(pairs))
    gen.copy(
        LineageEdge,
        ["upstream_id", "downstream_id", "origin", "created_by_id", "created_at"],
        ((int(u), int(d), origins[origin[n]], None, created[n]) for n, (u, d) in enumerate(pairs.tolist())),
    )


def _notifications(gen):
    """Each person's inbox: alerts and notices about datasets of their home team, most of them read."""
    rng = gen.rng("notifications")
    users, teams, datasets = gen.counts["users"], gen.counts["teams"], gen.counts["datasets"]
    per_user = NOTIFICATIONS_PER_USER
    kinds = [
        (NotificationKind.FRESHNESS, "{name} is late"), (NotificationKind.JOB, "Schema scan of {name} finished"),
        (NotificationKind.SCHEMA_CHANGE, "{name} changed its columns"), (NotificationKind.ISSUE, "New issue on {name}"),
        (NotificationKind.DEPRECATION, "{name} will be retired"),
    ]  # fmt: skip
    kind = rng.integers(0, len(kinds), users * per_user)
    pick = rng.integers(0, DOMAIN_SIZE, users * per_user)
    sent = _when(rng, users * per_user, 60)
    unread = rng.random(users * per_user) < 0.3
    domains = max(1, datasets // DOMAIN_SIZE)

    def rows():
        for n in range(users * per_user):
            user = n // per_user
            # A dataset in one of the domains the user's home team owns (domain d belongs to team d % teams).
            domain = (user % teams) % domains
            dataset = min(datasets - 1, domain * DOMAIN_SIZE + pick[n])
            name = f"dataset #{dataset + 1}"
            what, title = kinds[kind[n]]
            yield (
                gen.ids["users"] + user, gen.ids["datasets"] + dataset, what, title.format(name=name), "",
                "", sent[n], None if unread[n] else sent[n],
            )  # fmt: skip

    columns = ["recipient_id", "asset_id", "kind", "title", "body", "url", "created_at", "read_at"]
    gen.copy(Notification, columns, rows())


SECTIONS = [
    Section("teams", _teams),
    Section("users", _users),
    Section("tags", _tags),
    Section("sources", _sources),
    Section("datasets", _datasets),
    Section("columns", _columns),
    Section("reports", _reports),
    Section("pipelines", _pipelines),
    Section("models", _models),
    Section("lineage", _lineage),
    Section("notifications", _notifications),
]
# Tables whose id sequences must move past the ids written here.
SEQUENCED = [
    Team, get_user_model(), Team.members.through, Tag, Asset, Asset.tags.through, Column, LineageEdge, Metric,
    Notification,
]  # fmt: skip


def _drop_foreign_keys(cursor):
    """Drop the foreign keys of the project's tables; returns what ``_restore_foreign_keys`` needs to add them back.

    Django's foreign keys are deferred: with them in place, every copied row queues a check that runs at commit,
    one row at a time (minutes for a million edges). Adding a key back checks all rows in one join instead.
    """
    tables = [model._meta.db_table for model in apps.get_models(include_auto_created=True)]
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s) ORDER BY 1, 2",
        [tables],
    )
    foreign_keys = cursor.fetchall()
    for table, name, _ in foreign_keys:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    return foreign_keys


def _restore_foreign_keys(cursor, foreign_keys):
    for table, name, definition in foreign_keys:
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def _index_for_search(cursor):
    """What ``catalog.search.reindex`` writes, in one statement for every asset: the name weighs most (A), then
    column names (B) and the description (D); owners and tags are left out at this scale."""
    cursor.execute(
        """
        UPDATE catalog_asset a SET
            search_text = a.name || ' ' || COALESCE(c.names, '') || ' ' || a.description,
            search_vector = setweight(to_tsvector(%(config)s, a.name), 'A')
                || setweight(to_tsvector(%(config)s, COALESCE(c.names, '')), 'B')
                || setweight(to_tsvector(%(config)s, a.description), 'D')
        FROM catalog_asset base
        LEFT JOIN (
            SELECT dataset_id, string_agg(name, ' ') AS names FROM catalog_column GROUP BY dataset_id
        ) c ON c.dataset_id = base.id
        WHERE a.id = base.id
        """,
        {"config": SEARCH_CONFIG},
    )


def generate(factor, seed, *, log=lambda message: None):
    """Write the whole scale data set in one transaction; returns the ``Generator`` (``written``: rows per table)."""
    if connection.vendor != "postgresql":
        raise CommandError(f"generate_scale needs PostgreSQL (COPY); this database is {connection.vendor}.")
    if Asset.objects.exists():
        raise CommandError("The catalog is not empty: generate into a fresh database (make bench creates one).")
    with transaction.atomic(), connection.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg2's own cursor: Django's wrapper has no copy_expert
        # Losing this data in a crash costs a re-run, not a user's work: skip waiting for the WAL flush.
        cursor.execute("SET LOCAL synchronous_commit = off")
        gen = Generator(seed=seed, counts=counts_for(factor), cursor=cursor)
        foreign_keys = _drop_foreign_keys(cursor)
        for section in SECTIONS:
            started = time.monotonic()
            before = sum(gen.written.values())
            section.fill(gen)
            rows = sum(gen.written.values()) - before
            log(f"{section.name:<13} {rows:>10,} rows  {time.monotonic() - started:6.1f} s")
        started = time.monotonic()
        _restore_foreign_keys(cursor, foreign_keys)
        log(f"{'foreign keys':<13} {len(foreign_keys):>10,} checked {time.monotonic() - started:5.1f} s")
        for statement in connection.ops.sequence_reset_sql(no_style(), SEQUENCED):
            cursor.execute(statement)
        started = time.monotonic()
        _index_for_search(cursor)
        log(f"{'search index':<13} {'':>10}       {time.monotonic() - started:6.1f} s")
    started = time.monotonic()
    with connection.cursor() as cursor:
        # Fresh statistics, or the planner guesses "empty table" and picks sequential scans. VACUUM (impossible
        # inside a transaction, as in tests) also marks pages all-visible, as autovacuum would by the time a real
        # catalog is this size, so counts can use index-only scans.
        cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
    log(f"{'vacuum':<13} {'':>10}       {time.monotonic() - started:6.1f} s")
    return gen


class Command(BaseCommand):
    help = "Fill an empty PostgreSQL database with a large, deterministic catalog for benchmarks (COPY, minutes)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", default="small", help="'full', 'small' (2%%) or a factor such as 0.1.")
        parser.add_argument("--seed", type=int, default=1, help="Same seed and scale, same rows.")

    def handle(self, *, scale, seed, **options):
        factor = parse_scale(scale)
        started = time.monotonic()
        gen = generate(factor, seed, log=self.stdout.write)
        total = sum(gen.written.values())
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {total:,} rows at scale {factor:g} in {time.monotonic() - started:.0f} s.")
        )
