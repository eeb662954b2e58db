"""Periodic trust sweeps. Each is idempotent: a second run, or two at once, sends nothing twice."""

from celery import shared_task

from trust.models import DataIssue, Deprecation, ReviewNotice


@shared_task
def retire_due_deprecations():
    return Deprecation.retire_due()


@shared_task
def alert_unacknowledged_issues():
    return DataIssue.alert_unacknowledged()


@shared_task
def send_review_notices():
    return ReviewNotice.send_due()
