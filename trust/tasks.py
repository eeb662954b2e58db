"""Periodic trust sweeps. Each is idempotent: a second run, or two at once, sends nothing twice."""

from celery import shared_task

from trust.badges import badges_for, refresh_expired, refresh_stale
from trust.models import DataIssue, Deprecation, RequirementsReview, ReviewNotice


@shared_task
def retire_due_deprecations():
    return Deprecation.retire_due()


@shared_task
def alert_unacknowledged_issues():
    return DataIssue.alert_unacknowledged()


@shared_task
def send_review_notices():
    """Daily: data reviews, and the requirements reviews of reports and models."""
    return ReviewNotice.send_due() + RequirementsReview.send_due()


@shared_task
def refresh_stale_badges():
    """After an event (enqueued on commit) and every minute: recompute the stale stored badges. Claims its rows,
    so runs that overlap share the work; stops after 50 seconds and leaves the rest to the next run."""
    return refresh_stale(seconds=50)


@shared_task
def refresh_expired_badges():
    """Every 30 seconds: recompute the stored badges whose time ran out, so search and lists find them current
    (search serves an expired badge as it was, with its age, rather than compute it in the request)."""
    return refresh_expired(seconds=25)


@shared_task
def store_badges(asset_ids):
    """Compute and store the badges an asset page found missing or expired: the page only reads, so it asks here.
    Those stored and current by now (a second request, the refresher) are only read; ids of deleted assets are
    skipped."""
    return len(badges_for(asset_ids))


@shared_task
def remove_orphan_attachments():
    """Hourly: attachment files older than an hour that no committed issue names are removed (a web worker killed
    mid-submission leaves one); a committed issue's file whose move was cut short is put in place."""
    from trust.attachments import remove_orphans

    return remove_orphans()


@shared_task
def fan_out_problem(notice_id):
    """Tell everyone downstream about one problem's transition (``trust.downstream.fan_out``): claimed by a
    compare-and-set, so a duplicated task tells nobody twice; a notice gone or already sent is left alone."""
    from trust.downstream import fan_out

    return fan_out(notice_id)


@shared_task
def relay_problem_notices():
    """Every minute: fan-outs whose task never reached a worker, or whose worker was lost, are sent again."""
    from trust.downstream import relay

    return relay()


@shared_task
def tell_deprecation(deprecation_id, what):
    """Tell the people of a deprecation's announcement (announced, withdrawn, retired): claimed by a compare-and-set,
    so a duplicated task tells nobody twice."""
    return Deprecation.tell(deprecation_id, what)


@shared_task
def relay_deprecations():
    """Every minute: deprecation announcements whose task never reached a worker are sent again."""
    return Deprecation.relay()
