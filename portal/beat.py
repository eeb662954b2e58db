"""Celery beat's scheduler, noting each tick in the database so /health/ can tell a live beat from a dead one."""

import logging
import time

from django.db import DatabaseError, close_old_connections
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)

# Seconds between two notes of beat's tick: often enough for a 3-minute staleness limit, rare enough to cost nothing.
TICK_NOTE_EVERY = 15


class PortalScheduler(DatabaseScheduler):
    """django-celery-beat's scheduler (schedules in the database, editable in the admin), plus a heartbeat row."""

    _tick_noted_at = 0.0

    def tick(self, *args, **kwargs):
        interval = super().tick(*args, **kwargs)
        now = time.monotonic()
        if now - self._tick_noted_at >= TICK_NOTE_EVERY:
            self._tick_noted_at = now
            from portal.models import ServiceHeartbeat

            try:
                ServiceHeartbeat.touch(ServiceHeartbeat.BEAT)
            except DatabaseError:
                # The database is away: /health/ says so itself; beat keeps ticking and, with a fresh connection
                # once this broken one is dropped, notes a later tick.
                logger.warning("Could not note beat's tick: the database is unavailable.", exc_info=True)
                close_old_connections()
        return min(interval, TICK_NOTE_EVERY) if interval else interval
