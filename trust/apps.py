from django.apps import AppConfig


class TrustConfig(AppConfig):
    name = "trust"
    verbose_name = "Trust"

    def ready(self):
        from trust import signals  # noqa: F401  (connects the receivers that keep stored badges true)
