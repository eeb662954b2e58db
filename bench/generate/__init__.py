"""Fill PostgreSQL with a large company's catalog, fast, for the benchmark (``make bench``).

The data is a pure function of the seed, the scale and the epoch (the data's "now", by default the current
minute, so freshness history and deadlines are current whenever it is generated): every section draws from its
own random stream (seeded by the seed and the section's name), so a section added later does not change the rows
of the others. Rows go in with ``COPY`` (``writer.Generator``).

The work is a list of sections, one per table or group of tables, run in order (``SECTIONS``), each in the
module of the app whose tables it fills. To add one, write ``def write_things(gen): …`` using ``gen.copy``,
``gen.rng``, ``gen.when`` and the id ranges in ``gen.ids``, and add ``Section("things", module.write_things)``
after the sections it depends on. A section may read back what earlier ones wrote (``gen.cursor``), as the
freshness, issue and card sections do for sources, columns and owners.

``manage.py generate_scale`` (in ``portal``) is the command-line entry point; ``bench.run`` calls ``generate``.
"""

import time
from datetime import UTC, datetime

from django.apps import apps
from django.core.management.base import CommandError
from django.core.management.color import no_style
from django.db import connection, transaction

from bench.generate import catalog, lineage, mlops, monitoring, people, registry, trust
from bench.generate.shape import DOMAIN_SIZE, FULL, HUB_DOMAINS
from bench.generate.writer import Generator, Section
from catalog.models import Asset
from catalog.search import CONFIG as SEARCH_CONFIG

SMALL_FACTOR = 0.02
SECTIONS = [
    Section("teams", people.write_teams),
    Section("users", people.write_users),
    Section("tags", people.write_tags),
    Section("sources", catalog.write_sources),
    Section("datasets", catalog.write_datasets),
    Section("columns", catalog.write_columns),
    Section("reports", catalog.write_reports),
    Section("pipelines", catalog.write_pipelines),
    Section("models", registry.write_models),
    Section("lineage", lineage.write_lineage),
    Section("notifications", people.write_notifications),
    Section("freshness", monitoring.write_freshness),
    Section("issues", trust.write_issues),
    Section("cards", registry.write_cards),
    Section("review notices", trust.write_review_notices),
    Section("predictions", mlops.write_predictions),
]


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
        _reset_sequences(cursor, gen.written)
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


def _reset_sequences(cursor, written):
    """Move the id sequence of every table written past the ids copied in, so the ORM can add rows after."""
    models = [model for model in apps.get_models(include_auto_created=True) if model._meta.db_table in written]
    for statement in connection.ops.sequence_reset_sql(no_style(), models):
        cursor.execute(statement)


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
