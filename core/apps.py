from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CoreConfig(AppConfig):
    """The layer every app builds on: background jobs, notifications, locks, and shared web helpers."""

    name = "core"
    verbose_name = "Jobs and notifications"

    def ready(self):
        from core import lookups  # noqa: F401 -- registers ``__any_of`` on every field

        # Each app's ``jobs.py`` registers its job handlers: imported here, in every process, so a worker never
        # meets a kind of job it has no handler for.
        autodiscover_modules("jobs")
