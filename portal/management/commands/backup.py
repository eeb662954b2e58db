"""``manage.py backup FOLDER``: the database, attachments, data files and MLflow's store and artifacts, in one new
folder under FOLDER (``portal.backups``; README "Backups")."""

from django.core.management.base import BaseCommand, CommandError

from portal.backups import BackupError, backup


class Command(BaseCommand):
    help = "Back up the portal: database (pg_dump or SQLite copy), MEDIA_ROOT, DATA_ROOT, MLflow store and artifacts."

    def add_arguments(self, parser):
        parser.add_argument("destination", help="Folder in which a new portal-backup-<time> folder is written.")

    def handle(self, *, destination, **options):
        try:
            folder = backup(destination, log=self.stdout.write)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Backup written to {folder}"))
