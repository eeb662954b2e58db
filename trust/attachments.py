"""Issue attachments on disk: no file without its row, no row without its file.

A new attachment is written under ``issues/pending/`` before the issue's transaction, its row names the final
place (``issues/<year>/<month>/<issue uuid>-<file name>``), and the file moves there once the row is committed.
If the transaction rolls back, the pending file is deleted at once. If the process dies in between (a web worker
killed mid-submission), what is left is a pending file: ``remove_orphans`` (hourly on beat, and the
``remove_orphan_attachments`` command) moves it into place when a committed row names it, and deletes it when
none does. Reading an attachment also finishes a move that a dying process left undone (``ensure_in_place``).
"""

import logging
import os
import time
from datetime import timedelta
from pathlib import Path

from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.text import get_valid_filename

logger = logging.getLogger(__name__)

ROOT = "issues/"
PENDING = "issues/pending/"
# FileField's default max_length.
NAME_MAX = 100


def final_name(issue, upload_name, now=None):
    """Unique by the issue's UUID, so the storage never renames it; the file name is shortened to fit the column
    (a name we build, not text a person typed)."""
    folder = f"{ROOT}{(now or timezone.now()):%Y/%m}/{issue.uuid.hex}-"
    name = get_valid_filename(Path(upload_name).name) or "attachment"
    room = NAME_MAX - len(PENDING) - len(folder) + len(ROOT)
    if len(name) > room:
        stem, suffix = os.path.splitext(name)
        name = stem[: max(room - len(suffix), 1)] + suffix
    return folder + name


def pending_name(final):
    return PENDING + final.removeprefix(ROOT)


def stage(upload, final):
    """Writes the upload under its pending name; returns that name."""
    upload.seek(0)
    staged = default_storage.save(pending_name(final), upload)
    if staged != pending_name(final):  # only if a file was there already, which a UUID rules out
        raise RuntimeError(f"Pending attachment {pending_name(final)} exists already.")
    return staged


def put_in_place(final):
    """Moves the pending file to its final name; harmless when it is there already."""
    source, target = Path(default_storage.path(pending_name(final))), Path(default_storage.path(final))
    if not source.exists():
        return target.exists()
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
    return True


def discard(final):
    default_storage.delete(pending_name(final))


def ensure_in_place(final):
    """True when the file is at its final name, finishing a move that a dying process left undone."""
    return default_storage.exists(final) or put_in_place(final)


def _files_under(folder):
    base = Path(default_storage.path(folder))
    if not base.is_dir():
        return
    for path in base.rglob("*"):
        if path.is_file():
            yield path, ROOT + path.relative_to(Path(default_storage.path(ROOT))).as_posix()


def remove_orphans(older_than=timedelta(hours=1)):
    """Leftovers older than ``older_than``: a pending file whose row was committed goes into place, one without a
    row is deleted, and so is a stored file no issue names (its issue was deleted). Returns (moved, removed)."""
    from trust.models import DataIssue

    cutoff = time.time() - older_than.total_seconds()
    moved = removed = 0
    candidates = {}
    for path, name in _files_under(ROOT):
        if path.stat().st_mtime < cutoff:
            final = ROOT + name.removeprefix(PENDING) if name.startswith(PENDING) else name
            candidates[name] = final
    finals = sorted(set(candidates.values()))
    named = set()
    for start in range(0, len(finals), 500):
        named.update(
            DataIssue.objects.filter(attachment__in=finals[start : start + 500]).values_list("attachment", flat=True)
        )
    for name, final in candidates.items():
        if final in named:
            if name != final:
                put_in_place(final)
                moved += 1
            continue
        default_storage.delete(name)
        removed += 1
    if moved or removed:
        logger.info("Orphan attachments: %d moved into place, %d removed.", moved, removed)
    return moved, removed
