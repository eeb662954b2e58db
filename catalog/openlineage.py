"""OpenLineage RunEvents in, catalog out: pipelines (jobs), datasets, lineage edges, runs and schema changes.

``accept(event, user)`` is behind ``POST /api/v1/lineage``: it validates the whole event, so a malformed one is
refused and changes nothing, and queues it (``LineageEvent``); the worker's ``ingest_queued`` then runs
``ingest(event, user)`` on each waiting event in the order they came, each in one transaction. Datasets are found by
their OpenLineage namespace (a source's ``namespace``) and name (the dataset's ``qualified_name``); unknown ones are
created without an owner, so the hygiene page asks someone to claim them.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog import assets, events
from catalog.choices import AssetKind, LineageOrigin, RunOrigin, RunState, SchemaChangeOrigin, SourceKind
from catalog.models import Asset, Dataset, DataSource, LineageEvent, Pipeline, PipelineRun
from catalog.scanning import FoundColumn, apply_schema, dataset_for
from core.background import LINEAGE_INGESTER, drain, wake
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


def _sources_for(namespaces, user):
    """``{namespace: DataSource}``, creating the unknown ones; only what a new dataset inherits is read."""
    sources = {
        source.namespace: source
        for source in DataSource.objects.filter(namespace__in=namespaces)
        .select_related("asset")
        .only("namespace", "asset__owner", "asset__team")
    }
    for namespace in sorted(set(namespaces) - set(sources)):
        sources[namespace] = _create_source(namespace, user)
    return sources


def _datasets_for(refs, user):
    """``{(namespace, name): Dataset}`` for every dataset the event names, creating the unknown ones.

    Known datasets, the common case (a known job reading and writing known tables), cost one query whatever the
    number of inputs and outputs, their sources joined in: ingestion speed is round trips per event. Sources are
    read only when a dataset is new.
    """
    known = Q()
    for ref in refs:
        known |= Q(source__namespace=ref.namespace, qualified_name=ref.name)
    datasets = {}
    if refs:
        found = Dataset.objects.filter(known).select_related("source").only("qualified_name", "source__namespace")
        datasets = {(dataset.source.namespace, dataset.qualified_name): dataset for dataset in found}
    missing = [ref for ref in refs if (ref.namespace, ref.name) not in datasets]
    sources = _sources_for({ref.namespace for ref in missing}, user) if missing else {}
    for ref in refs:
        key = (ref.namespace, ref.name)
        if key in datasets and ref.columns is None:
            continue
        if key not in datasets:
            datasets[key], _ = dataset_for(sources[ref.namespace], ref.name, "other", user, description=ref.description)
        if ref.columns is not None:
            apply_schema(datasets[key], ref.columns, SchemaChangeOrigin.OPENLINEAGE)
    return datasets


def _pipeline_for(parsed, user):
    pipeline = (
        Pipeline.objects.select_related("asset")
        .only("namespace", "asset__kind", "asset__name", "asset__slug")
        .filter(namespace=parsed["job_namespace"], asset__name=parsed["job_name"])
        .first()
    )
    if pipeline is not None:
        return pipeline
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
    """Column lineage of each output that sent a ``columnLineage`` facet; the datasets it names are created if
    unknown (without columns: a link to a column not recorded yet is skipped until its schema arrives)."""
    for ref in parsed["outputs"]:
        if not ref.column_lineage:
            continue
        named = {(namespace, name) for links in ref.column_lineage.values() for namespace, name, _, _ in links}
        missing = [DatasetRef(namespace, name, None, "", None, None) for namespace, name in named - datasets.keys()]
        if missing:
            datasets.update(_datasets_for(missing, user))
        fields = {
            column: [(datasets[namespace, name].pk, field, how) for namespace, name, field, how in links]
            for column, links in ref.column_lineage.items()
        }
        assets.set_column_lineage(
            datasets[ref.namespace, ref.name].pk, fields, actor=user, origin=LineageOrigin.OPENLINEAGE
        )


def _report_assertions(parsed, datasets):
    for ref in [*parsed["inputs"], *parsed["outputs"]]:
        if ref.assertions:
            events.quality_reported.send(
                sender="catalog",
                dataset_id=datasets[ref.namespace, ref.name].pk,
                run_id=parsed["run_id"],
                at=parsed["time"],
                assertions=ref.assertions,
            )


def ingest(event, user):
    """Record one OpenLineage RunEvent; returns the ``PipelineRun``. Raises ``MalformedEvent`` (nothing changed)."""
    parsed = parse(event)
    with transaction.atomic():
        pipeline = _pipeline_for(parsed, user)
        datasets = _datasets_for([*parsed["inputs"], *parsed["outputs"]], user)
        inputs = [datasets[ref.namespace, ref.name] for ref in parsed["inputs"]]
        outputs = [datasets[ref.namespace, ref.name] for ref in parsed["outputs"]]
        _link(pipeline, inputs, outputs, user)
        _column_links(parsed, datasets, user)
        _report_assertions(parsed, datasets)
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


def accept(event, user):
    """Check an event and queue it for the worker; returns the ``LineageEvent``. Raises ``MalformedEvent`` (nothing
    queued). The worker is woken once the queue row is committed."""
    parse(event)
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
