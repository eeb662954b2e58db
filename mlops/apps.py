from django.apps import AppConfig


class MlopsConfig(AppConfig):
    """What happens to a model after go-live: prediction logs, outcomes, monitoring, challengers, delivery hooks."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "mlops"
    verbose_name = "MLOps"

    def ready(self):
        from mlops import receivers
        from registry import events

        events.version_promoted.connect(receivers.version_promoted, dispatch_uid="mlops-version-promoted")
        # The model page's Monitoring tab is this app's page (see ``catalog.tabs``).
        from catalog.choices import AssetKind
        from catalog.tabs import Tab, register

        register(Tab("monitoring", "Monitoring", "", kinds=frozenset({AssetKind.MODEL}), order=15,
                     url_name="mlops:monitoring", slug_only=True))  # fmt: skip
