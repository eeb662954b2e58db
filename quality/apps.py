from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "quality"
    verbose_name = "Data quality"

    def ready(self):
        from quality import receivers

        receivers.connect()
