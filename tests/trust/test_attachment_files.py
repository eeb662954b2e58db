"""Issue attachments: no file without its row, no row without its file (issue 13, item 6)."""

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction

from tests import factories
from tests.trust.test_issue_views import _form, _png
from trust.models import DataIssue, IssueEvent

pytestmark = pytest.mark.django_db(transaction=True)


class KilledMidSubmission(Exception):
    """Stands for the web worker dying after the file was written and before the commit."""


def _files(root):
    return sorted(path.relative_to(root).as_posix() for path in Path(root).rglob("*") if path.is_file())


@pytest.fixture
def orders(owner, team):
    return factories.dataset("Orders", owner=owner, team=team).asset


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_a_submission_killed_between_the_file_write_and_the_commit_leaves_no_file(orders, outsider, media, monkeypatch):
    written = []

    def die_after_the_file_was_written(**kwargs):
        # The issue row is saved inside the transaction by now, and the attachment written.
        written.extend(_files(media))
        raise KilledMidSubmission

    monkeypatch.setattr(IssueEvent.objects, "create", die_after_the_file_was_written)
    with pytest.raises(KilledMidSubmission):
        DataIssue.report(orders, by=outsider, attachment=_png(), **_form())
    monkeypatch.undo()

    assert written, "the attachment was never written, so the test proves nothing"
    assert DataIssue.objects.count() == 0
    assert _files(media) == []


def test_an_outer_rollback_leaves_a_pending_file_the_cleanup_removes_after_an_hour(orders, outsider, media):
    from trust import attachments

    with pytest.raises(KilledMidSubmission), transaction.atomic():
        DataIssue.report(orders, by=outsider, attachment=_png(), **_form())
        raise KilledMidSubmission
    assert DataIssue.objects.count() == 0
    left = _files(media)
    assert left and all(name.startswith("issues/pending/") for name in left)

    call_command("remove_orphan_attachments")  # younger than an hour: left alone, its request may still be running
    assert _files(media) == left
    an_hour_ago = time.time() - 3700
    for name in left:
        os.utime(media / name, (an_hour_ago, an_hour_ago))
    assert attachments.remove_orphans() == (0, len(left))
    assert _files(media) == []


def test_a_committed_issue_has_its_file_in_place_and_it_downloads(orders, owner, outsider, media, client_for):
    issue = DataIssue.report(orders, by=outsider, attachment=_png(), **_form())
    issue.refresh_from_db()
    assert _files(media) == [issue.attachment.name]
    assert issue.attachment.name.startswith("issues/") and issue.attachment.name.endswith("-screenshot.png")
    download = client_for(owner).get(f"{issue.get_absolute_url()}attachment/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"\x89PNG")


def test_a_committed_issue_whose_file_move_was_cut_short_still_downloads_and_is_never_swept(
    orders, owner, outsider, media, client_for, monkeypatch
):
    from trust import attachments

    # Killed after the commit, before the move: the row names the final place, the file is still pending.
    monkeypatch.setattr(attachments, "put_in_place", lambda final: None)
    issue = DataIssue.report(orders, by=outsider, attachment=_png(), **_form())
    monkeypatch.undo()
    issue.refresh_from_db()
    assert _files(media) == [attachments.pending_name(issue.attachment.name)]
    an_hour_ago = time.time() - 3700
    os.utime(media / attachments.pending_name(issue.attachment.name), (an_hour_ago, an_hour_ago))
    assert attachments.remove_orphans(timedelta(hours=1)) == (1, 0)
    assert _files(media) == [issue.attachment.name]
    download = client_for(owner).get(f"{issue.get_absolute_url()}attachment/")
    assert download.status_code == 200


def test_a_stored_file_no_issue_names_is_removed_after_an_hour(orders, outsider, media):
    from trust import attachments

    issue = DataIssue.report(orders, by=outsider, attachment=_png(), **_form())
    stray = media / "issues/2026/11/left-by-an-old-crash.png"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"x")
    an_hour_ago = time.time() - 3700
    for path in (stray, media / issue.attachment.name):
        os.utime(path, (an_hour_ago, an_hour_ago))
    assert attachments.remove_orphans() == (0, 1)
    assert _files(media) == [issue.attachment.name]
