from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import demo as accounts_demo
from catalog import demo as catalog_demo
from monitoring import demo as monitoring_demo
from registry import demo as registry_demo


class Command(BaseCommand):
    help = "Load the demo company (teams, people, catalog, models). Safe to run again: it updates, never duplicates."

    def handle(self, **options):
        with transaction.atomic():
            teams, users = accounts_demo.load()
            assets = catalog_demo.load(teams, users)
            registry_demo.load(teams, users, assets)
            monitoring_demo.load(teams, users, assets)
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
