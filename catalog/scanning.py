"""Schema scanning: read what a source really holds, store it, and tell people when it changed.

``scan_source`` is the one domain method behind the Celery job, the ``scan_schema`` command and the owner's
button. ``apply_schema`` is the one path by which a dataset's columns change from outside (scans and OpenLineage
schema facets): it diffs, records a ``SchemaChange`` on the dataset's timeline and notifies the owners of the
dataset and of everything downstream.
"""

import contextlib
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction

from catalog import assets, events
from catalog.audience import audience_of
from catalog.choices import AssetKind, DatasetFormat, SchemaChangeOrigin, SourceKind
from catalog.lineage import MAX_DEPTH, column_consumers, walk
from catalog.models import Asset, Column, Dataset, SchemaChange, SecretNotBound
from catalog.search import reindex
from core.choices import NotificationKind
from core.files import OutsideDataRoot, inside_data_root
from core.jobs import JobFailed
from core.notifications import notify

PROFILE_FIELDS = ["null_fraction", "distinct_count", "min_value", "max_value"]


@dataclass
class FoundColumn:
    """A column as a scan or an event saw it. An empty ``data_type`` means the reporter did not say."""

    name: str
    data_type: str = ""
    nullable: bool = True
    description: str = ""
    null_fraction: float | None = None
    distinct_count: int | None = None
    min_value: str = ""
    max_value: str = ""


@dataclass
class FoundTable:
    qualified_name: str
    format: str
    columns: list[FoundColumn] = field(default_factory=list)
    row_count: int | None = None
    size_bytes: int | None = None
    last_updated_at: datetime | None = None


# --- readers: one per kind of source; each raises JobFailed with a sentence for the owner ------------------------
def _under_data_root(relative):
    try:
        path = inside_data_root(relative)
    except OutsideDataRoot:
        raise JobFailed(
            f"The path {relative!r} is outside the data folder (DATA_ROOT); only files there are read."
        ) from None
    return Path(settings.DATA_ROOT).resolve(), path


def _read_postgresql(source):
    import psycopg2

    settings_ = source.connection
    # Checked again here, not only when the source was saved: the allow-list or the bindings may have changed since.
    refusal = source.connection_refusal()
    if refusal:
        raise JobFailed(f"Not scanned: {refusal}")
    try:
        password = source.secret()
    except SecretNotBound as exc:
        raise JobFailed(f"Not scanned: {exc}") from None
    host, port = source.address()
    try:
        connection = psycopg2.connect(
            host=host,
            port=port,
            dbname=settings_.get("database", ""),
            user=settings_.get("user") or None,
            password=password,
            connect_timeout=settings.CATALOG_SCAN_TIMEOUT,
            options=f"-c statement_timeout={settings.CATALOG_SCAN_TIMEOUT * 1000}",
        )
    except psycopg2.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise JobFailed(f"Could not connect to PostgreSQL at {host}:{port} ({reason}).") from None
    schemas = settings_.get("schemas") or []
    sql = """
        SELECT n.nspname, c.relname, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
               c.reltuples::bigint, pg_total_relation_size(c.oid)
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE c.relkind IN ('r', 'p', 'v', 'm')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'
          AND (%s OR n.nspname = ANY(%s))
        ORDER BY n.nspname, c.relname, a.attnum
    """
    tables = {}
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(sql, [not schemas, list(schemas)])
            for schema, name, relkind, column, data_type, nullable, estimate, size in cursor.fetchall():
                table = tables.setdefault(
                    f"{schema}.{name}",
                    FoundTable(
                        f"{schema}.{name}",
                        DatasetFormat.VIEW if relkind in "vm" else DatasetFormat.TABLE,
                        # reltuples is -1 until the table was first analysed: unknown, not empty.
                        row_count=estimate if estimate >= 0 else None,
                        size_bytes=size,
                    ),
                )
                table.columns.append(FoundColumn(column, data_type, nullable))
    except psycopg2.Error as exc:
        raise JobFailed(f"PostgreSQL refused to describe its tables: {str(exc).strip()}") from None
    finally:
        connection.close()
    return list(tables.values())


def _read_sqlite(source):
    _, path = _under_data_root(source.connection.get("path", ""))
    if not path.is_file():
        raise JobFailed(f"There is no SQLite database at {path}.")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=settings.CATALOG_SCAN_TIMEOUT)
    except sqlite3.Error as exc:
        raise JobFailed(f"Could not open the SQLite database at {path} ({exc}).") from None
    tables = []
    try:
        names = connection.execute(
            "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        ).fetchall()
        for name, kind in names:
            quoted = '"' + name.replace('"', '""') + '"'
            columns = [
                FoundColumn(column, (data_type or "").lower(), not notnull and not primary)
                for _, column, data_type, notnull, _, primary in connection.execute(f"PRAGMA table_info({quoted})")
            ]
            (count,) = connection.execute(f"SELECT COUNT(*) FROM {quoted}").fetchone()
            fmt = DatasetFormat.VIEW if kind == "view" else DatasetFormat.TABLE
            tables.append(FoundTable(name, fmt, columns, row_count=count))
    except sqlite3.Error as exc:
        raise JobFailed(f"Could not read the SQLite database at {path} ({exc}).") from None
    finally:
        connection.close()
    return tables


def _text(value):
    return "" if value is None else str(value)[:200]


def profile(frame):
    """One ``FoundColumn`` per column of a pandas frame: type, null share, distinct count, min and max."""
    import pandas as pd

    columns = []
    for name in frame.columns:
        series = frame[name]
        present = series.dropna()
        low = high = None
        if len(present):
            # Mixed types in one column have no meaningful order: leave min and max empty.
            with contextlib.suppress(TypeError):
                low, high = present.min(), present.max()
        columns.append(
            FoundColumn(
                str(name),
                str(series.dtype),
                bool(series.isna().any()),
                null_fraction=round(float(series.isna().mean()), 4) if len(series) else 0.0,
                distinct_count=int(series.nunique(dropna=True)),
                min_value=_text(low) if not isinstance(low, float) or not pd.isna(low) else "",
                max_value=_text(high) if not isinstance(high, float) or not pd.isna(high) else "",
            )
        )
    return columns


def _read_files(source):
    import pandas as pd

    root, folder = _under_data_root(source.connection.get("path", ""))
    if not folder.is_dir():
        raise JobFailed(f"There is no folder at {folder}.")
    tables = []
    for path in sorted(folder.rglob("*")):
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".parquet") or not path.is_file():
            continue
        try:
            frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
        except (ValueError, OSError, pd.errors.ParserError) as exc:
            raise JobFailed(f"Could not read {path.relative_to(root)}: {exc}") from None
        stat = path.stat()
        tables.append(
            FoundTable(
                path.relative_to(root).as_posix(),
                DatasetFormat.CSV if suffix == ".csv" else DatasetFormat.PARQUET,
                profile(frame),
                row_count=len(frame),
                size_bytes=stat.st_size,
                last_updated_at=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
            )
        )
    return tables


READERS = {SourceKind.POSTGRESQL: _read_postgresql, SourceKind.SQLITE: _read_sqlite, SourceKind.FILES: _read_files}


SHOWN = 10  # downstream assets named in a schema-change notice; the rest counted


# --- storing what was found ---------------------------------------------------------------------------------------
def _notify_schema_change(change, consumers=None):
    """Tell the dataset's people, naming what is downstream. ``consumers`` (``{asset_id: [columns]}`` from
    ``column_consumers``) narrows "downstream" to the datasets that read a removed or retyped column. The receivers
    of ``schema_changing`` (trust: declared dependencies) tell their people first and name who is left out; the
    people downstream hear of it once, with the path, from the receivers of ``schema_changed`` (trust's fan-out)."""
    silenced = set()
    for _, answer in events.schema_changing.send(sender=SchemaChange, change=change, consumers=consumers):
        silenced.update(answer or ())
    asset = change.dataset.asset
    if consumers is not None:
        _notify_column_consumers(change, consumers, silenced)
        return
    downstream = walk([asset.pk], "down", MAX_DEPTH)
    body = f"The schema of {asset.name} changed: {change.summary}."
    if downstream:
        shown = Asset.objects.filter(pk__in=list(downstream)).order_by("name").values_list("name", flat=True)[:SHOWN]
        more = f", and {len(downstream) - SHOWN} more" if len(downstream) > SHOWN else ""
        body += (
            f" Downstream: {len(downstream)} assets ({', '.join(shown)}{more}); their owners and watchers are told"
            " with the path."
        )
    notify(
        [user for user in audience_of(asset) if user.pk not in silenced],
        kind=NotificationKind.SCHEMA_CHANGE,
        title=f"Schema changed: {asset.name}",
        body=body,
        url=asset.get_absolute_url(),
        asset=asset,
    )


def _notify_column_consumers(change, consumers, silenced):
    asset = change.dataset.asset
    affected = Asset.objects.filter(pk__in=list(consumers)).select_related("owner").order_by("name")
    people = list(audience_of(asset))
    for item in affected:
        people += list(audience_of(item))
    body = f"The schema of {asset.name} changed: {change.summary}."
    if affected:
        body += (
            " Columns that read them: "
            + ", ".join(f"{item.name} ({', '.join(consumers[item.pk])})" for item in affected)
            + "."
        )
    else:
        body += " Nothing downstream reads these columns."
    notify(
        [user for user in people if user.pk not in silenced],
        kind=NotificationKind.SCHEMA_CHANGE,
        title=f"Schema changed: {asset.name}",
        body=body,
        url=asset.get_absolute_url(),
        asset=asset,
    )


def apply_schema(dataset, found_columns, origin, *, describe=False):
    """Make the dataset's columns what was found; returns the ``SchemaChange`` recorded, or None.

    The first schema ever stored is not a change. Descriptions and PII flags people wrote are kept, unless
    ``describe``: the reporter is where descriptions are written (a dbt project), so its non-empty ones win.
    """
    existing = {column.name: column for column in dataset.columns.all()}
    added, removed, type_changed = _schema_diff(existing, found_columns)
    consumers = None
    if existing and (removed or type_changed):
        # Before the removed columns (and their column lineage) are deleted: only their readers are told.
        consumers = column_consumers(dataset.pk, [c["name"] for c in [*removed, *type_changed]])
    with transaction.atomic():
        if removed:
            dataset.columns.filter(name__in=[c["name"] for c in removed]).delete()
        _write_columns(dataset, existing, found_columns, describe)
        change = None
        if existing and (added or removed or type_changed):
            change = SchemaChange.objects.create(
                dataset=dataset, origin=origin, added=added, removed=removed, type_changed=type_changed
            )
            _notify_schema_change(change, consumers)
            events.schema_changed.send(sender=SchemaChange, change=change, consumers=consumers)
    if added or removed:
        reindex([dataset.asset_id])
    return change


def _schema_diff(existing, found_columns):
    """``(added, removed, type_changed)`` between the stored columns and the found ones, as ``SchemaChange`` keeps
    them. A found column without a type did not say its type: that is not a change."""
    found = {column.name: column for column in found_columns}
    added = [{"name": c.name, "type": c.data_type} for c in found_columns if c.name not in existing]
    removed = [{"name": c.name, "type": c.data_type} for name, c in existing.items() if name not in found]
    type_changed = [
        {"name": name, "before": existing[name].data_type, "after": c.data_type}
        for name, c in found.items()
        if name in existing and c.data_type and c.data_type != existing[name].data_type
    ]
    return added, removed, type_changed


def _write_columns(dataset, existing, found_columns, describe=False):
    """Create the new columns and update the stored ones from what was found, in the order found."""
    fields = ["position", "nullable", "data_type", "description", *PROFILE_FIELDS]
    changed = []
    for position, column in enumerate(found_columns):
        row = existing.get(column.name) or Column(dataset=dataset, name=column.name, data_type="unknown")
        before = [getattr(row, name) for name in fields]
        row.position = position
        row.nullable = column.nullable
        row.data_type = column.data_type or row.data_type
        row.description = (
            (column.description or row.description) if describe else (row.description or column.description)
        )
        for name in PROFILE_FIELDS:
            setattr(row, name, getattr(column, name))
        if not row.pk:
            row.save()
        elif [getattr(row, name) for name in fields] != before:
            changed.append(row)
    # Pipelines resend the same schema facet with every event: an unchanged column is not rewritten.
    if changed:
        Column.objects.bulk_update(changed, fields)


def dataset_for(source, qualified_name, fmt, actor=None, description=""):
    """The dataset named ``qualified_name`` in ``source``, created (owned like its source, described as given) if it
    is new; and whether it was created."""
    dataset = Dataset.objects.select_related("asset").filter(source=source, qualified_name=qualified_name).first()
    if dataset is not None:
        return dataset, False
    asset = Asset(
        kind=AssetKind.DATASET,
        name=qualified_name[:200],
        owner_id=source.asset.owner_id,
        team_id=source.asset.team_id,
        description=description,
    )
    dataset = Dataset(source=source, qualified_name=qualified_name, format=fmt)
    assets.create_asset(asset, dataset, actor=actor)
    return dataset, True


def scan_source(source, actor=None, report=None):
    """Read the source, create datasets for new tables or files, and apply each one's schema.

    ``report(step, progress)`` is called as it goes (a JobRun's ``report``). Raises ``JobFailed`` when the source
    cannot be read at all. Returns a summary for the run's result.
    """
    report = report or (lambda step, progress=None: True)
    reader = READERS.get(source.source_kind)
    if reader is None:
        raise JobFailed(
            f"Schema scans read PostgreSQL, SQLite and file sources; {source.get_source_kind_display()} sources "
            "are documented by hand or through OpenLineage events."
        )
    report("reading the source", 5)
    tables = reader(source)
    summary = {"tables": len(tables), "created": [], "changed": []}
    for index, table in enumerate(tables, start=1):
        dataset, created = dataset_for(source, table.qualified_name, table.format, actor)
        if created:
            summary["created"].append(dataset.asset.slug)
        if apply_schema(dataset, table.columns, SchemaChangeOrigin.SCAN):
            summary["changed"].append(dataset.asset.slug)
        facts = {"row_count": table.row_count, "size_bytes": table.size_bytes}
        if table.last_updated_at:
            facts["last_updated_at"] = table.last_updated_at
        Dataset.objects.filter(pk=dataset.pk).update(**{k: v for k, v in facts.items() if v is not None})
        report(f"scanned {table.qualified_name}"[:50], 5 + int(95 * index / max(len(tables), 1)))
    return summary
