from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import demo as accounts_demo
from catalog import demo as catalog_demo
from catalog.choices import AssetKind
from catalog.models import Asset
from catalog.search import reindex
from mlops import demo as mlops_demo
from monitoring import demo as monitoring_demo
from quality import demo as quality_demo
from registry import demo as registry_demo
from trust import demo as trust_demo


class Command(BaseCommand):
    help = "Load the demo company (teams, people, catalog, models). Safe to run again: it updates, never duplicates."

    def handle(self, **options):
        with transaction.atomic():
            teams, users = accounts_demo.load()
            assets = catalog_demo.load(teams, users)
            registry_demo.load(teams, users, assets)
            monitoring_demo.load(teams, users, assets)
            registry_demo.load_training(users)
            quality_demo.load()
            mlops_demo.load(teams, users)
            trust_demo.load(teams, users, assets)
            # The registry's demo writes its rows directly; make its models findable by their descriptions too.
            reindex(
                Asset.objects.filter(kind__in=[AssetKind.MODEL, AssetKind.MODEL_VERSION]).values_list("pk", flat=True)
            )
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
