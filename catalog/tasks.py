"""The catalog's background work: schema scans, run through the shared job runner."""

from celery import shared_task

from catalog.models import DataSource
from catalog.openlineage import ingest_queued
from catalog.scanning import READERS
from core.choices import JobKind
from core.models import JobRun


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
