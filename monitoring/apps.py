from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self):
        from catalog import events as catalog_events
        from monitoring import drift

        # A pipeline run that completed through OpenLineage is checked for drift like a heartbeat's run.
        catalog_events.run_completed.connect(drift.run_completed, dispatch_uid="monitoring-drift-run-completed")
