"""Importing a dbt project's artifacts: ``import_artifacts(files, source=..., actor=...)``, the one domain method
behind ``manage.py import_dbt <target dir>`` and ``POST /api/v1/integrations/dbt/``.

From ``manifest.json`` (and, when given, ``catalog.json``, ``run_results.json``, ``sources.json``):

- models, seeds, snapshots and sources become datasets of the data source named by the caller, identified as
  ``database.schema.identifier`` (the name dbt-ol gives them in OpenLineage events, so both ways meet), with
  columns, types, Markdown descriptions, tags and owners from ``meta.owner`` (a user's name or e-mail, or a team);
- ``depends_on`` becomes lineage, and the columns a model's compiled SQL reads become column lineage (OpenLineage's
  SQL parser; same-named columns of a model and its parents when there is no compiled SQL);
- exposures become reports fed by what they depend on;
- tests become quality checks with one result per run (``run_results.json``); source freshness becomes freshness
  observations.

Everything happens in one transaction: a malformed or unsupported artifact raises ``DbtArtifactError`` and
nothing is changed. Re-importing updates in place; nodes missing from the manifest are retired (never deleted).
Assets are written only through ``catalog.assets``.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Team
from catalog import assets as catalog_assets
from catalog import events as catalog_events
from catalog.changes import record_change
from catalog.choices import AssetKind, ChangeAction, DatasetFormat, Lifecycle, LineageOrigin, SchemaChangeOrigin
from catalog.models import Asset, Column, Dataset, LineageEdge, Report
from catalog.scanning import FoundColumn, apply_schema
from core.validators import is_web_url
from quality import results
from quality.choices import CheckOrigin, CheckStatus, FreshnessStatus
from quality.models import DbtNode, FreshnessObservation, QualityCheck

# The artifacts we read and the schema versions we understand (https://schemas.getdbt.com/).
ARTIFACTS = {
    "manifest.json": ("manifest", {"v10", "v11", "v12"}),
    "catalog.json": ("catalog", {"v1"}),
    "run_results.json": ("run-results", {"v4", "v5", "v6"}),
    "sources.json": ("sources", {"v1", "v2", "v3"}),
}
DATASET_TYPES = ("model", "seed", "snapshot")
# When several nodes name one table (a seed and the source declared over it), the first kind here describes it.
PRIORITY = {"model": 0, "snapshot": 1, "source": 2, "seed": 3}
ADAPTER_KINDS = {"postgres": "postgresql", "mysql": "mysql", "sqlite": "sqlite"}
DBT_STATUSES = {"pass": CheckStatus.PASS, "success": CheckStatus.PASS, "warn": CheckStatus.WARN,
                "fail": CheckStatus.FAIL, "error": CheckStatus.ERROR, "runtime error": CheckStatus.ERROR,
                "skipped": CheckStatus.SKIPPED}  # fmt: skip


class DbtArtifactError(ValueError):
    """An artifact cannot be imported; the message names the file and what is wrong. Nothing was changed."""


@dataclass
class Summary:
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    gone: list = field(default_factory=list)
    reports: list = field(default_factory=list)
    checks: int = 0
    results: int = 0
    failing: list = field(default_factory=list)
    freshness: int = 0
    edges: int = 0
    column_links: int = 0
    unknown_owners: list = field(default_factory=list)

    def as_dict(self):
        return dict(self.__dict__)


# --- reading and checking the files -----------------------------------------------------------------------------
def read_artifacts(files):
    """``{file name: parsed JSON}`` from ``{file name: bytes or str}``; raises ``DbtArtifactError``."""
    unknown = sorted(set(files) - set(ARTIFACTS))
    if unknown:
        raise DbtArtifactError(
            f"Unexpected file {', '.join(unknown)}: send manifest.json and, if you have them, catalog.json, "
            "run_results.json and sources.json."
        )
    if "manifest.json" not in files:
        raise DbtArtifactError("manifest.json is required (dbt writes it to the target directory).")
    parsed = {}
    for name, content in files.items():
        try:
            data = json.loads(content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise DbtArtifactError(f"{name} is not valid JSON: {exc}.") from None
        if not isinstance(data, dict) or not isinstance(data.get("metadata"), dict):
            raise DbtArtifactError(f"{name} is not a dbt artifact: it has no 'metadata' object.")
        kind, versions = ARTIFACTS[name]
        version = str(data["metadata"].get("dbt_schema_version") or "")
        prefix = f"https://schemas.getdbt.com/dbt/{kind}/"
        found = version.removeprefix(prefix).removesuffix(".json") if version.startswith(prefix) else ""
        if found not in versions:
            raise DbtArtifactError(
                f"{name} has schema version {version or 'none'}; this portal reads {kind} "
                f"{', '.join(sorted(versions))} (dbt 1.5 to 1.10)."
            )
        parsed[name] = data
    _check_shape(parsed)
    return parsed


def _check_shape(parsed):
    _check_manifest(parsed["manifest.json"])
    for name, key in (("run_results.json", "results"), ("sources.json", "results")):
        if name in parsed and not isinstance(parsed[name].get(key), list):
            raise DbtArtifactError(f"{name}: '{key}' must be a list.")
    if "catalog.json" in parsed:
        for key in ("nodes", "sources"):
            if not isinstance(parsed["catalog.json"].get(key, {}), dict):
                raise DbtArtifactError(f"catalog.json: '{key}' must be an object.")


def _check_manifest(manifest):
    for key in ("nodes", "sources", "exposures"):
        if not isinstance(manifest.get(key, {}), dict):
            raise DbtArtifactError(f"manifest.json: '{key}' must be an object keyed by unique_id.")
    for unique_id, node in [*manifest.get("nodes", {}).items(), *manifest.get("sources", {}).items()]:
        if not isinstance(node, dict):
            raise DbtArtifactError(f"manifest.json: node {unique_id} must be an object.")
        if node.get("resource_type") in (*DATASET_TYPES, "source"):
            for key in ("database", "schema", "name"):
                if not isinstance(node.get(key), str) or not node.get(key):
                    raise DbtArtifactError(f"manifest.json: node {unique_id} has no '{key}'.")
            if not isinstance(node.get("columns", {}), dict):
                raise DbtArtifactError(f"manifest.json: node {unique_id}: 'columns' must be an object.")


def files_in(directory):
    """The artifacts found in a dbt target directory, as ``{file name: bytes}``."""
    from pathlib import Path

    folder = Path(directory)
    if not folder.is_dir():
        raise DbtArtifactError(f"{directory} is not a directory; give dbt's target directory.")
    return {name: (folder / name).read_bytes() for name in ARTIFACTS if (folder / name).is_file()}


def may_import(user, source):
    """Staff, or whoever may edit the data source (``catalog.access`` rule: its owner and its team)."""
    return user is None or user.is_staff or source.asset.can_edit(user)


# --- the import --------------------------------------------------------------------------------------------------
def import_artifacts(files, *, source, actor=None):
    """Import the artifacts ``{file name: bytes}`` into the data source ``source``; returns a ``Summary``."""
    parsed = read_artifacts(files)
    manifest = parsed["manifest.json"]
    _check_source(manifest, source)
    try:
        with transaction.atomic():
            return _Importer(parsed, source, actor).run()
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        if isinstance(exc, DbtArtifactError):
            raise
        raise DbtArtifactError(f"The artifacts could not be read: {type(exc).__name__} {exc}.") from None


def _check_source(manifest, source):
    adapter = str(manifest["metadata"].get("adapter_type") or "")
    expected = ADAPTER_KINDS.get(adapter)
    if expected and source.source_kind in ADAPTER_KINDS.values() and source.source_kind != expected:
        raise DbtArtifactError(
            f"This manifest is for a {adapter} warehouse, but {source} is a {source.get_source_kind_display()} "
            "source: import it into the source dbt builds in."
        )
    database = str((source.connection or {}).get("database") or "")
    if database:
        others = sorted(
            {
                node["database"]
                for node in [*manifest.get("nodes", {}).values(), *manifest.get("sources", {}).values()]
                if node.get("resource_type") in (*DATASET_TYPES, "source") and node["database"] != database
            }
        )
        if others:
            raise DbtArtifactError(
                f"The manifest builds in database {', '.join(others)}, but {source} reads database {database}."
            )


def _when(value):
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, timezone.utc)


def _same_columns(stored, found):
    """Whether ``apply_schema(..., describe=True)`` would leave the stored columns as they are."""
    if [column.name for column in stored] != [column.name for column in found]:
        return False
    return all(
        (new.data_type or old.data_type) == old.data_type
        and (new.description or old.description) == old.description
        and new.nullable == old.nullable
        and old.position == position
        for position, (old, new) in enumerate(zip(stored, found, strict=True))
    )


def _owner_value(meta):
    owner = meta.get("owner") if isinstance(meta, dict) else None
    if isinstance(owner, list):
        owner = owner[0] if owner else None
    return str(owner).strip() if owner else ""


# OpenLineage's SQL parser names dialects after the warehouses; adapters it does not know are read as generic SQL.
SQL_DIALECTS = {"postgres": "postgres", "redshift": "redshift", "snowflake": "snowflake", "bigquery": "bigquery",
                "mysql": "mysql", "sqlite": "sqlite", "databricks": "databricks", "spark": "hive"}  # fmt: skip


def _parsed_column_lineage(sql, adapter):
    """``{column: [((database, schema, table), column)]}`` of a model's compiled SQL, read by ``openlineage_sql``
    (installed with openlineage-dbt); {} when there is no SQL, the parser is missing, or it finds no column
    lineage (a ``select *``, SQL it cannot read)."""
    if not isinstance(sql, str) or not sql.strip():
        return {}
    try:
        import openlineage_sql
    except ImportError:
        return {}
    try:
        result = openlineage_sql.parse([sql], dialect=SQL_DIALECTS.get(str(adapter or ""), "generic"))
    except Exception:  # a native parser: whatever it raises, the same-name rule stands in
        return {}
    found = {}
    for item in result.column_lineage if result is not None else []:
        sources = found.setdefault(item.descendant.name, [])
        for source in item.lineage:
            if source.origin is not None:
                sources.append(((source.origin.database, source.origin.schema, source.origin.name), source.name))
    return found


_REF = re.compile(r"""\{\{\s*ref\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?\)\s*\}\}""")
_SOURCE = re.compile(r"""\{\{\s*source\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)\s*\}\}""")
_CONFIG = re.compile(r"\{\{\s*config\(.*?\)\s*\}\}", re.DOTALL)


def _relation(node):
    if node.get("relation_name"):
        return str(node["relation_name"])
    identifier = node.get("identifier") if node.get("resource_type") == "source" else node.get("alias")
    return f'"{node["database"]}"."{node["schema"]}"."{identifier or node["name"]}"'


def model_sql(node, manifest):
    """The SQL a model runs: its ``compiled_code`` when dbt compiled it in the run that wrote the manifest, else
    its ``raw_code`` with each ``ref()`` and ``source()`` replaced by the relation it names (a manifest written by
    ``dbt test`` has no compiled code for the models); None when other Jinja is left, which only dbt can render."""
    compiled = node.get("compiled_code") or node.get("compiled_sql")
    if compiled:
        return compiled
    raw = node.get("raw_code") or node.get("raw_sql")
    if not isinstance(raw, str):
        return None
    parents = [manifest.get("nodes", {}).get(uid) or manifest.get("sources", {}).get(uid)
               for uid in (node.get("depends_on") or {}).get("nodes") or []]  # fmt: skip
    parents = [parent for parent in parents if isinstance(parent, dict) and parent.get("database")]
    models = {parent["name"]: parent for parent in parents if parent.get("resource_type") != "source"}
    sources = {(parent.get("source_name"), parent["name"]): parent for parent in parents
               if parent.get("resource_type") == "source"}  # fmt: skip
    missing = []

    def ref(match):
        found = models.get(match.group(2) or match.group(1))
        if found is None:
            missing.append(match.group(0))
            return ""
        return _relation(found)

    def source(match):
        found = sources.get((match.group(1), match.group(2)))
        if found is None:
            missing.append(match.group(0))
            return ""
        return _relation(found)

    rendered = _SOURCE.sub(source, _REF.sub(ref, _CONFIG.sub("", raw)))
    if missing or "{{" in rendered or "{%" in rendered:
        return None
    return rendered


def _qualified(table, node):
    """``database.schema.table`` in lower case, the parts the SQL leaves out taken from the model's own."""
    database, schema, name = table
    return f"{database or node['database']}.{schema or node['schema']}.{name}".lower()


class _Importer:
    def __init__(self, parsed, source, actor):
        self.manifest = parsed["manifest.json"]
        self.catalog = parsed.get("catalog.json")
        self.run_results = parsed.get("run_results.json")
        self.sources_json = parsed.get("sources.json")
        self.source, self.actor = source, actor
        self.project = str(self.manifest["metadata"].get("project_name") or "")
        self.summary = Summary()
        self.now = timezone.now()
        self.node_assets = {}  # unique_id -> asset id
        self.columns = {}  # asset id -> [column names]
        self.people = {}

    def run(self):
        # The badges downstream of every new edge and column link are marked once, not once per model.
        with catalog_events.gathered():
            nodes = self._dataset_nodes()
            self._datasets(nodes)
            self._lineage(nodes)
            self._exposures()
            self._tests()
            self._freshness()
            self._remember_nodes()
        return self.summary

    # datasets ----------------------------------------------------------------------------------------------------
    def _dataset_nodes(self):
        nodes = [
            (uid, node) for uid, node in self.manifest.get("nodes", {}).items()
            if node.get("resource_type") in DATASET_TYPES
        ] + [(uid, node) for uid, node in self.manifest.get("sources", {}).items()]  # fmt: skip
        by_table = {}
        for uid, node in sorted(nodes, key=lambda item: (PRIORITY.get(item[1]["resource_type"], 9), item[0])):
            identifier = node.get("identifier") if node["resource_type"] == "source" else node.get("alias")
            qualified = f"{node['database']}.{node['schema']}.{identifier or node['name']}"
            by_table.setdefault(qualified, []).append((uid, node))
        return by_table

    def _person(self, value, where):
        """``(user id, team id)`` named by ``meta.owner``; an unknown name is reported, never invented."""
        if not value:
            return None, None
        if value not in self.people:
            user = (
                get_user_model()
                .objects.filter(Q(username__iexact=value) | Q(email__iexact=value), is_active=True)
                .first()
            )
            team = None if user else Team.objects.filter(Q(name__iexact=value) | Q(slug__iexact=value)).first()
            self.people[value] = (user.pk if user else None, team.pk if team else None)
        found = self.people[value]
        if found == (None, None):
            self.summary.unknown_owners.append(f"{where}: {value}")
        return found

    def _datasets(self, by_table):
        # A table already catalogued by a schema scan of this source is named schema.table: the same table.
        database = str((self.source.connection or {}).get("database") or "")
        short = {name.split(".", 1)[1]: name for name in by_table if database and name.startswith(f"{database}.")}
        existing = {
            short.get(dataset.qualified_name, dataset.qualified_name): dataset
            for dataset in Dataset.objects.filter(source=self.source, qualified_name__in=[*by_table, *short])
            .select_related("asset")
            .prefetch_related("asset__tags", "columns")
        }
        retired_by_us = set(
            DbtNode.objects.filter(source=self.source.asset, gone=True).values_list("asset_id", flat=True)
        )
        new = []
        for qualified, group in by_table.items():
            if qualified not in existing:
                new.append((qualified, group))
                continue
            dataset = self._write_dataset(qualified, group, existing[qualified], retired_by_us)
            for uid, _ in group:
                self.node_assets[uid] = dataset.pk
            self._write_columns(dataset, group)
        self._create_datasets(new)

    def _create_datasets(self, new):
        """New datasets in a few statements whatever their number, with their columns."""
        items = []
        for qualified, group in new:
            name, description, owner, tags, fmt = self._described(group)
            user_id, team_id = self._person(owner, name)
            asset = Asset(kind=AssetKind.DATASET, name=name, description=description, owner_id=user_id,
                          team_id=team_id)  # fmt: skip
            items.append((asset, Dataset(source=self.source, qualified_name=qualified, format=fmt), tags))
            self.summary.created.append(qualified)
        catalog_assets.create_assets(items, actor=self.actor)
        columns = []
        for (_, group), (_, dataset, _) in zip(new, items, strict=True):
            for uid, _ in group:
                self.node_assets[uid] = dataset.pk
            found = self._found_columns(group) or []
            self.columns[dataset.pk] = [column.name for column in found]
            columns += [
                Column(dataset=dataset, name=column.name, data_type=column.data_type or "unknown",
                       description=column.description, position=position)
                for position, column in enumerate(found)
            ]  # fmt: skip
        Column.objects.bulk_create(columns)

    def _described(self, group):
        _, node = group[0]
        description = next((n.get("description") for _, n in group if n.get("description")), "") or ""
        owner = next((_owner_value(n.get("meta")) for _, n in group if _owner_value(n.get("meta"))), "")
        tags = sorted(
            {
                str(tag)[:50]
                for _, n in group
                for tag in [*(n.get("tags") or []), *((n.get("config") or {}).get("tags") or [])]
            }
        )
        name = node["name"] if node["resource_type"] != "source" else f"{node.get('source_name')}.{node['name']}"
        materialized = (node.get("config") or {}).get("materialized")
        fmt = DatasetFormat.VIEW if materialized == "view" else DatasetFormat.TABLE
        return name[:200], description, owner, tags, fmt

    def _write_dataset(self, qualified, group, dataset, retired_by_us):
        name, description, owner, tags, fmt = self._described(group)
        user_id, team_id = self._person(owner, name)
        asset = dataset.asset
        wanted = {"description": description or asset.description}
        if asset.name == qualified[:200]:  # named after its table by an OpenLineage event: dbt knows a better name
            wanted["name"] = name
        if user_id or team_id:
            wanted.update(owner_id=user_id or asset.owner_id, team_id=team_id or asset.team_id)
        current_tags = sorted(tag.name for tag in asset.tags.all())
        changed = any(getattr(asset, key) != value for key, value in wanted.items()) or dataset.format != fmt
        if changed or (tags and current_tags != sorted(set(current_tags) | set(tags))):
            for key, value in wanted.items():
                setattr(asset, key, value)
            dataset.format = fmt
            catalog_assets.save_asset(asset, dataset, self.actor, tags=sorted(set(current_tags) | set(tags)))
            self.summary.updated.append(qualified)
        if asset.pk in retired_by_us and catalog_assets.move_lifecycle(
            asset, Lifecycle.ACTIVE, only_from=Lifecycle.RETIRED
        ):
            record_change(asset, self.actor, {"dbt": "gone from dbt"}, {"dbt": "back in dbt"}, ChangeAction.UPDATED)
        return dataset

    def _declared(self, group):
        declared = {}
        for _, node in reversed(group):  # the most telling node last, so its descriptions win
            for key, column in (node.get("columns") or {}).items():
                if isinstance(column, dict):
                    declared[str(column.get("name") or key).lower()] = column
        return declared

    def _found_columns(self, group, *, stored=False):
        """The columns dbt knows of a table: from catalog.json with their types (and the manifest's descriptions),
        else those the manifest declares, unless ``stored`` (the dataset has columns: a partial list would look
        like removed columns). None when there is nothing to apply."""
        declared = self._declared(group)
        built = None
        if self.catalog is not None:
            for uid, _ in group:
                entry = self.catalog.get("nodes", {}).get(uid) or self.catalog.get("sources", {}).get(uid)
                if entry:
                    built = sorted((entry.get("columns") or {}).values(), key=lambda c: int(c.get("index") or 0))
                    break
        if built is not None:
            return [
                FoundColumn(
                    str(column["name"])[:200],
                    str(column.get("type") or "")[:100],
                    description=str((declared.get(str(column["name"]).lower()) or {}).get("description") or ""),
                )
                for column in built
            ]
        if declared and not stored:
            return [
                FoundColumn(str(c.get("name"))[:200], str(c.get("data_type") or "")[:100],
                            description=str(c.get("description") or ""))
                for c in declared.values()
            ]  # fmt: skip
        return None

    def _write_columns(self, dataset, group):
        stored = list(dataset.columns.all())
        found = self._found_columns(group, stored=bool(stored))
        if found is None:
            self._describe_existing(dataset, self._declared(group))
        elif _same_columns(stored, found):  # a re-import of an unchanged model writes nothing
            self.columns[dataset.pk] = [column.name for column in found]
            return
        if found is not None:
            apply_schema(dataset, found, SchemaChangeOrigin.DBT, describe=True)
            self.columns[dataset.pk] = [column.name for column in found]
        else:
            self.columns[dataset.pk] = list(dataset.columns.values_list("name", flat=True))

    def _describe_existing(self, dataset, declared):
        changed = []
        for column in dataset.columns.all():
            description = str((declared.get(column.name.lower()) or {}).get("description") or "")
            if description and description != column.description:
                column.description = description
                changed.append(column)
        if changed:
            Column.objects.bulk_update(changed, ["description"])

    # lineage ------------------------------------------------------------------------------------------------------
    def _parents(self, node):
        return [
            self.node_assets[up] for up in (node.get("depends_on") or {}).get("nodes") or [] if up in self.node_assets
        ]

    def _lineage(self, by_table):
        pairs, children, column_fields = set(), set(), {}
        tables = {qualified.lower(): self.node_assets[group[0][0]] for qualified, group in by_table.items()}
        for group in by_table.values():
            for uid, node in group:
                downstream = self.node_assets[uid]
                parents = [up for up in self._parents(node) if up != downstream]
                pairs |= {(up, downstream) for up in parents}
                if node["resource_type"] in ("model", "snapshot"):
                    children.add(downstream)
                    column_fields[downstream] = self._column_lineage(node, downstream, parents, tables)
        added, _ = catalog_assets.set_columns_lineage(column_fields, actor=self.actor, origin=LineageOrigin.DBT)
        self.summary.column_links = added
        self.summary.edges = catalog_assets.link(sorted(pairs), actor=self.actor, origin=LineageOrigin.DBT)
        stale = LineageEdge.objects.filter(origin=LineageOrigin.DBT, downstream_id__in=children).select_related(
            "upstream", "downstream"
        )
        for edge in stale:
            if (edge.upstream_id, edge.downstream_id) not in pairs:
                catalog_assets.remove_edge(edge.upstream, edge.downstream, self.actor)

    def _column_lineage(self, node, downstream, parents, tables):
        """Which parent column feeds each column of a model: read from its SQL (``model_sql``: the compiled code,
        or the raw code with its refs and sources resolved) by OpenLineage's SQL parser, so renamed and derived
        columns are linked; without SQL, or when the parser finds no column lineage in it, a column named like a
        column of a parent is taken to come from it."""
        own = {name.lower(): name for name in self.columns.get(downstream, [])}
        parsed = _parsed_column_lineage(model_sql(node, self.manifest), self.manifest["metadata"].get("adapter_type"))
        if parsed:
            columns_of = {up: {name.lower(): name for name in self.columns.get(up, [])} for up in parents}
            fields = {}
            for column, sources in parsed.items():
                if column.lower() not in own:
                    continue
                links = fields.setdefault(own[column.lower()], [])
                for table, field in sources:
                    up = tables.get(_qualified(table, node))
                    if up in columns_of and field.lower() in columns_of[up]:
                        links.append((up, columns_of[up][field.lower()], "compiled SQL"))
            return {name: fields.get(name, []) for name in own.values()}
        return {
            column: [(up, column, "same name in a parent") for up in parents if column in self.columns.get(up, [])]
            for column in own.values()
        }

    # exposures -----------------------------------------------------------------------------------------------------
    def _exposures(self):
        known = {
            node.unique_id: node.asset
            for node in DbtNode.objects.filter(source=self.source.asset, resource_type="exposure").select_related(
                "asset__report"
            )
        }
        pairs = set()
        for uid, exposure in self.manifest.get("exposures", {}).items():
            owner = exposure.get("owner") or {}
            user_id, team_id = self._person(owner.get("email") or owner.get("name") or "", exposure.get("name", uid))
            url = str(exposure.get("url") or "")
            url = url if url and is_web_url(url) and len(url) <= 200 else ""
            name = str(exposure.get("label") or exposure.get("name") or uid)[:200]
            description = str(exposure.get("description") or "")
            asset = known.get(uid)
            if asset is None:
                asset = Asset(kind=AssetKind.REPORT, name=name, description=description, owner_id=user_id,
                              team_id=team_id)  # fmt: skip
                catalog_assets.create_asset(asset, Report(url=url), actor=self.actor, tags=exposure.get("tags") or [])
                self.summary.reports.append(name)
            else:
                report = asset.report
                wanted = {"name": name, "description": description, "owner_id": user_id or asset.owner_id,
                          "team_id": team_id or asset.team_id}  # fmt: skip
                if any(getattr(asset, key) != value for key, value in wanted.items()) or report.url != url:
                    for key, value in wanted.items():
                        setattr(asset, key, value)
                    report.url = url
                    catalog_assets.save_asset(asset, report, self.actor)
                    self.summary.updated.append(name)
                if catalog_assets.move_lifecycle(asset, Lifecycle.ACTIVE, only_from=Lifecycle.RETIRED):
                    record_change(asset, self.actor, {"dbt": "gone from dbt"}, {"dbt": "back in dbt"})
            self.node_assets[uid] = asset.pk
            pairs |= {(up, asset.pk) for up in self._parents(exposure)}
        self.summary.edges += catalog_assets.link(sorted(pairs), actor=self.actor, origin=LineageOrigin.DBT)

    # tests and their runs ---------------------------------------------------------------------------------------
    def _run_results(self):
        if self.run_results is None:
            return {}, "", None
        metadata = self.run_results["metadata"]
        run_key = str(metadata.get("invocation_id") or metadata.get("generated_at") or "")
        by_id = {str(result.get("unique_id")): result for result in self.run_results["results"]}
        return by_id, run_key, _when(metadata.get("generated_at"))

    def _tests(self):
        by_id, run_key, generated_at = self._run_results()
        observations, seen = [], set()
        for uid, node in self.manifest.get("nodes", {}).items():
            if node.get("resource_type") != "test":
                continue
            attached = node.get("attached_node") or next(iter((node.get("depends_on") or {}).get("nodes") or []), None)
            if attached not in self.node_assets:
                continue
            seen.add(uid)
            config = node.get("config") or {}
            result = by_id.get(uid) or {}
            status = DBT_STATUSES.get(str(result.get("status") or "").lower(), "") if result else ""
            observations.append(
                results.Observation(
                    asset_id=self.node_assets[attached],
                    key=str(node["name"]),
                    name=str(node["name"]),
                    column=str(node.get("column_name") or ""),
                    check_type=str((node.get("test_metadata") or {}).get("name") or "singular"),
                    severity=str(config.get("severity") or "error").lower(),
                    sql=str(result.get("compiled_code") or node.get("compiled_code") or node.get("raw_code") or ""),
                    external_id=uid,
                    run_key=run_key,
                    status=status,
                    failures=result.get("failures") if isinstance(result.get("failures"), int) else None,
                    message=str(result.get("message") or ""),
                    executed_at=self._finished(result) or generated_at,
                    seconds=result.get("execution_time")
                    if isinstance(result.get("execution_time"), int | float)
                    else None,
                )
            )
        recorded = results.record(observations, origin=CheckOrigin.DBT)
        self.summary.checks, self.summary.results = recorded["checks"], recorded["results"]
        self.summary.failing = sorted(
            QualityCheck.objects.filter(pk__in=recorded["failing"]).values_list("name", flat=True)
        )
        ours = set(DbtNode.objects.filter(source=self.source.asset).values_list("asset_id", flat=True))
        ours |= set(self.node_assets.values())
        vanished = QualityCheck.objects.filter(origin=CheckOrigin.DBT, asset_id__in=ours, gone=False)
        vanished = vanished.exclude(external_id__in=seen)
        results.mark_gone(list(vanished))

    @staticmethod
    def _finished(result):
        for timing in result.get("timing") or []:
            if isinstance(timing, dict) and timing.get("name") == "execute" and timing.get("completed_at"):
                return _when(timing["completed_at"])
        return None

    # source freshness -------------------------------------------------------------------------------------------
    def _freshness(self):
        if self.sources_json is None:
            return
        metadata = self.sources_json["metadata"]
        run_key = str(metadata.get("invocation_id") or metadata.get("generated_at") or "")
        rows = []
        for result in self.sources_json["results"]:
            asset_id = self.node_assets.get(str(result.get("unique_id")))
            if asset_id is None:
                continue
            status = str(result.get("status") or "")
            loaded = _when(result.get("max_loaded_at"))
            rows.append(
                FreshnessObservation(
                    asset_id=asset_id,
                    run_key=run_key,
                    status=status if status in FreshnessStatus.values else FreshnessStatus.RUNTIME_ERROR,
                    max_loaded_at=loaded,
                    observed_at=_when(result.get("snapshotted_at")) or _when(metadata.get("generated_at")) or self.now,
                    criteria=result.get("criteria") if isinstance(result.get("criteria"), dict) else {},
                )
            )
            if loaded is not None:
                Dataset.objects.filter(pk=asset_id).filter(
                    Q(last_updated_at__isnull=True) | Q(last_updated_at__lt=loaded)
                ).update(last_updated_at=loaded)
        FreshnessObservation.objects.bulk_create(rows, ignore_conflicts=True)
        self.summary.freshness = len(rows)

    # what is known, what is gone ------------------------------------------------------------------------------------
    def _remember_nodes(self):
        types = {uid: node.get("resource_type") for uid, node in self.manifest.get("nodes", {}).items()}
        types |= {uid: "source" for uid in self.manifest.get("sources", {})}
        types |= {uid: "exposure" for uid in self.manifest.get("exposures", {})}
        current = set(self.node_assets)
        DbtNode.objects.bulk_create(
            [
                DbtNode(
                    source=self.source.asset,
                    unique_id=uid,
                    resource_type=types.get(uid, ""),
                    asset_id=asset_id,
                    project=self.project,
                    gone=False,
                    seen_at=self.now,
                )
                for uid, asset_id in self.node_assets.items()
            ],
            update_conflicts=True,
            unique_fields=["source", "unique_id"],
            update_fields=["resource_type", "asset", "project", "gone", "seen_at"],
        )
        vanished = DbtNode.objects.filter(source=self.source.asset, project=self.project, gone=False).exclude(
            unique_id__in=current
        )
        vanished_assets = set(vanished.values_list("asset_id", flat=True)) - set(self.node_assets.values())
        vanished.update(gone=True)
        for asset in Asset.objects.filter(pk__in=vanished_assets).order_by("name"):
            if catalog_assets.move_lifecycle(asset, Lifecycle.RETIRED, only_from=Lifecycle.ACTIVE):
                record_change(asset, self.actor, {"dbt": "in the dbt project"}, {"dbt": "gone from dbt"})
                self.summary.gone.append(asset.name)


def source_for(files, slug=None):
    """The data source to import into: the one with ``slug``, or else the only source of the manifest's adapter
    that reads its database. Raises ``DbtArtifactError`` saying what to pass."""
    from catalog.models import DataSource

    sources = DataSource.objects.select_related("asset__owner", "asset__team")
    if slug:
        found = sources.filter(asset__slug=slug).first()
        if found is None:
            raise DbtArtifactError(f"No data source with the slug {slug!r}.")
        return found
    manifest = read_artifacts(files)["manifest.json"]
    databases = {
        node["database"]
        for node in [*manifest.get("nodes", {}).values(), *manifest.get("sources", {}).values()]
        if node.get("resource_type") in (*DATASET_TYPES, "source")
    }
    kind = ADAPTER_KINDS.get(str(manifest["metadata"].get("adapter_type") or ""), "")
    candidates = [
        source
        for source in sources.filter(source_kind=kind)
        if str((source.connection or {}).get("database") or "") in databases
    ]
    if len(candidates) != 1:
        raise DbtArtifactError(
            f"Name the data source to import into (the slug of its page): {len(candidates)} sources read "
            f"{', '.join(sorted(databases)) or 'no database'}."
        )
    return candidates[0]
