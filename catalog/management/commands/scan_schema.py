from django.core.management.base import BaseCommand, CommandError

from catalog.models import DataSource
from catalog.scanning import scan_source
from core.jobs import JobFailed


class Command(BaseCommand):
    help = "Scan a data source now (PostgreSQL, SQLite or files under DATA_ROOT) and record schema changes."

    def add_arguments(self, parser):
        parser.add_argument("source", help="The slug of the source, as in /catalog/source/<slug>/.")

    def handle(self, source, **options):
        found = DataSource.objects.select_related("asset__owner", "asset__team").filter(asset__slug=source).first()
        if found is None:
            raise CommandError(f"No source with the slug {source!r}.")
        try:
            summary = scan_source(found, report=lambda step, progress=None: self.stdout.write(f"  {step}"))
        except JobFailed as exc:
            raise CommandError(f"The scan failed: {exc}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Scanned {summary['tables']} tables or files: {len(summary['created'])} new, "
                f"{len(summary['changed'])} with a changed schema."
            )
        )
