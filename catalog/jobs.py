"""The catalog's kinds of background job, run by the shared job runner (``core.tasks.run_job``)."""

from catalog.models import DataSource
from catalog.scanning import scan_source
from core.choices import JobKind
from core.jobs import JobFailed, handler


@handler(JobKind.SCHEMA_SCAN)
def schema_scan(run):
    source = DataSource.objects.select_related("asset__owner", "asset__team").filter(asset=run.asset_id).first()
    if source is None:
        raise JobFailed("The source to scan no longer exists.")
    return scan_source(source, actor=run.requested_by, report=run.report)
