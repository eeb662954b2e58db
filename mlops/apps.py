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
