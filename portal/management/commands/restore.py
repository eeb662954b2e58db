"""``manage.py restore BACKUP``: bring back a folder written by ``manage.py backup`` (``portal.backups``; README
"Backups"). Stop web, worker and beat first."""

from django.core.management.base import BaseCommand, CommandError

from portal.backups import BackupError, restore


class Command(BaseCommand):
    help = "Restore a portal backup folder: database, MEDIA_ROOT, DATA_ROOT, MLflow store and artifacts."

    def add_arguments(self, parser):
        parser.add_argument("backup", help="A portal-backup-<time> folder.")
        parser.add_argument(
            "--database-url", help="Restore the database there instead of DATABASE_URL (created when missing)."
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Empty a database that has tables and set existing folders aside (<folder>.before-restore-<time>).",
        )

    def handle(self, *, backup, database_url, replace, **options):
        try:
            counts = restore(backup, database_url=database_url, replace=replace, log=self.stdout.write)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Restored {len(counts)} tables with the counts of the backup."))
