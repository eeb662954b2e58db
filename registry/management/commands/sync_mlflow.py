from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from registry.mlflow_sync import MlflowUnavailable, sync


class Command(BaseCommand):
    help = "Import registered models, versions, tags and aliases from MLFLOW_TRACKING_URI. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--tracking-uri", default=None, help=f"Default: {settings.MLFLOW_TRACKING_URI}")

    def handle(self, tracking_uri=None, **options):
        try:
            counts = sync(tracking_uri=tracking_uri)
        except MlflowUnavailable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(", ".join(f"{name.replace('_', ' ')}: {count}" for name, count in counts.items()))
