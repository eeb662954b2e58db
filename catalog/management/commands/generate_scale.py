"""Fill PostgreSQL with a large company's catalog, fast, for the benchmark (``make bench``).

Rows go in with ``COPY … FROM STDIN`` in chunks, never one ORM save per row, with ids allocated here so that
foreign keys need no round trip. The data is a pure function of ``--seed``, the scale and the epoch (the data's
"now", by default the current minute, so freshness history and deadlines are current whenever it is generated):
every section draws from its own random stream (seeded by the seed and the section's name), so a section added
later does not change the rows of the others.

The work is a list of sections, one per table or group of tables, run in order (``SECTIONS``). To add one
write ``def _my_rows(gen): …`` using ``gen.copy``, ``gen.rng``, ``gen.when`` and the id ranges in ``gen.ids``,
and append ``Section("name", _my_rows)`` after the sections it depends on. A section may read back what earlier
ones wrote (``gen.cursor``), as the freshness, issue and card sections do for sources, columns and owners.

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
from zoneinfo import ZoneInfo

import numpy as np
from croniter import croniter
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, transaction

from accounts.models import Team
from catalog.choices import AssetKind, DatasetFormat, Lifecycle, LineageOrigin, SourceKind
from catalog.models import Asset, Column, Dataset, DataSource, LineageEdge, Pipeline, Report, Tag
from catalog.search import CONFIG as SEARCH_CONFIG
from core.choices import NotificationKind
from core.models import Notification
from monitoring.choices import FreshnessMethod, FreshnessStatus, PingKind, ScheduleKind
from monitoring.models import FreshnessCheck, FreshnessPolicy
from registry.choices import Stage
from registry.models import Assumption, Metric, ModelCard, ModelVersion, RegisteredModel
from trust.choices import IssueCategory, IssueSeverity, IssueStatus, ReviewNoticeKind
from trust.models import DataIssue, IssueEvent, ReviewNotice

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
    "policies": 10_000,
    "checks": 2_000_000,
    "issues": 50_000,
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
    counts["checks"] = max(counts["checks"], counts["policies"])  # every policy has its last check at least
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
    """The state shared by the sections: the seed, the counts, the epoch (the data's "now") and the id range
    allocated to each kind."""

    seed: int
    counts: dict
    cursor: object
    epoch: datetime
    ids: dict = field(default_factory=dict)
    next_id: dict = field(default_factory=dict)
    written: dict = field(default_factory=dict)

    def instants(self, seconds_before_epoch):
        """ISO 8601 UTC strings, made by numpy: formatting millions of datetimes in Python costs half a minute."""
        epoch = np.datetime64(self.epoch.astimezone(UTC).replace(tzinfo=None), "s")
        return np.datetime_as_string(epoch - seconds_before_epoch.astype("timedelta64[s]"), timezone="UTC").tolist()

    def when(self, rng, count, max_days=365):
        """``count`` instants in the ``max_days`` before the epoch."""
        return self.instants(rng.integers(0, max_days * 86400, count))

    def execute(self, table, statement, params=()):
        """Run an ``INSERT … SELECT`` deriving rows from what earlier sections wrote; counted like a copy."""
        self.cursor.execute(statement, params)
        self.written[table] = self.written.get(table, 0) + self.cursor.rowcount

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
    joined = gen.when(rng, count, 3 * 365)
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
    created, updated = gen.instants(age), gen.instants(np.maximum(age - touched, 0))
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
            (gen.epoch + timedelta(days=int(touched[n]) % 90)).date() if review[n] else None, "", created[n],
            updated[n],
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
    created = gen.when(rng, versions, 365)
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
    created = gen.when(rng, len(pairs), 180)
    origins = [LineageOrigin.OPENLINEAGE, LineageOrigin.OPENLINEAGE, LineageOrigin.SCAN, LineageOrigin.MANUAL]
    origin = rng.integers(0, len(origins), len(pairs))
    gen.copy(
        LineageEdge,
        ["upstream_id", "downstream_id", "origin", "created_by_id", "created_at"],
        ((int(u), int(d), origins[origin[n]], None, created[n]) for n, (u, d) in enumerate(pairs.tolist())),
    )
    # Nothing retired still feeds anything: an asset is retired once its deprecation has moved every consumer
    # away. One drawn as retired that still has consumers is being phased out: deprecated. (Drawn at random, a
    # retired input sat within ten hops of almost every report, and almost every badge read "Do not use".)
    assets, edges = Asset._meta.db_table, LineageEdge._meta.db_table
    gen.cursor.execute(
        f"UPDATE {assets} SET lifecycle = %s WHERE lifecycle = %s AND id IN (SELECT upstream_id FROM {edges})",
        [Lifecycle.DEPRECATED, Lifecycle.RETIRED],
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
    sent = gen.when(rng, users * per_user, 60)
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


# --- freshness ---------------------------------------------------------------------------------------------------
# What owners set, and how often: ((schedule kind, hours or cron, time zone, grace in minutes), share).
FRESHNESS_SCHEDULES = [
    ((ScheduleKind.PERIOD, 1, "UTC", 20), 0.20),
    ((ScheduleKind.PERIOD, 24, "UTC", 180), 0.40),
    ((ScheduleKind.PERIOD, 24 * 7, "UTC", 720), 0.05),
    ((ScheduleKind.CRON, "0 6 * * *", "UTC", 120), 0.15),
    ((ScheduleKind.CRON, "30 2 * * *", "Europe/Paris", 90), 0.10),
    ((ScheduleKind.CRON, "0 7 * * 1-5", "America/New_York", 240), 0.05),
    ((ScheduleKind.CRON, "0 */4 * * *", "UTC", 45), 0.05),
]
PIPELINE_SCHEDULE = (ScheduleKind.CRON, "0 6 * * *", "UTC", 120)  # the generated pipelines' own schedule
PIPELINE_POLICY_SHARE, REPORT_POLICY_SHARE, HTTP_REPORT_SHARE = 0.15, 0.10, 0.6
# The status each policy announced at its last check. An asset is as fresh as its stalest input within ten hops,
# so trouble upstream would mark most of the catalog: upstream tables were on time at their last check, and what
# is late or stale sits in the last layer of a domain (marts), in reports and in pipelines, which few depend on.
ANNOUNCED_MIX = {FreshnessStatus.FRESH: 0.86, FreshnessStatus.LATE: 0.05, FreshnessStatus.STALE: 0.06,
                 FreshnessStatus.UNKNOWN: 0.03}  # fmt: skip
HISTORY_MIX = {FreshnessStatus.FRESH: 0.93, FreshnessStatus.LATE: 0.03, FreshnessStatus.STALE: 0.03,
               FreshnessStatus.UNKNOWN: 0.01}  # fmt: skip
PAUSED_SHARE = 0.01
CHECK_HISTORY_DAYS = 80  # inside the default 90-day retention: the daily prune finds nothing to delete at first
PROBE_TIMEOUT_SECONDS = 10
# The column an SQL probe reads, in order of preference, among a dataset's generated timestamp columns.
TIMESTAMP_COLUMNS = ["updated_at", "load_ts", "created_at", "shipped_at", "delivered_at"]
PROBE_ERROR = "Could not connect to PostgreSQL: timeout expired"


def _draw(rng, mix, count):
    """``count`` keys of ``mix`` ({key: share}), drawn with those shares."""
    keys = list(mix)
    return [keys[k] for k in rng.choice(len(keys), count, p=np.array(list(mix.values())) / sum(mix.values()))]


def _policy_targets(gen, rng):
    """``[(asset id, method fields)]``: the hubs and a sample of datasets, reports and pipelines. A dataset is
    probed the way its source allows: SQL on PostgreSQL tables with a timestamp column, the file's time for file
    sources, a JSON field for API sources; the rest (and the pipelines) ping a heartbeat."""
    count = gen.counts["policies"]
    pipelines = min(gen.counts["pipelines"], round(count * PIPELINE_POLICY_SHARE))
    reports = min(gen.counts["reports"], round(count * REPORT_POLICY_SHARE))
    datasets = min(gen.counts["datasets"], count - pipelines - reports)
    hubs = min(len(HUB_DOMAINS), datasets)
    picked = np.arange(hubs, gen.counts["datasets"])
    numbers = np.concatenate([np.arange(hubs), np.sort(rng.choice(picked, datasets - hubs, replace=False))])
    gen.cursor.execute(
        """
        SELECT d.asset_id, d.qualified_name, s.source_kind,
               ARRAY(SELECT c.name FROM catalog_column c WHERE c.dataset_id = d.asset_id AND c.data_type = 'timestamp')
        FROM catalog_dataset d JOIN catalog_datasource s ON s.asset_id = d.source_id
        WHERE d.asset_id = ANY(%s) ORDER BY d.asset_id
        """,
        [(gen.ids["datasets"] + numbers).tolist()],
    )
    targets = []
    for asset_id, qualified_name, source_kind, stamps in gen.cursor.fetchall():
        column = next((name for name in TIMESTAMP_COLUMNS if name in stamps), None)
        downstream = (asset_id - gen.ids["datasets"]) % DOMAIN_SIZE >= DOMAIN_SIZE * 3 // 4
        if source_kind == SourceKind.POSTGRESQL and column:
            fields = {"method": FreshnessMethod.SQL, "timestamp_column": column}
        elif source_kind == SourceKind.FILES:
            fields = {"method": FreshnessMethod.FILE}  # the dataset's own path under DATA_ROOT
        elif source_kind == SourceKind.HTTP_API:
            url = f"https://api.example.com/v1/{qualified_name.replace('.', '/')}/status"
            fields = {"method": FreshnessMethod.HTTP, "url": url, "json_field": "meta.updated_at"}
        else:
            fields = {"method": FreshnessMethod.HEARTBEAT}
        targets.append((asset_id, {**fields, "downstream": downstream}))
    http = rng.random(reports) < HTTP_REPORT_SHARE
    for number, asks in zip(
        np.sort(rng.choice(gen.counts["reports"], reports, replace=False)).tolist(), http, strict=True
    ):
        fields = {"method": FreshnessMethod.HTTP, "url": f"https://bi.example.com/d/{number + 1}"}
        fields = fields if asks else {"method": FreshnessMethod.HEARTBEAT}
        targets.append((gen.ids["reports"] + number, {**fields, "downstream": True}))
    for number in np.sort(rng.choice(gen.counts["pipelines"], pipelines, replace=False)).tolist():
        fields = {"method": FreshnessMethod.HEARTBEAT, "pipeline": True, "downstream": True}
        targets.append((gen.ids["pipelines"] + number, fields))
    return targets


def _recent_and_gap(policy, at):
    """When new data was last due at or before ``at`` for a policy seen just now, and the time between two updates."""
    if policy.schedule_kind == ScheduleKind.CRON:
        fires = croniter(policy.cron, at.astimezone(ZoneInfo(policy.time_zone)))
        recent = fires.get_prev(datetime).astimezone(UTC)
        return recent, recent - fires.get_prev(datetime).astimezone(UTC)
    return at - policy.period, policy.period


def _observe(policy, at, wanted, u):
    """Set the observed timestamps so that ``policy`` reads about ``wanted`` at ``at`` (``u`` uniform in [0, 1)).

    About: a cron that fired long ago can make "late" come out stale; callers take what ``status_at`` answers.
    """
    recent, gap = _recent_and_gap(policy, at)
    if wanted == FreshnessStatus.UNKNOWN and not policy.is_probed:
        return  # a heartbeat that never pinged
    if wanted == FreshnessStatus.LATE:
        policy.last_seen_at = recent - min(policy.grace, gap) * u
    elif wanted == FreshnessStatus.STALE:
        policy.last_seen_at = recent - policy.grace - gap * (0.5 + 3 * u)
        if not policy.is_probed and u < 1 / 3:
            policy.last_failed_at = policy.last_seen_at + (at - policy.last_seen_at) * (0.2 + u)
    else:
        policy.last_seen_at = recent + (at - recent) * u
        if wanted == FreshnessStatus.UNKNOWN:
            policy.probe_error = PROBE_ERROR


def _short(iso):
    """'2026-11-20T06:03:00Z' → '2026-11-20 06:03 UTC', as the portal writes times in reasons."""
    return f"{iso[:10]} {iso[11:16]} UTC"


def _freshness(gen):
    """Freshness policies with their history of checks (monitoring ``FreshnessPolicy``, ``FreshnessCheck``).

    Each policy's last check, announced status and next deadline are what the portal's own code computes from its
    timestamps at that moment (``status_at``, ``plan_next_check``), so the sweep finds the rows as it would have
    left them: probes come due within one probe interval after the epoch, heartbeats at their next deadline.
    """
    rng = gen.rng("freshness")
    targets = _policy_targets(gen, rng)
    count = len(targets)
    first = gen.allocate("policies", FreshnessPolicy, count)
    gen.cursor.execute(
        "SELECT id, owner_id FROM catalog_asset WHERE id = ANY(%s)", [[asset_id for asset_id, _ in targets]]
    )
    owners = dict(gen.cursor.fetchall())
    schedules = [schedule for schedule, _ in FRESHNESS_SCHEDULES]
    picks = rng.choice(len(schedules), count, p=[share for _, share in FRESHNESS_SCHEDULES])
    wanted = _draw(rng, ANNOUNCED_MIX, count)
    paused = rng.random(count) < PAUSED_SHARE
    u = rng.random(count)
    # The last check, somewhere in the probe interval before the epoch.
    last_offsets = rng.integers(0, settings.FRESHNESS_PROBE_INTERVAL, count)
    last_checked = [datetime.fromisoformat(iso) for iso in gen.instants(last_offsets)]
    ping_keys = _uuids(rng, count)
    created = gen.instants(last_offsets + (CHECK_HISTORY_DAYS + rng.integers(1, 300, count)) * 86400)
    policies, policy_rows, last_checks, gaps = [], [], [], []
    for n, (asset_id, fields) in enumerate(targets):
        kind, schedule, zone, grace = PIPELINE_SCHEDULE if fields.get("pipeline") else schedules[picks[n]]
        policy = FreshnessPolicy(
            method=fields["method"], schedule_kind=kind, time_zone=zone, grace=timedelta(minutes=grace),
            period=timedelta(hours=schedule) if kind == ScheduleKind.PERIOD else None,
            cron=schedule if kind == ScheduleKind.CRON else "", paused=bool(paused[n]),
        )  # fmt: skip
        at = last_checked[n]
        _observe(policy, at, wanted[n] if fields["downstream"] else FreshnessStatus.FRESH, u[n])
        status, reason = policy.status_at(at)
        next_check = policy.plan_next_check(at)
        probed = policy.is_probed
        policy_rows.append(
            (
                first + n, asset_id, policy.method, kind, _interval(policy.period), policy.cron, zone,
                _interval(policy.grace), fields.get("timestamp_column", ""), "", "", fields.get("url", ""),
                fields.get("json_field", ""), ping_keys[n], PROBE_TIMEOUT_SECONDS, policy.paused,
                policy.last_seen_at, None, policy.last_failed_at, at, policy.probe_error, status, next_check,
                owners[asset_id], created[n], at,
            )
        )  # fmt: skip
        trigger = FreshnessCheck.Trigger.PROBE if probed else FreshnessCheck.Trigger.SWEEP
        ping = ""
        if not probed and status == FreshnessStatus.FRESH:
            trigger, ping = FreshnessCheck.Trigger.PING, PingKind.SUCCESS
        duration = int(rng.lognormal(3.5, 0.8)) if probed else None
        last_checks.append(
            (first + n, at, trigger, ping, status, policy.last_seen_at, reason[:500], policy.probe_error, duration, "")
        )
        policies.append(policy)
        gaps.append(_recent_and_gap(policy, at)[1].total_seconds())
    gen.copy(
        FreshnessPolicy,
        ["id", "asset_id", "method", "schedule_kind", "period", "cron", "time_zone", "grace", "timestamp_column",
         "sql_filter", "file_path", "url", "json_field", "ping_key", "timeout_seconds", "paused", "last_seen_at",
         "last_started_at", "last_failed_at", "last_checked_at", "probe_error", "announced_status", "next_check_at",
         "created_by_id", "created_at", "updated_at"],
        policy_rows,
    )  # fmt: skip
    columns = ["policy_id", "checked_at", "trigger", "ping_kind", "status", "observed_at", "reason", "error",
               "duration_ms", "run_id"]  # fmt: skip
    gen.copy(FreshnessCheck, columns, last_checks)
    # The earlier checks: more for policies that expect data more often.
    frequent = np.array([86400 / max(gap, 3600) for gap in gaps])
    earlier = rng.multinomial(gen.counts["checks"] - count, frequent / frequent.sum())
    probed = np.array([policy.is_probed for policy in policies])
    gen.copy(FreshnessCheck, columns, _earlier_checks(gen, rng, first, earlier, last_offsets, np.array(gaps), probed))


def _interval(duration):
    return None if duration is None else f"{int(duration.total_seconds())} seconds"


def _earlier_checks(gen, rng, first, per_policy, last_offsets, gaps, probed):
    """The history before each policy's last check, spread over ``CHECK_HISTORY_DAYS``, made a block of policies
    at a time so memory stays bounded."""
    statuses = list(HISTORY_MIX)
    shares = np.array(list(HISTORY_MIX.values()))
    block = 1_000
    for start in range(0, len(per_policy), block):
        which = np.repeat(np.arange(start, min(start + block, len(per_policy))), per_policy[start : start + block])
        size = len(which)
        checked_offsets = last_offsets[which] + rng.integers(60, CHECK_HISTORY_DAYS * 86400, size)
        status = rng.choice(len(statuses), size, p=shares / shares.sum())
        lateness = np.where(status == 0, rng.random(size), 1 + 2 * rng.random(size))
        checked = gen.instants(checked_offsets)
        observed = gen.instants(checked_offsets + (lateness * gaps[which]).astype(np.int64))
        durations = rng.lognormal(3.5, 0.8, size).astype(np.int64)
        for n in range(size):
            policy = int(which[n])
            is_probed = bool(probed[policy])
            what = statuses[status[n]]
            error = ""
            if what == FreshnessStatus.UNKNOWN:
                seen, error = None, PROBE_ERROR if is_probed else ""
                reason = f"The check itself failed: {PROBE_ERROR}" if is_probed else "No update has been seen yet."
            else:
                seen = observed[n]
                reason = {
                    FreshnessStatus.FRESH: "Updated {}.",
                    FreshnessStatus.LATE: "Late: last update {}, still within the grace time.",
                    FreshnessStatus.STALE: "Stale: last update {}.",
                }[what].format(_short(seen))
            if is_probed:
                trigger, ping = FreshnessCheck.Trigger.PROBE, ""
            elif what == FreshnessStatus.FRESH:
                trigger, ping = FreshnessCheck.Trigger.PING, PingKind.SUCCESS
            else:
                trigger, ping = FreshnessCheck.Trigger.SWEEP, ""
            yield (first + policy, checked[n], trigger, ping, what, seen, reason, error,
                   int(durations[n]) if is_probed else None, "")  # fmt: skip


# --- data issues -------------------------------------------------------------------------------------------------
# (category, title, description); {column} and {day} are filled per issue.
ISSUE_TEXTS = [
    (IssueCategory.WRONG_VALUES, "Negative values in {column}",
     "Since the last load some rows have a negative {column}; every value should be positive."),
    (IssueCategory.MISSING_DATA, "Rows missing for {day}",
     "There are far fewer rows for {day} than for the days around it."),
    (IssueCategory.LATE_DATA, "Not updated since {day}",
     "Nothing arrived after {day}; the reports built on it show old numbers."),
    (IssueCategory.SCHEMA_CHANGE, "Column {column} disappeared",
     "A load dropped {column}; queries that use it fail."),
    (IssueCategory.ACCESS, "Permission denied for the analysts' role",
     "Analysts cannot read it any more: permission denied since {day}."),
    (IssueCategory.WRONG_VALUES, "Totals do not match the finance report",
     "The monthly totals differ from the finance report by about 3 %."),
    (IssueCategory.MISSING_DATA, "Duplicate rows since {day}",
     "Some rows appear twice since {day}; counts are inflated."),
    (IssueCategory.OTHER, "Description is out of date",
     "The description still names the old source system."),
]  # fmt: skip
ISSUE_STATUS_MIX = {IssueStatus.RESOLVED: 0.62, IssueStatus.WONT_FIX: 0.08, IssueStatus.DUPLICATE: 0.05,
                    IssueStatus.OPEN: 0.10, IssueStatus.ACKNOWLEDGED: 0.07, IssueStatus.IN_PROGRESS: 0.08}  # fmt: skip
ISSUE_SEVERITY_MIX = {IssueSeverity.CRITICAL: 0.08, IssueSeverity.MAJOR: 0.30, IssueSeverity.MINOR: 0.62}
# Where issues are filed: (asset kind, share).
ISSUE_KINDS = [("datasets", 0.75), ("reports", 0.15), ("pipelines", 0.05), ("models", 0.05)]
# Serious issues still open, which change badges, sit on a few upstream tables only: a critical one in this share
# of the domains, a major one in another share, and a major one on the smallest hub; some reports have their own.
CRITICAL_DOMAIN_SHARE, MAJOR_DOMAIN_SHARE, SERIOUS_REPORT_SHARE = 0.03, 0.05, 0.01
UPSTREAM_POSITIONS = (len(HUB_DOMAINS), DOMAIN_SIZE // 5)


def _serious_open_issues(gen, rng):
    """``[(asset id, severity)]`` for the open critical and major issues; every other open issue is minor."""
    datasets = gen.counts["datasets"]
    domains = max(1, datasets // DOMAIN_SIZE)
    critical = max(1, round(domains * CRITICAL_DOMAIN_SHARE))
    major = max(1, round(domains * MAJOR_DOMAIN_SHARE))
    chosen = rng.choice(domains, min(domains, critical + major), replace=False)
    positions = rng.integers(*UPSTREAM_POSITIONS, len(chosen))
    tables = np.minimum(chosen * DOMAIN_SIZE + positions, datasets - 1)
    serious = [(gen.ids["datasets"] + int(table), IssueSeverity.CRITICAL if n < critical else IssueSeverity.MAJOR)
               for n, table in enumerate(tables.tolist())]  # fmt: skip
    smallest_hub = min(len(HUB_DOMAINS), datasets) - 1
    serious.append((gen.ids["datasets"] + smallest_hub, IssueSeverity.MAJOR))
    reports = rng.choice(gen.counts["reports"], max(1, round(gen.counts["reports"] * SERIOUS_REPORT_SHARE)), False)
    serious += [(gen.ids["reports"] + int(n), IssueSeverity.MAJOR) for n in np.sort(reports).tolist()]
    return serious


def _issues(gen):
    """Data issues (trust ``DataIssue``) with their history (``IssueEvent``): mostly closed, reported by generated
    users and moved by the asset's owner; acknowledgement deadlines and alerts as the sweep would have left them."""
    rng = gen.rng("issues")
    count = gen.counts["issues"]
    serious = _serious_open_issues(gen, rng)
    bulk = max(0, count - len(serious))
    kinds = rng.choice(len(ISSUE_KINDS), bulk, p=[share for _, share in ISSUE_KINDS])
    assets = [gen.ids[ISSUE_KINDS[k][0]] + int(rng.integers(0, gen.counts[ISSUE_KINDS[k][0]])) for k in kinds]
    severities = _draw(rng, ISSUE_SEVERITY_MIX, bulk)
    statuses = _draw(rng, ISSUE_STATUS_MIX, bulk)
    # Bulk issues that are still open are minor: the serious open ones are placed on purpose (above).
    severities = [
        IssueSeverity.MINOR if s in DataIssue.OPEN_STATES else v for s, v in zip(statuses, severities, strict=True)
    ]
    open_states = list(DataIssue.OPEN_STATES)
    assets += [asset for asset, _ in serious]
    severities += [severity for _, severity in serious]
    statuses += [open_states[k] for k in rng.integers(0, len(open_states), len(serious))]
    count = len(assets)
    first = gen.allocate("issues", DataIssue, count)
    gen.cursor.execute("SELECT id, owner_id FROM catalog_asset WHERE id = ANY(%s)", [sorted(set(assets))])
    owners = dict(gen.cursor.fetchall())
    texts = rng.integers(0, len(ISSUE_TEXTS), count)
    columns = rng.integers(0, len(COLUMN_NAMES), count)
    reporters = gen.ids["users"] + rng.integers(0, gen.counts["users"], count)
    # Open issues are recent (the last 30 days); closed ones span the year.
    age_days = np.where([s in DataIssue.OPEN_STATES for s in statuses], 30, 365)
    ages = (rng.random(count) * age_days * 86400).astype(np.int64)
    answer = rng.random(count)  # how long the owner took to acknowledge, as a share of the deadline (late above 1)
    closing = rng.integers(3600, 20 * 86400, count)
    uuids = _uuids(rng, count)
    epoch = gen.epoch
    issue_rows, event_rows = [], []
    for n in range(count):
        created = epoch - timedelta(seconds=int(ages[n]))
        status, severity = statuses[n], severities[n]
        deadline = created + timedelta(hours=settings.TRUST_ISSUE_ACKNOWLEDGE_HOURS[severity])
        acknowledged = None
        if status != IssueStatus.OPEN:
            acknowledged = min(epoch, created + (deadline - created) * (0.1 + 1.4 * answer[n]))
        closed = None
        if status in DataIssue.CLOSED_STATES:
            closed = min(epoch, acknowledged + timedelta(seconds=int(closing[n])))
        # The sweep alerted the team when the deadline passed before anyone acknowledged.
        alerted = None
        if deadline <= epoch and (acknowledged is None or acknowledged > deadline):
            alerted = deadline + timedelta(minutes=int(answer[n] * 5))
        category, title, description = ISSUE_TEXTS[texts[n]]
        fill = {"column": COLUMN_NAMES[columns[n]][0], "day": f"{created - timedelta(days=1):%d %b %Y}"}
        duplicate_of = first + n - 1 if status == IssueStatus.DUPLICATE and n > 0 else None
        issue_rows.append(
            (
                first + n, uuids[n], assets[n], title.format(**fill), description.format(**fill), category, severity,
                status, "", None, None, "", int(reporters[n]), duplicate_of, created, closed or acknowledged or created,
                acknowledged, closed, deadline, alerted,
            )
        )  # fmt: skip
        owner = owners[assets[n]]
        event_rows.append((first + n, int(reporters[n]), "", IssueStatus.OPEN, "Reported.", created))
        if acknowledged is not None:
            moved_to = IssueStatus.IN_PROGRESS if status == IssueStatus.IN_PROGRESS else IssueStatus.ACKNOWLEDGED
            event_rows.append((first + n, owner, IssueStatus.OPEN, moved_to, "", acknowledged))
            if closed is not None:
                event_rows.append((first + n, owner, moved_to, status, "", closed))
    gen.copy(
        DataIssue,
        ["id", "uuid", "asset_id", "title", "description", "category", "severity", "status", "affected_columns",
         "affected_from", "affected_until", "attachment", "reported_by_id", "duplicate_of_id", "created_at",
         "updated_at", "acknowledged_at", "closed_at", "acknowledge_by", "acknowledge_alert_at"],
        issue_rows,
    )  # fmt: skip
    gen.copy(IssueEvent, ["issue_id", "author_id", "from_status", "to_status", "body", "created_at"], event_rows)


# --- model cards -------------------------------------------------------------------------------------------------
# One text per card section; {domain}, {entity}, {goal} and {algorithm} come from the model.
CARD_TEXTS = {
    "description": "Predicts {goal} for {domain} from {entity} data; a {algorithm} model retrained monthly.",
    "intended_uses": "Ranking {entity} for the {domain} team's weekly {goal} review.",
    "out_of_scope_uses": "Decisions about one person without a human review; any use outside {domain}.",
    "limitations": "Less accurate for {entity} with under 30 days of history, and after price changes.",
    "fairness_considerations": "Country and age could stand in for protected groups; neither is a feature.",
    "fairness_validation": "Error rates compared across countries on the test month: within 2 points.",
    "validation": "Trained on 12 months, tested on the next one; reviewed by a second data scientist.",
    "comments": "Recalibrating every month helped more than adding features.",
    "introduction": "The {domain} team wanted to see {goal} coming earlier.",
    "problem": "{goal} costs {domain} money every month; acting a week earlier halves the loss.",
    "data": "Two years of {entity} from the {domain} marts, one row per {entity} and month.",
    "data_preparation": "Duplicates removed, missing amounts set to the median, categories one-hot encoded.",
    "approach": "{algorithm} on 40 features, tuned by cross-validation.",
    "results": "AUC 0.81 on the test month, against 0.61 for the rule used before.",
    "recommendations": "Use the score to rank, not as a probability; review the top tenth every week.",
}
ASSUMPTIONS = [
    "Prices do not change by more than 10 % in a month.",
    "The {entity} table is complete by 06:00 every day.",
    "Customer behaviour is the same on weekdays and at weekends.",
]
ASSUMPTION_VALID_DAYS = 180


def _cards(gen):
    """A model card per registered model, filled to varied completeness, with what else the card's completeness
    reads: developers from the owning team, assumptions (some due for verification) and the current versions'
    training data (the lineage edges into each version)."""
    rng = gen.rng("cards")
    teams, users = gen.counts["teams"], gen.counts["users"]
    gen.cursor.execute(
        "SELECT m.asset_id, a.name, a.team_id, a.owner_id, "
        "(SELECT v.algorithm FROM registry_modelversion v WHERE v.model_id = m.asset_id ORDER BY v.version DESC "
        "LIMIT 1) FROM registry_registeredmodel m JOIN catalog_asset a ON a.id = m.asset_id ORDER BY m.asset_id"
    )
    models = gen.cursor.fetchall()
    count = len(models)
    # How diligent each owner is: the chance that each section of the card is written.
    diligence = rng.beta(2.5, 1.2, count)
    written = rng.random((count, len(ModelCard.TEXT_FIELDS))) < diligence[:, None]
    edited = gen.when(rng, count, 180)
    card_rows, developer_rows, assumption_rows = [], [], []
    developers = rng.choice(4, count, p=[0.3, 0.3, 0.25, 0.15])
    assumptions = rng.choice(3, count, p=[0.5, 0.3, 0.2])
    verified_days = rng.integers(0, 2 * ASSUMPTION_VALID_DAYS, (count, 2))
    verified = rng.random((count, 2)) < 0.8
    for n, (model_id, name, team_id, owner_id, algorithm) in enumerate(models):
        domain, entity, goal = name.split("-")[:3]
        words = {"domain": domain, "entity": entity, "goal": goal, "algorithm": algorithm or "gradient boosting"}
        texts = [CARD_TEXTS[f].format(**words) if written[n, k] else "" for k, f in enumerate(ModelCard.TEXT_FIELDS)]
        card_rows.append((model_id, *texts, 0, owner_id, edited[n]))
        # User u's home team is u % teams (see _users): developers are members of the owning team.
        home = team_id - gen.ids["teams"]
        members = (users - home + teams - 1) // teams
        picked = rng.choice(members, min(members, developers[n]), replace=False) if members else []
        developer_rows += [(model_id, gen.ids["users"] + home + teams * int(k)) for k in sorted(picked)]
        for k in range(assumptions[n]):
            on = (gen.epoch - timedelta(days=int(verified_days[n, k]))).date() if verified[n, k] else None
            assumption_rows.append(
                (model_id, ASSUMPTIONS[(n + k) % len(ASSUMPTIONS)].format(**words), on, owner_id if on else None,
                 ASSUMPTION_VALID_DAYS, edited[n])
            )  # fmt: skip
    gen.copy(ModelCard, ["model_id", *ModelCard.TEXT_FIELDS, "revision", "updated_by_id", "updated_at"], card_rows)
    gen.copy(RegisteredModel.developers.through, ["registeredmodel_id", "user_id"], developer_rows)
    gen.copy(
        Assumption,
        ["model_id", "statement", "verified_on", "verified_by_id", "valid_for_days", "created_at"],
        assumption_rows,
    )
    training = ModelVersion.training_datasets.through._meta.db_table
    gen.execute(
        training,
        f"INSERT INTO {training} (modelversion_id, dataset_id) SELECT e.downstream_id, e.upstream_id "
        "FROM catalog_lineageedge e JOIN registry_modelversion v ON v.asset_id = e.downstream_id "
        "JOIN catalog_dataset d ON d.asset_id = e.upstream_id ORDER BY 1, 2",
    )


def _review_notices(gen):
    """The reminders the hourly sweep has already sent for reviews due within the reminder window of the epoch."""
    soon = (gen.epoch + timedelta(days=settings.TRUST_REVIEW_REMINDER_DAYS)).date()
    gen.execute(
        ReviewNotice._meta.db_table,
        f"INSERT INTO {ReviewNotice._meta.db_table} (asset_id, due_date, kind, sent_at) "
        "SELECT id, next_review_date, %s, %s FROM catalog_asset "
        "WHERE next_review_date BETWEEN %s AND %s AND lifecycle <> %s ORDER BY id",
        [ReviewNoticeKind.REMINDER, gen.epoch, gen.epoch.date(), soon, Lifecycle.RETIRED],
    )


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
    Section("freshness", _freshness),
    Section("issues", _issues),
    Section("cards", _cards),
    Section("review notices", _review_notices),
]
# Tables whose id sequences must move past the ids written here.
SEQUENCED = [
    Team, get_user_model(), Team.members.through, Tag, Asset, Asset.tags.through, Column, LineageEdge, Metric,
    Notification, FreshnessPolicy, FreshnessCheck, DataIssue, IssueEvent, ModelCard, Assumption,
    RegisteredModel.developers.through, ModelVersion.training_datasets.through, ReviewNotice,
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


def default_epoch():
    """The current minute: freshness is computed from timestamps when a page asks, so data generated "as of" an
    older instant would read late or stale by the time it is measured; the history stays inside its retention and
    deadlines (checks, acknowledgements, reviews) lie just ahead, as in a catalog that is in use."""
    return datetime.now(UTC).replace(second=0, microsecond=0)


def parse_epoch(value):
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--epoch {value!r} is not a date such as 2026-01-31 or 2026-01-31T06:00Z.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def generate(factor, seed, *, epoch=None, log=lambda message: None):
    """Write the whole scale data set in one transaction; returns the ``Generator`` (``written``: rows per table).

    Every timestamp is relative to ``epoch`` (default: the current minute), the generated company's "now".
    """
    if connection.vendor != "postgresql":
        raise CommandError(f"generate_scale needs PostgreSQL (COPY); this database is {connection.vendor}.")
    if Asset.objects.exists():
        raise CommandError("The catalog is not empty: generate into a fresh database (make bench creates one).")
    with transaction.atomic(), connection.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg2's own cursor: Django's wrapper has no copy_expert
        # Losing this data in a crash costs a re-run, not a user's work: skip waiting for the WAL flush.
        cursor.execute("SET LOCAL synchronous_commit = off")
        gen = Generator(seed=seed, counts=counts_for(factor), cursor=cursor, epoch=epoch or default_epoch())
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
        parser.add_argument("--seed", type=int, default=1, help="Same seed, scale and epoch, same rows.")
        parser.add_argument(
            "--epoch",
            type=parse_epoch,
            help="The data's 'now' (ISO date or time, UTC); the current minute when left out.",
        )

    def handle(self, *, scale, seed, epoch, **options):
        factor = parse_scale(scale)
        started = time.monotonic()
        gen = generate(factor, seed, epoch=epoch, log=self.stdout.write)
        total = sum(gen.written.values())
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {total:,} rows at scale {factor:g} in {time.monotonic() - started:.0f} s.")
        )
