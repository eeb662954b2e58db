from django.apps import AppConfig


class TrustConfig(AppConfig):
    name = "trust"
    verbose_name = "Trust"

    def ready(self):
        from trust import receivers

        receivers.connect()

        from catalog import events
        from trust import dependencies

        # Consumers of the changed columns are told before the general notice, the others left out of it.
        events.schema_changed.connect(dependencies.schema_changed, dispatch_uid="trust-dependency-schema-changed")
