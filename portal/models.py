"""The portal's own rows: when each background process was last seen, for /health/."""

from django.db import models


class ServiceHeartbeat(models.Model):
    """One row per background process kind (``worker``, ``beat``), touched while it is alive."""

    WORKER = "worker"
    BEAT = "beat"

    name = models.CharField(max_length=20, primary_key=True)
    beat_at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def touch(cls, name, at=None):
        from django.utils import timezone

        cls.objects.update_or_create(name=name, defaults={"beat_at": at or timezone.now()})
