from django.core.management.base import BaseCommand, CommandError

from quality.dbt import DbtArtifactError, files_in, import_artifacts, source_for


class Command(BaseCommand):
    help = (
        "Import a dbt project's artifacts (manifest.json, and catalog.json, run_results.json, sources.json when "
        "present) from its target directory: datasets, columns, owners, lineage, exposures, tests and their results."
    )

    def add_arguments(self, parser):
        parser.add_argument("target", help="dbt's target directory, e.g. ./target.")
        parser.add_argument(
            "--source", help="The slug of the data source dbt builds in; found from the manifest's database if omitted."
        )

    def handle(self, target, source=None, **options):
        try:
            files = files_in(target)
            summary = import_artifacts(files, source=source_for(files, source), actor=None)
        except DbtArtifactError as exc:
            raise CommandError(f"Nothing was imported: {exc}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported dbt project: {len(summary.created)} datasets created, {len(summary.updated)} updated, "
                f"{len(summary.gone)} gone from dbt, {len(summary.reports)} reports created, {summary.edges} lineage "
                f"links added, {summary.checks} checks with {summary.results} results ({len(summary.failing)} "
                f"newly failing), {summary.freshness} freshness observations."
            )
        )
        for owner in summary.unknown_owners:
            self.stdout.write(self.style.WARNING(f"Unknown owner, not assigned: {owner}"))
