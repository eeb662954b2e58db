from django.shortcuts import render

from monitoring.choices import NotificationKind
from monitoring.models import Notification

ALERT_KINDS = [NotificationKind.FRESHNESS, NotificationKind.JOB, NotificationKind.DRIFT, NotificationKind.SCHEMA_CHANGE]


def index(request):
    alerts = Notification.objects.filter(recipient=request.user, kind__in=ALERT_KINDS).select_related("asset")[:50]
    return render(request, "monitoring/index.html", {"alerts": alerts, "nav": "monitoring"})
