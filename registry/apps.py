from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Model registry"

    def ready(self):
        from catalog import events as catalog_events
        from registry import receivers
        from registry.tabs import register_tabs

        register_tabs()

        catalog_events.assets_removed.connect(receivers.assets_removed, dispatch_uid="registry-versions-removed")
