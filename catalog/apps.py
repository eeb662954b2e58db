from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Data catalog"

    def ready(self):
        from catalog import lookups  # noqa: F401 -- registers ``__any_of`` on every field
