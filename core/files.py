"""Files people name by a path under DATA_ROOT: never anything outside it."""

from pathlib import Path

from django.conf import settings


class OutsideDataRoot(ValueError):
    """The path leads outside DATA_ROOT (an absolute path, ``..``, or a link out)."""


def inside_data_root(relative):
    """The resolved path of ``relative`` under DATA_ROOT; raises ``OutsideDataRoot`` when it leads out of it."""
    root = Path(settings.DATA_ROOT).resolve()
    path = (root / (relative or "")).resolve()
    if not path.is_relative_to(root):
        raise OutsideDataRoot(f"'{relative}' is outside DATA_ROOT.")
    return path
