from django.apps import AppConfig


class TrustConfig(AppConfig):
    name = "trust"
    verbose_name = "Trust"

    def ready(self):
        from trust import downstream_receivers, receivers

        receivers.connect()
        downstream_receivers.connect()

        from catalog import events
        from trust import dependencies

        # Consumers of the changed columns are told before the general notice, the others left out of it.
        events.schema_changing.connect(dependencies.schema_changing, dispatch_uid="trust-dependency-schema-changing")
