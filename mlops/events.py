"""The MLOps app's domain events, sent by the function that writes the change (``mlops.monitoring``)."""

from django.dispatch import Signal

# model_id (the model's asset id), old and new status (``MonitoringStatus`` values), reason: a model's monitoring
# status changed (a drift or performance alert raised or cleared). Sent inside the monitoring run's transaction.
monitoring_changed = Signal()


def send_monitoring_changed(model_id, old, new, reason=""):
    monitoring_changed.send(sender="mlops", model_id=model_id, old=old, new=new, reason=reason)
