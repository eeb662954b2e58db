"""OpenLineage RunEvents in, catalog out: pipelines (jobs), datasets, lineage edges, runs and schema changes.

``accept(event, user)`` is behind ``POST /api/v1/lineage``: it validates the whole event, so a malformed one is
refused and changes nothing, and queues it (``LineageEvent``); the worker's ``ingest_queued`` then runs
``ingest(event, user)`` on each waiting event in the order they came, each in one transaction. Datasets are found by
their OpenLineage namespace (a source's ``namespace``) and name (the dataset's ``qualified_name``); unknown ones are
created without an owner, so the hygiene page asks someone to claim them.

An event is bound to the rights of its token's owner (``catalog.access.LineageRights``): it may create what does not
exist, but change an existing pipeline, write an existing dataset (its schema, statistics, upstream edges) or add a
dataset to an existing source only where that person may; a token may also be limited to some namespaces
(``ApiToken.lineage_namespaces``). Anything else refuses the whole event (``RefusedEvent``): it is kept, marked
refused with the reason, for staff, and nothing of it is written. An input's schema facet is applied only where the
sender may change the input: reading a table gives no right to describe it.
"""

import logging
import math
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog import assets, events
from catalog.access import LineageRights, can_edit_by_rights, can_edit_expression, rights_of
from catalog.choices import AssetKind, LineageOrigin, RunOrigin, RunState, SchemaChangeOrigin, SourceKind
from catalog.models import Asset, Dataset, DataSource, LineageEvent, Pipeline, PipelineRun
from catalog.scanning import FoundColumn, apply_schema, dataset_for
from core.background import LINEAGE_INGESTER, drain, wake
from core.onequery import Compiled
from core.validators import is_web_url

logger = logging.getLogger(__name__)
# Events the ingester reads at a time.
INGEST_BATCH = 200
# Pipeline.code_url's length.
CODE_URL_LIMIT = 200

EVENT_STATES = {
    "START": RunState.RUNNING,
    "RUNNING": RunState.RUNNING,
    "COMPLETE": RunState.COMPLETE,
    "FAIL": RunState.FAIL,
    "ABORT": RunState.ABORT,
    "OTHER": None,
}
FINAL_STATES = {RunState.COMPLETE, RunState.FAIL, RunState.ABORT}
SCHEME_KINDS = {
    "postgres": SourceKind.POSTGRESQL,
    "postgresql": SourceKind.POSTGRESQL,
    "mysql": SourceKind.MYSQL,
    "sqlite": SourceKind.SQLITE,
    "s3": SourceKind.OBJECT_STORE,
    "gs": SourceKind.OBJECT_STORE,
    "abfss": SourceKind.OBJECT_STORE,
    "file": SourceKind.FILES,
    "hdfs": SourceKind.FILES,
    "http": SourceKind.HTTP_API,
    "https": SourceKind.HTTP_API,
}


class MalformedEvent(ValueError):
    """The event cannot be read; the message says which part is wrong. Nothing was changed."""


class RefusedEvent(PermissionError):
    """The event would change assets its sender may not change; the message says which. Nothing was changed."""


@dataclass
class Known:
    """What an event names that already exists, each row annotated with ``user_can_edit`` for its sender."""

    pipeline: Pipeline | None
    datasets: dict  # (namespace, name) -> Dataset
    sources: dict  # namespace -> DataSource, for the namespaces of datasets that do not exist yet
    read_only: set = None  # (namespace, name) of the inputs whose facets the sender may not apply


@dataclass
class DatasetRef:
    namespace: str
    name: str
    columns: list[FoundColumn] | None
    description: str
    row_count: int | None
    size_bytes: int | None
    # {column: [(namespace, name, field, transformation)]} from the columnLineage facet, None when not sent.
    column_lineage: dict | None = None
    assertions: list | None = None
    # The dataQualityMetrics facet, checked, None when not sent.
    metrics: dict | None = None


def _text(container, key, where, limit):
    value = container.get(key)
    if not isinstance(value, str) or not value.strip():
        raise MalformedEvent(f"{where}.{key} is required and must be a non-empty string.")
    if len(value) > limit:
        raise MalformedEvent(f"{where}.{key} is longer than {limit} characters.")
    return value.strip()


def _object(container, key, where, required=True):
    value = container.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise MalformedEvent(f"{where}.{key} must be an object.")
    return value


def _count(facet, key, where):
    value = facet.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedEvent(f"{where}.{key} must be a whole number of zero or more.")
    return value


def _dataset_ref(item, where, output):
    if not isinstance(item, dict):
        raise MalformedEvent(f"{where} must be an object with a namespace and a name.")
    facets = _object(item, "facets", where, required=False)
    columns = None
    if "schema" in facets:
        fields = _object(facets, "schema", f"{where}.facets").get("fields")
        if not isinstance(fields, list):
            raise MalformedEvent(f"{where}.facets.schema.fields must be a list.")
        columns = []
        for index, column in enumerate(fields):
            column_where = f"{where}.facets.schema.fields[{index}]"
            if not isinstance(column, dict):
                raise MalformedEvent(f"{column_where} must be an object.")
            data_type = column.get("type") or ""
            if not isinstance(data_type, str):
                raise MalformedEvent(f"{column_where}.type must be a string.")
            columns.append(
                FoundColumn(
                    _text(column, "name", column_where, 200),
                    data_type[:100],
                    description=str(column.get("description") or ""),
                )
            )
        if len({column.name for column in columns}) != len(columns):
            raise MalformedEvent(f"{where}.facets.schema.fields names a column twice.")
    documentation = facets.get("documentation") if isinstance(facets.get("documentation"), dict) else {}
    column_lineage = _column_lineage(facets, where) if "columnLineage" in facets else None
    assertions = _assertions(item, facets, where)
    statistics = {}
    if output:
        output_facets = _object(item, "outputFacets", where, required=False)
        if "outputStatistics" in output_facets:
            statistics = _object(output_facets, "outputStatistics", f"{where}.outputFacets")
    return DatasetRef(
        namespace=_text(item, "namespace", where, 300),
        name=_text(item, "name", where, 300),
        columns=columns,
        description=str(documentation.get("description") or ""),
        row_count=_count(statistics, "rowCount", f"{where}.outputFacets.outputStatistics"),
        size_bytes=_count(statistics, "size", f"{where}.outputFacets.outputStatistics"),
        column_lineage=column_lineage,
        assertions=assertions,
        metrics=_metrics(item, facets, where),
    )


def _column_lineage(facets, where):
    """``{column: [(namespace, name, field, transformation)]}`` from a ``columnLineage`` dataset facet."""
    fields = _object(_object(facets, "columnLineage", f"{where}.facets"), "fields", f"{where}.facets.columnLineage")
    lineage = {}
    for column, spec in fields.items():
        column_where = f"{where}.facets.columnLineage.fields.{column}"
        if not isinstance(spec, dict) or not isinstance(spec.get("inputFields", []), list):
            raise MalformedEvent(f"{column_where}.inputFields must be a list.")
        links = []
        for index, item in enumerate(spec.get("inputFields", [])):
            item_where = f"{column_where}.inputFields[{index}]"
            if not isinstance(item, dict):
                raise MalformedEvent(f"{item_where} must be an object.")
            steps = item.get("transformations") if isinstance(item.get("transformations"), list) else []
            how = ", ".join(
                str(step.get("subtype") or step.get("type") or "") for step in steps if isinstance(step, dict)
            )
            links.append(
                (
                    _text(item, "namespace", item_where, 300),
                    _text(item, "name", item_where, 300),
                    _text(item, "field", item_where, 200),
                    how or str(spec.get("transformationDescription") or ""),
                )
            )
        lineage[str(column)[:200]] = links
    return lineage


def _assertions(item, facets, where):
    """The ``dataQualityAssertions`` facet (dbt-ol puts it in the dataset's facets and in its inputFacets)."""
    input_facets = item.get("inputFacets") if isinstance(item.get("inputFacets"), dict) else {}
    facet = input_facets.get("dataQualityAssertions") or facets.get("dataQualityAssertions")
    if facet is None:
        return None
    found = facet.get("assertions") if isinstance(facet, dict) else None
    if not isinstance(found, list):
        raise MalformedEvent(f"{where}.dataQualityAssertions.assertions must be a list.")
    for index, assertion in enumerate(found):
        assertion_where = f"{where}.dataQualityAssertions.assertions[{index}]"
        if not isinstance(assertion, dict):
            raise MalformedEvent(f"{assertion_where} must be an object.")
        _text(assertion, "assertion", assertion_where, 300)
        if not isinstance(assertion.get("success"), bool):
            raise MalformedEvent(f"{assertion_where}.success must be true or false.")
    return found


def _number(container, key, where, *, whole=False):
    value = container.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise MalformedEvent(f"{where}.{key} must be a number.")
    if whole and (not float(value).is_integer() or value < 0):
        raise MalformedEvent(f"{where}.{key} must be a whole number of zero or more.")
    return int(value) if whole else value


def _metrics(item, facets, where):
    """The ``dataQualityMetrics`` input facet (in ``inputFacets``; older producers put it in the dataset's facets),
    checked and kept to the fields the spec names: a bad number refuses the event, as a bad schema does."""
    input_facets = item.get("inputFacets") if isinstance(item.get("inputFacets"), dict) else {}
    facet = input_facets.get("dataQualityMetrics") or facets.get("dataQualityMetrics")
    if facet is None:
        return None
    where = f"{where}.dataQualityMetrics"
    if not isinstance(facet, dict):
        raise MalformedEvent(f"{where} must be an object.")
    found = {key: _number(facet, key, where, whole=True) for key in ("rowCount", "bytes", "fileCount")}
    columns = {}
    for column, values in _object(facet, "columnMetrics", where, required=False).items():
        column_where = f"{where}.columnMetrics.{column}"
        if not isinstance(values, dict):
            raise MalformedEvent(f"{column_where} must be an object.")
        measures = {key: _number(values, key, column_where, whole=True) for key in ("nullCount", "distinctCount")}
        measures |= {key: _number(values, key, column_where) for key in ("sum", "count", "min", "max")}
        quantiles = _object(values, "quantiles", column_where, required=False)
        for key in quantiles:
            try:
                float(key)
            except ValueError:
                raise MalformedEvent(f"{column_where}.quantiles: {str(key)[:20]!r} is not a quantile.") from None
        measures["quantiles"] = {
            str(key)[:20]: _number(quantiles, key, f"{column_where}.quantiles") for key in quantiles
        }
        columns[str(column)[:200]] = {key: value for key, value in measures.items() if value not in (None, {})}
    return {**{key: value for key, value in found.items() if value is not None}, "columnMetrics": columns}


def _code_url(value):
    """The job's source code address if it is an http(s) link that fits, else "": the event is still accepted (a
    producer may send ``git@…`` or ``file://…``), but nothing but a web address ever becomes a link on the page."""
    value = value.strip() if isinstance(value, str) else ""
    if not value or len(value) > CODE_URL_LIMIT or not is_web_url(value):
        if value:
            logger.info("OpenLineage job sourceCodeLocation.url dropped: not an http(s) address.")
        return ""
    return value


def parse(event):
    """Check the whole event and return what ``ingest`` needs; raises ``MalformedEvent``."""
    if not isinstance(event, dict):
        raise MalformedEvent("The body must be one OpenLineage RunEvent, a JSON object.")
    if "run" not in event:
        raise MalformedEvent("Only RunEvents are accepted: the event has no 'run'.")
    event_type = event.get("eventType") or "OTHER"
    if event_type not in EVENT_STATES:
        raise MalformedEvent(f"eventType must be one of {', '.join(EVENT_STATES)}, not {event_type!r}.")
    try:
        event_time = datetime.fromisoformat(_text(event, "eventTime", "event", 64))
    except ValueError:
        raise MalformedEvent("eventTime must be an ISO 8601 date and time.") from None
    if timezone.is_naive(event_time):
        event_time = timezone.make_aware(event_time, timezone.get_default_timezone())
    run = _object(event, "run", "event")
    job = _object(event, "job", "event")
    job_facets = _object(job, "facets", "job", required=False)
    refs = {}
    for key, output in (("inputs", False), ("outputs", True)):
        items = event.get(key) or []
        if not isinstance(items, list):
            raise MalformedEvent(f"{key} must be a list.")
        refs[key] = [_dataset_ref(item, f"{key}[{index}]", output) for index, item in enumerate(items)]
    documentation = job_facets.get("documentation") if isinstance(job_facets.get("documentation"), dict) else {}
    code = job_facets.get("sourceCodeLocation") if isinstance(job_facets.get("sourceCodeLocation"), dict) else {}
    return {
        "state": EVENT_STATES[event_type],
        "time": event_time,
        "run_id": _text(run, "runId", "run", 100),
        "job_namespace": _text(job, "namespace", "job", 200),
        "job_name": _text(job, "name", "job", 200),
        "job_description": str(documentation.get("description") or ""),
        "code_url": _code_url(code.get("url")),
        **refs,
    }


def _create_source(namespace, user):
    scheme = namespace.split("://", 1)[0].lower() if "://" in namespace else ""
    asset = Asset(
        kind=AssetKind.SOURCE,
        name=namespace[:200],
        description="Created from an OpenLineage event. Describe it and give it an owner.",
    )
    source = DataSource(source_kind=SCHEME_KINDS.get(scheme, SourceKind.OTHER), namespace=namespace)
    assets.create_asset(asset, source, actor=user)
    return source


OWNED_ONLY = ("asset__owner", "asset__team")
# Stand-ins for the values of the reading queries, compiled once per process (``core.onequery.Compiled``): building
# and compiling the pipeline's and the datasets' queries with their rights annotation cost the ORM more than
# PostgreSQL took to answer them (6 ms of an event's 10 through the endpoint).
USER_STAND_IN = 1_987_654_321
MOST_REFS_COMPILED = 8  # events naming more inputs and outputs than this build their query each time


def _user_stand_in(rights):
    return {"user_id": USER_STAND_IN} if rights == "account" else {}


def _pipeline_query(rights):
    def build(namespace, name, user_id=None):
        return (
            Pipeline.objects.select_related("asset")
            .only("namespace", "asset__kind", "asset__name", "asset__slug", *OWNED_ONLY)
            .annotate(user_can_edit=can_edit_by_rights(rights, user_id, "asset__"))
            .filter(namespace=namespace, asset__name=name)
            .order_by("pk")[:1]
        )

    return Compiled(build, namespace="\x1fjob namespace\x1f", name="\x1fjob name\x1f", **_user_stand_in(rights))


def _datasets_query(rights, count):
    def build(user_id=None, **refs):
        known = Q()
        for index in range(count):
            known |= Q(source__namespace=refs[f"namespace{index}"], qualified_name=refs[f"name{index}"])
        return (
            Dataset.objects.filter(known)
            .select_related("source", "asset")
            .only("qualified_name", "source__namespace", *OWNED_ONLY)
            .annotate(user_can_edit=can_edit_by_rights(rights, user_id, "asset__"))
        )

    stand_ins = {}
    for index in range(count):
        stand_ins.update({f"namespace{index}": f"\x1fnamespace {index}\x1f", f"name{index}": f"\x1fname {index}\x1f"})
    return Compiled(build, **stand_ins, **_user_stand_in(rights))


RIGHTS = ("nobody", "staff", "account")
_PIPELINE = {rights: _pipeline_query(rights) for rights in RIGHTS}
_DATASETS = {
    (rights, count): _datasets_query(rights, count) for rights in RIGHTS for count in range(1, MOST_REFS_COMPILED + 1)
}


def _known(parsed, user):
    """Read what the event names that exists, before anything is written. Known datasets, the common case (a known
    job reading and writing known tables), cost one query whatever the number of inputs and outputs: ingestion speed
    is round trips per event. Sources are read only when a dataset is new."""
    # ``user_id`` fills the stand-in where the query has one (an account's); the others have none to fill.
    rights, user_id = rights_of(user)
    found = _PIPELINE[rights].all(namespace=parsed["job_namespace"], name=parsed["job_name"], user_id=user_id)
    pipeline = found[0] if found else None
    refs = [*parsed["inputs"], *parsed["outputs"]]
    datasets = {}
    if refs:
        query = _DATASETS.get((rights, len(refs)))
        if query is None:  # a large event: built as any query is
            query = _datasets_query(rights, len(refs))
        values = {}
        for index, ref in enumerate(refs):
            values.update({f"namespace{index}": ref.namespace, f"name{index}": ref.name})
        datasets = {
            (dataset.source.namespace, dataset.qualified_name): dataset
            for dataset in query.all(**values, user_id=user_id)
        }
    missing = {ref.namespace for ref in refs if (ref.namespace, ref.name) not in datasets}
    sources = {}
    if missing:
        sources = {
            source.namespace: source
            for source in DataSource.objects.filter(namespace__in=missing)
            .select_related("asset")
            .only("namespace", "asset__name", *OWNED_ONLY)
            .annotate(user_can_edit=can_edit_expression(user, "asset__"))
        }
    return Known(pipeline, datasets, sources)


NOT_YOURS = "only its owner, its team, staff, or an account staff granted its namespace may change it"


def _outside_allow_list(parsed, token):
    allowed = token.namespace_allow_list if token is not None else set()
    named = {parsed["job_namespace"], *(ref.namespace for ref in [*parsed["inputs"], *parsed["outputs"]])}
    outside = sorted(named - allowed) if allowed else []
    if outside:
        return [
            f"This token may report only on the namespaces {', '.join(sorted(allowed))}; "
            f"the event names {', '.join(outside)}."
        ]
    return []


def refusals(parsed, user, known, token=None):
    """Why the sender may not record this event (empty when they may); also fills ``known.read_only``."""
    reasons = _outside_allow_list(parsed, token)
    rights = LineageRights(user)
    pipeline = known.pipeline
    if pipeline is not None and not rights.may_change(pipeline.user_can_edit, pipeline.asset, pipeline.namespace):
        reasons.append(
            f"The job {parsed['job_namespace']} / {parsed['job_name']} is the pipeline {pipeline.asset.name!r}: "
            f"{NOT_YOURS}, its runs and lineage included."
        )
    known.read_only = set()
    for key, output in (("inputs", False), ("outputs", True)):
        for index, ref in enumerate(parsed[key]):
            dataset = known.datasets.get((ref.namespace, ref.name))
            if dataset is not None:
                if not rights.may_change(dataset.user_can_edit, dataset.asset, ref.namespace):
                    if output:
                        reasons.append(
                            f"{key}[{index}] is the dataset {ref.name!r} of {ref.namespace}: {NOT_YOURS} "
                            "(its schema, statistics and upstream lineage)."
                        )
                    else:
                        known.read_only.add((ref.namespace, ref.name))
                continue
            source = known.sources.get(ref.namespace)
            if source is not None and not rights.may_change(source.user_can_edit, source.asset, ref.namespace):
                reasons.append(
                    f"{key}[{index}] would add the dataset {ref.name!r} to the source {source.asset.name!r}: "
                    f"{NOT_YOURS}, new datasets included."
                )
    return reasons


def _sources_for(namespaces, known, user):
    """``{namespace: DataSource}`` for the datasets to create, creating the unknown sources."""
    sources = {namespace: known.sources[namespace] for namespace in namespaces if namespace in known.sources}
    for namespace in sorted(set(namespaces) - set(sources)):
        sources[namespace] = _create_source(namespace, user)
    return sources


def _datasets_for(refs, known, user):
    """``{(namespace, name): Dataset}`` for every dataset the event names, creating the unknown ones and applying
    the schema facets the sender may apply."""
    datasets = dict(known.datasets)
    missing = [ref for ref in refs if (ref.namespace, ref.name) not in datasets]
    sources = _sources_for({ref.namespace for ref in missing}, known, user) if missing else {}
    for ref in refs:
        key = (ref.namespace, ref.name)
        if key in datasets and ref.columns is None:
            continue
        if key not in datasets:
            datasets[key], _ = dataset_for(sources[ref.namespace], ref.name, "other", user, description=ref.description)
        if ref.columns is not None and key not in known.read_only:
            apply_schema(datasets[key], ref.columns, SchemaChangeOrigin.OPENLINEAGE)
    return datasets


def _pipeline_for(parsed, known, user):
    if known.pipeline is not None:
        return known.pipeline
    asset = Asset(kind=AssetKind.PIPELINE, name=parsed["job_name"], description=parsed["job_description"])
    pipeline = Pipeline(namespace=parsed["job_namespace"], code_url=parsed["code_url"])
    assets.create_asset(asset, pipeline, actor=user)
    return pipeline


def _link(pipeline, inputs, outputs, user):
    """Edges from each input to the job and from the job to each output; only the missing ones are written."""
    pairs = [(dataset.asset_id, pipeline.asset_id) for dataset in inputs]
    pairs += [(pipeline.asset_id, dataset.asset_id) for dataset in outputs]
    assets.link(pairs, actor=user, origin=LineageOrigin.OPENLINEAGE)


def _run_for(pipeline, parsed):
    """The run row, created by the first event that names it. A START usually opens a new run, so it inserts
    first; any other event usually finds its run, so it reads first. Either way a run that another event of the
    same run created a moment ago is kept, never duplicated (the insert skips a conflict), and no savepoint is
    needed."""
    state, at = parsed["state"], parsed["time"]
    runs = PipelineRun.objects.filter(pipeline=pipeline, run_id=parsed["run_id"])
    opening = PipelineRun(
        pipeline=pipeline,
        run_id=parsed["run_id"],
        origin=RunOrigin.OPENLINEAGE,
        state=RunState.RUNNING,
        started_at=at if state == RunState.RUNNING else None,
    )
    run = None if state == RunState.RUNNING else runs.first()
    if run is None:
        PipelineRun.objects.bulk_create([opening], ignore_conflicts=True)
        run = runs.get()
    run.pipeline = pipeline
    return run


def _record_run(pipeline, parsed):
    """The run row, moved forward only: a late START never reopens a run that already ended. The returned run
    carries what the conditional updates changed, without reading it back."""
    state, at = parsed["state"], parsed["time"]
    run = _run_for(pipeline, parsed)
    starting = run.started_at is None and state == RunState.RUNNING
    if starting and PipelineRun.objects.filter(pk=run.pk, started_at__isnull=True).update(started_at=at):
        run.started_at = at
    finished = False
    if state in FINAL_STATES:
        outputs = parsed["outputs"]
        rows = [ref.row_count for ref in outputs if ref.row_count is not None]
        size = [ref.size_bytes for ref in outputs if ref.size_bytes is not None]
        ending = {
            "state": state,
            "ended_at": at,
            "output_rows": sum(rows) if rows else None,
            "output_bytes": sum(size) if size else None,
        }
        finished = PipelineRun.objects.filter(pk=run.pk, state=RunState.RUNNING).update(**ending) == 1
        if finished:
            for field, value in ending.items():
                setattr(run, field, value)
    return run, finished


def _column_links(parsed, datasets, user):
    """Column lineage of each output that sent a ``columnLineage`` facet, from the datasets the event reads and
    writes (those its rights were checked for); a link naming another dataset, or a column not recorded yet, is
    skipped until an event of its own brings it."""
    for ref in parsed["outputs"]:
        if not ref.column_lineage:
            continue
        fields = {
            column: [
                (datasets[namespace, name].pk, field, how)
                for namespace, name, field, how in links
                if (namespace, name) in datasets
            ]
            for column, links in ref.column_lineage.items()
        }
        assets.set_column_lineage(
            datasets[ref.namespace, ref.name].pk, fields, actor=user, origin=LineageOrigin.OPENLINEAGE
        )


def _report_quality(parsed, datasets):
    """The quality facets of each dataset the event names, told to the quality app: ``dataQualityAssertions`` as
    ``quality_reported``, ``dataQualityMetrics`` as ``quality_measured``."""
    for ref in [*parsed["inputs"], *parsed["outputs"]]:
        reported = {"sender": "catalog", "dataset_id": datasets[ref.namespace, ref.name].pk,
                    "run_id": parsed["run_id"], "at": parsed["time"]}  # fmt: skip
        if ref.assertions:
            events.quality_reported.send(**reported, assertions=ref.assertions)
        if ref.metrics is not None:
            events.quality_measured.send(**reported, metrics=ref.metrics)


def ingest(event, user, token=None):
    """Record one OpenLineage RunEvent; returns the ``PipelineRun``. Raises ``MalformedEvent`` or ``RefusedEvent``
    (nothing changed). The rights are checked again here: what existed when the event was accepted may have been
    claimed since."""
    parsed = parse(event)
    with transaction.atomic():
        known = _known(parsed, user)
        reasons = refusals(parsed, user, known, token)
        if reasons:
            raise RefusedEvent(" ".join(reasons))
        pipeline = _pipeline_for(parsed, known, user)
        datasets = _datasets_for([*parsed["inputs"], *parsed["outputs"]], known, user)
        inputs = [datasets[ref.namespace, ref.name] for ref in parsed["inputs"]]
        outputs = [datasets[ref.namespace, ref.name] for ref in parsed["outputs"]]
        _link(pipeline, inputs, outputs, user)
        _column_links(parsed, datasets, user)
        _report_quality(parsed, datasets)
        run, finished = _record_run(pipeline, parsed)
        if finished and run.state == RunState.COMPLETE:
            for dataset, ref in zip(outputs, parsed["outputs"], strict=True):
                facts = {"last_updated_at": run.ended_at}
                if ref.row_count is not None:
                    facts["row_count"] = ref.row_count
                if ref.size_bytes is not None:
                    facts["size_bytes"] = ref.size_bytes
                Dataset.objects.filter(pk=dataset.pk).update(**facts)
    if finished and run.state == RunState.COMPLETE:
        _after_run_recorded(run)
    return run


def accept(event, user, token=None):
    """Check an event and queue it for the worker; returns the ``LineageEvent``. Raises ``MalformedEvent`` (nothing
    queued) or ``RefusedEvent`` (kept, marked refused with the reason, for staff; ``.event`` is its row). The worker
    is woken once the queue row is committed."""
    parsed = parse(event)
    reasons = refusals(parsed, user, _known(parsed, user), token)
    if reasons:
        reason = " ".join(reasons)
        kept = LineageEvent.objects.create(payload=event, received_by=user, refused=True, error=reason[:2000])
        logger.warning("OpenLineage event %s from %s refused: %s", kept.pk, user, reason)
        refused = RefusedEvent(reason)
        refused.event = kept
        raise refused
    queued = LineageEvent.objects.create(payload=event, received_by=user)
    transaction.on_commit(_wake_the_ingester)
    return queued


def _wake_the_ingester():
    from catalog.tasks import ingest_lineage_events  # the tasks module imports this one

    wake(ingest_lineage_events)


def ingest_queued(batch_size=INGEST_BATCH, seconds=None):
    """Ingest the waiting events, oldest first, until none is left or ``seconds`` have passed (see
    ``core.background.drain``). One ingester at a time, so the events of a run are recorded in the order they came.
    Returns how many were ingested; None when another ingester is at work."""

    def step():
        waiting = list(LineageEvent.objects.filter(error="").select_related("received_by").order_by("pk")[:batch_size])
        if not waiting:
            return None
        with events.gathered():  # the badges downstream of a batch's new edges are marked once
            return _ingest_batch(waiting)

    return drain(LINEAGE_INGESTER, step, seconds)


def _ingest_batch(waiting):
    """Ingest queued events in order; one that fails is kept with its reason and the others go on."""
    ingested = []
    for queued in waiting:
        try:
            ingest(queued.payload, queued.received_by)
        except RefusedEvent as exc:
            logger.warning("OpenLineage event %s refused: %s", queued.pk, exc)
            LineageEvent.objects.filter(pk=queued.pk).update(error=str(exc)[:2000], refused=True)
        except Exception as exc:
            logger.exception("OpenLineage event %s could not be ingested", queued.pk)
            LineageEvent.objects.filter(pk=queued.pk).update(error=f"{type(exc).__name__}: {exc}"[:2000])
        else:
            ingested.append(queued.pk)
    LineageEvent.objects.filter(pk__in=ingested).delete()
    return len(ingested)


def _after_run_recorded(run):
    """Called once per run, after its COMPLETE event was stored (monitoring checks it for drift)."""
    logger.info("Pipeline run %s of %s completed with %s output rows", run.run_id, run.pipeline, run.output_rows)
    events.run_completed.send(sender=PipelineRun, run=run)
