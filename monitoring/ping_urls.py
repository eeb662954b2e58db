from django.urls import path

from monitoring.choices import PingKind
from monitoring.pings import ping

app_name = "ping"

# No trailing slash, as healthchecks.io: the URL is typed into cron lines and curl commands.
urlpatterns = [
    path("<uuid:key>", ping, name="success"),
    path("<uuid:key>/start", ping, {"kind": PingKind.START}, name="start"),
    path("<uuid:key>/fail", ping, {"kind": PingKind.FAIL}, name="fail"),
]
