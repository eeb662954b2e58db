"""How the sections write: ``Generator`` allocates ids and streams rows into PostgreSQL with ``COPY``.

Rows go in with ``COPY … FROM STDIN`` in chunks, never one ORM save per row, with ids allocated here so that
foreign keys need no round trip.
"""

import io
import json
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np

CHUNK_ROWS = 50_000


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
    """One step of the generation: ``fill(gen)`` writes a table or a group of tables."""

    name: str
    fill: object


def uuids(rng, count):
    """``count`` random version-4 UUIDs from ``rng``, so they too follow the seed."""
    raw = rng.bytes(16 * count)
    return [uuid.UUID(bytes=raw[i * 16 : i * 16 + 16], version=4) for i in range(count)]


def draw(rng, mix, count):
    """``count`` keys of ``mix`` ({key: share}), drawn with those shares."""
    keys = list(mix)
    return [keys[k] for k in rng.choice(len(keys), count, p=np.array(list(mix.values())) / sum(mix.values()))]
