from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "quality"
    verbose_name = "Data quality"

    def ready(self):
        from quality import receivers

        receivers.connect()
        # The dataset page's Quality tab is this app's page (see ``catalog.tabs``).
        from catalog.choices import AssetKind
        from catalog.tabs import Tab, register

        register(Tab("quality", "Quality", "", kinds=frozenset({AssetKind.DATASET}), order=25,
                     url_name="quality:dataset", slug_only=True))  # fmt: skip
