"""The catalog's background work: schema scans, run through the shared job runner."""

from celery import shared_task

from catalog.models import DataSource
from catalog.openlineage import ingest_queued
from catalog.scanning import READERS, scan_source
from monitoring.choices import JobKind
from monitoring.jobs import JobFailed, handler
from monitoring.models import JobRun


@handler(JobKind.SCHEMA_SCAN)
def schema_scan(run):
    source = DataSource.objects.select_related("asset__owner", "asset__team").filter(asset=run.asset_id).first()
    if source is None:
        raise JobFailed("The source to scan no longer exists.")
    return scan_source(source, actor=run.requested_by, report=run.report)


@shared_task
def scan_all_sources():
    """Nightly: one scan job per source a scan can read, so each shows up (and fails) on its own."""
    sources = DataSource.objects.filter(source_kind__in=list(READERS)).exclude(asset__lifecycle="retired")
    for source in sources.select_related("asset"):
        JobRun.enqueue(JobKind.SCHEMA_SCAN, asset=source.asset)


@shared_task
def ingest_lineage_events():
    """After an event is accepted (enqueued on commit) and every minute: ingest the waiting OpenLineage events.
    Stops after 50 seconds and leaves the rest to the next run."""
    return ingest_queued(seconds=50)
