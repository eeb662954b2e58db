from django.apps import AppConfig


class TrustConfig(AppConfig):
    name = "trust"
    verbose_name = "Trust"

    def ready(self):
        from trust import downstream_receivers, receivers

        receivers.connect()
        downstream_receivers.connect()
