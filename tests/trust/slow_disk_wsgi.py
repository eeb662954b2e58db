"""The portal's WSGI application with a slow disk for issue attachments, for ``test_attachment_kills.py``: writing
the pending file and moving it into place each take ``PORTAL_TEST_SLOW_DISK`` seconds more, so that a test can kill
the web worker (SIGKILL) while a submission sits between the two, as a real kill lands at any moment."""

import os
import time

from portal.wsgi import application
from trust import attachments

PAUSE = float(os.environ.get("PORTAL_TEST_SLOW_DISK", "3"))
_stage, _put_in_place = attachments.stage, attachments.put_in_place


def _slow_stage(upload, final):
    staged = _stage(upload, final)
    time.sleep(PAUSE)  # written, the issue not saved yet
    return staged


def _slow_put_in_place(final):
    time.sleep(PAUSE)  # the issue committed, its file still pending
    return _put_in_place(final)


attachments.stage, attachments.put_in_place = _slow_stage, _slow_put_in_place
__all__ = ["application"]
