"""Data issues: problems anyone reports on an asset, routed to its owner and followed to resolution."""

import uuid
from datetime import timedelta
from functools import partial
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone

from catalog.audience import answerable_for, audience_of
from catalog.models import Asset
from core.choices import NotificationKind
from core.notifications import notify
from trust import attachments
from trust.choices import IssueCategory, IssueSeverity, IssueStatus
from trust.events import issue_changed
from trust.models.badges import StoredBadge

# The most rows a periodic sweep handles in one run; the rest waits for the next run.
SWEEP_BATCH = 500


def validate_attachment(upload):
    """Screenshots and small CSV or text samples only: checked by extension, size and content."""
    limit = settings.TRUST_ATTACHMENT_MAX_BYTES
    allowed = settings.TRUST_ATTACHMENT_EXTENSIONS
    extension = Path(upload.name).suffix.lower()
    if extension not in allowed:
        raise ValidationError(
            f"“{extension or 'no extension'}” files are not accepted. Attach a screenshot or a sample: "
            + ", ".join(sorted(allowed))
            + "."
        )
    if upload.size > limit:
        raise ValidationError(
            f"The file is {filesizeformat(upload.size)}; attachments are limited to {filesizeformat(limit)}."
        )
    if isinstance(upload, FieldFile):
        # An attachment already stored was checked when it arrived; only a new upload is read.
        if upload._committed:
            return
        upload = upload.file
    upload.seek(0)
    head = upload.read(64 * 1024)
    upload.seek(0)
    if extension in (".csv", ".txt"):
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError("This file is not readable text; attach a CSV or text sample.") from None
    else:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(upload) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError):
            raise ValidationError("This file is not a readable image; attach a PNG, JPEG, GIF or WebP.") from None
        finally:
            upload.seek(0)


class DataIssue(models.Model):
    """A problem someone found with an asset, routed to its owner and team.

    State machine (``TRANSITIONS``): open → acknowledged → in progress → resolved | won't fix | duplicate, and any
    closed issue may be reopened. Each move is a compare-and-set on ``status`` plus an ``IssueEvent`` row, which is
    the issue's history. ``acknowledge_by`` is the stored deadline for the owner's first response, from the
    severity's limit in settings; the sweep alerts the owner's team once it passes (``acknowledge_alert_at``).
    """

    OPEN_STATES = (IssueStatus.OPEN, IssueStatus.ACKNOWLEDGED, IssueStatus.IN_PROGRESS)
    # Severities that change a trust badge while the issue is open, on its asset and downstream.
    SERIOUS = (IssueSeverity.CRITICAL, IssueSeverity.MAJOR)
    CLOSED_STATES = (IssueStatus.RESOLVED, IssueStatus.WONT_FIX, IssueStatus.DUPLICATE)
    TRANSITIONS = {
        IssueStatus.OPEN: {IssueStatus.ACKNOWLEDGED, IssueStatus.IN_PROGRESS, *CLOSED_STATES},
        IssueStatus.ACKNOWLEDGED: {IssueStatus.IN_PROGRESS, *CLOSED_STATES},
        IssueStatus.IN_PROGRESS: {*CLOSED_STATES},
        IssueStatus.RESOLVED: {IssueStatus.OPEN},
        IssueStatus.WONT_FIX: {IssueStatus.OPEN},
        IssueStatus.DUPLICATE: {IssueStatus.OPEN},
    }

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="data_issues")
    title = models.CharField(max_length=200, help_text="One line: what is wrong.")
    description = models.TextField("what is wrong", help_text="What you saw, where, and what you expected instead.")
    category = models.CharField(max_length=20, choices=IssueCategory.choices)
    severity = models.CharField(max_length=20, choices=IssueSeverity.choices)
    status = models.CharField(max_length=20, choices=IssueStatus.choices, default=IssueStatus.OPEN, db_index=True)
    affected_columns = models.CharField(max_length=500, blank=True, help_text="Comma-separated column names.")
    affected_from = models.DateField(null=True, blank=True, help_text="First day with wrong data, if known.")
    affected_until = models.DateField(null=True, blank=True, help_text="Last day with wrong data, if known.")
    attachment = models.FileField(
        upload_to="issues/%Y/%m/", blank=True, validators=[validate_attachment], help_text="A screenshot or CSV sample."
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="reported_issues"
    )
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    acknowledge_by = models.DateTimeField(null=True, blank=True)
    acknowledge_alert_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["asset", "status"], name="issue_by_asset_status"),
            # The acknowledgement sweep reads only open issues past their deadline that were not alerted yet.
            models.Index(
                fields=["acknowledge_by"],
                condition=Q(status="open", acknowledge_alert_at__isnull=True),
                name="issue_ack_sweep",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("trust:issue_detail", kwargs={"uuid": self.uuid})

    @property
    def is_open(self):
        return self.status in self.OPEN_STATES

    def allowed_transitions(self):
        return [status for status in IssueStatus if status in self.TRANSITIONS[self.status]]

    def clean(self):
        errors = {}
        if not self.title.strip():
            errors["title"] = "Give the problem a short title."
        if not self.description.strip():
            errors["description"] = "Say what is wrong, so the owner can find it."
        if self.affected_from and self.affected_until and self.affected_until < self.affected_from:
            errors["affected_until"] = "The end of the affected period is before its start."
        if errors:
            raise ValidationError(errors)

    @classmethod
    def report(cls, asset, *, by, **fields):
        """File an issue and route it to the asset's owner, team and watchers.

        An attachment is written under a pending name first and moves to the name its row holds once the row is
        committed; a rollback deletes it (``trust.attachments``): no file without its row, no row without its file.
        """
        upload = fields.pop("attachment", None) or None
        issue = cls(asset=asset, reported_by=by, **fields)
        if upload is not None:
            issue.attachment = upload
        issue.full_clean()
        hours = settings.TRUST_ISSUE_ACKNOWLEDGE_HOURS[issue.severity]
        issue.acknowledge_by = timezone.now() + timedelta(hours=hours)
        final = None
        if upload is not None:
            final = attachments.final_name(issue, upload.name)
            attachments.stage(upload, final)
            # A stored name: saving the row writes no file.
            issue.attachment = final
        try:
            with transaction.atomic():
                issue.save()
                IssueEvent.objects.create(issue=issue, author=by, to_status=IssueStatus.OPEN, body="Reported.")
                if issue.severity in cls.SERIOUS:
                    # A new minor issue changes no badge.
                    StoredBadge.invalidate([asset.pk], downstream=True)
                notify(
                    audience_of(asset).exclude(pk=by.pk),
                    kind=NotificationKind.ISSUE,
                    title=f"New {issue.severity} issue on {asset.name}: {issue.title}",
                    body=f"{issue.description}\n\nPlease acknowledge within {hours} hours.",
                    url=issue.get_absolute_url(),
                    asset=asset,
                )
                issue_changed.send(sender=cls, issue=issue, old_status=None)
                if final:
                    # robust: a failed move is logged, never a 500 for a saved issue; reading or the sweep finishes it.
                    transaction.on_commit(partial(attachments.put_in_place, final), robust=True)
        except BaseException:
            if final:
                attachments.discard(final)
            raise
        return issue

    def transition(self, to, *, by, comment="", duplicate_of=None):
        """Move the issue to ``to``; only people who may change the asset can. Tells the reporter and watchers."""
        if not self.asset.can_edit(by):
            raise PermissionDenied("Only the owner, the owning team or staff can change the status of this issue.")
        if to not in IssueStatus.values or to not in self.TRANSITIONS[self.status]:
            label = IssueStatus(to).label if to in IssueStatus.values else to
            raise ValidationError(
                {"status": f"An issue that is {self.get_status_display().lower()} cannot become “{label}”."}
            )
        if to == IssueStatus.DUPLICATE and (duplicate_of is None or duplicate_of.pk == self.pk):
            raise ValidationError({"duplicate_of": "Say which other issue this one duplicates."})
        now = timezone.now()
        changes = {
            "status": to,
            "updated_at": now,
            "duplicate_of": duplicate_of if to == IssueStatus.DUPLICATE else None,
        }
        if self.acknowledged_at is None and to != IssueStatus.OPEN:
            changes["acknowledged_at"] = now
        changes["closed_at"] = now if to in self.CLOSED_STATES else None
        with transaction.atomic():
            if not DataIssue.objects.filter(pk=self.pk, status=self.status).update(**changes):
                raise ValidationError("Someone changed this issue meanwhile; reload the page and try again.")
            old = self.status
            if self.severity in self.SERIOUS and (old in self.OPEN_STATES) != (to in self.OPEN_STATES):
                StoredBadge.invalidate([self.asset_id], downstream=True)
            self.refresh_from_db()
            IssueEvent.objects.create(issue=self, author=by, from_status=old, to_status=to, body=comment)
            issue_changed.send(sender=DataIssue, issue=self, old_status=old)
            self._tell(
                f"{self.asset.name}: “{self.title}” is now {self.get_status_display().lower()}",
                comment
                or f"{by} moved it from {IssueStatus(old).label.lower()} to {self.get_status_display().lower()}.",
                actor=by,
            )

    def comment(self, *, by, body):
        if not body.strip():
            raise ValidationError({"body": "Write something before sending."})
        event = IssueEvent.objects.create(issue=self, author=by, body=body)
        self._tell(f"New comment on “{self.title}” ({self.asset.name})", body, actor=by)
        return event

    def _tell(self, title, body, actor):
        recipients = list(audience_of(self.asset))
        if self.reported_by_id:
            recipients.append(self.reported_by)
        notify(
            [user for user in recipients if user.pk != actor.pk],
            kind=NotificationKind.ISSUE,
            title=title,
            body=body,
            url=self.get_absolute_url(),
            asset=self.asset,
        )

    @classmethod
    def alert_unacknowledged(cls, now=None, limit=SWEEP_BATCH):
        """The sweep: alert the owner's team about issues still open past their acknowledgement deadline, at most
        ``limit`` a run, oldest deadline first (read from the ``issue_ack_sweep`` index)."""
        now = now or timezone.now()
        overdue = cls.objects.filter(
            status=IssueStatus.OPEN, acknowledge_alert_at__isnull=True, acknowledge_by__lte=now
        ).select_related("asset")
        with transaction.atomic():
            # Claimed first, the batch in one UPDATE; a sweep running at the same time skips the locked rows, so
            # each issue is alerted once.
            overdue = list(
                overdue.order_by("acknowledge_by", "pk").select_for_update(skip_locked=True, of=("self",))[:limit]
            )
            cls.objects.filter(pk__in=[issue.pk for issue in overdue]).update(acknowledge_alert_at=now)
        for issue in overdue:
            asset = issue.asset
            notify(
                answerable_for(asset),
                kind=NotificationKind.ISSUE,
                title=f"Not acknowledged in time: {issue.severity} issue on {asset.name}",
                body=f"“{issue.title}” was reported {timezone.localtime(issue.created_at):%d %b %H:%M} and nobody "
                f"has acknowledged it. Open it and acknowledge it, or say why not.",
                url=issue.get_absolute_url(),
                asset=asset,
            )
        return len(overdue)


class IssueEvent(models.Model):
    """One line of an issue's history: a comment, a status change (with its optional comment), or both."""

    issue = models.ForeignKey(DataIssue, on_delete=models.CASCADE, related_name="events")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    from_status = models.CharField(max_length=20, choices=IssueStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=IssueStatus.choices, blank=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.issue}: {self.to_status or 'comment'}"
