from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Data catalog"

    def ready(self):
        from catalog.audience import audience_of
        from core.notifications import provide_audience

        provide_audience(audience_of)
