import logging
import secrets
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, OperationalError, connection, models, transaction
from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.db.models.fields.files import FieldFile
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone

from catalog import assets
from catalog.audience import answerable_for, audience_of
from catalog.choices import AssetKind, Lifecycle
from catalog.lineage import MAX_DEPTH, walk
from catalog.models import Asset
from core.background import wake
from core.choices import NotificationKind
from core.notifications import notify
from trust.choices import DeprecationState, IssueCategory, IssueSeverity, IssueStatus, ReviewNoticeKind, TrustLevel

logger = logging.getLogger(__name__)

# The most rows a periodic sweep handles in one run; the rest waits for the next run.
SWEEP_BATCH = 500


class Certification(models.Model):
    """The owner's signed statement that an asset is fit for its intended use, until ``expires_on``.

    Rows are never edited: renewing adds a row, so the history of who vouched for what stays. Only the newest row
    counts, and only while its author still owns the asset.
    """

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="certifications")
    certified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    certified_at = models.DateTimeField(auto_now_add=True)
    expires_on = models.DateField(help_text="After this date the certification no longer counts; renew it before.")
    statement = models.TextField(blank=True, help_text="What you checked, in a sentence or two.")

    class Meta:
        ordering = ["-certified_at", "-pk"]
        indexes = [models.Index(fields=["asset", "-certified_at"], name="certification_latest")]

    def __str__(self):
        return f"{self.asset} certified until {self.expires_on}"

    def clean(self):
        today = timezone.localdate()
        longest = settings.TRUST_CERTIFICATION_MAX_DAYS
        if self.expires_on and self.expires_on <= today:
            raise ValidationError({"expires_on": "The expiry date must be in the future."})
        if self.expires_on and self.expires_on > today + timedelta(days=longest):
            raise ValidationError({"expires_on": f"A certification lasts at most {longest} days; renew it then."})

    @classmethod
    def certify(cls, asset, *, by, expires_on, statement=""):
        if asset.owner_id != by.pk:
            raise PermissionDenied("Only the owner of an asset can certify it.")
        certification = cls(asset=asset, certified_by=by, expires_on=expires_on, statement=statement)
        certification.full_clean()
        with transaction.atomic():
            certification.save()
            StoredBadge.invalidate([asset.pk])
        return certification


class Review(models.Model):
    """Someone checked the asset (data, documentation, owner) and set when it must be checked again."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="reviews")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    reviewed_at = models.DateTimeField(auto_now_add=True)
    comment = models.TextField(blank=True)
    next_review_date = models.DateField()

    class Meta:
        ordering = ["-reviewed_at", "-pk"]

    def __str__(self):
        return f"{self.asset} reviewed {self.reviewed_at:%Y-%m-%d}"

    @classmethod
    def mark_reviewed(cls, asset, *, by, comment="", interval_days=None):
        """Record the review and move the asset's next review date ``interval_days`` ahead (its own interval)."""
        if not asset.can_edit(by):
            raise PermissionDenied("Only the owner, the owning team or staff can review this asset.")
        interval_days = interval_days or asset.review_interval_days or settings.TRUST_DEFAULT_REVIEW_INTERVAL_DAYS
        if not 1 <= interval_days <= 3650:
            raise ValidationError({"interval_days": "Choose an interval between 1 and 3650 days."})
        next_date = timezone.localdate() + timedelta(days=interval_days)
        with transaction.atomic():
            review = cls.objects.create(asset=asset, reviewed_by=by, comment=comment, next_review_date=next_date)
            assets.schedule_review(asset, interval_days, next_date)
        return review


class ReviewNotice(models.Model):
    """A reminder or overdue alert sent for one review date. The unique row makes the daily sweep send each once."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="review_notices")
    due_date = models.DateField()
    kind = models.CharField(max_length=20, choices=ReviewNoticeKind.choices)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["asset", "due_date", "kind"], name="reviewnotice_once_per_due_date")
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.asset} ({self.due_date})"

    @classmethod
    def send_due(cls, today=None, limit=SWEEP_BATCH):
        """Remind owners of reviews coming up and alert their teams about overdue ones. Returns notices sent.

        Reads only assets due for a notice they have not had (the unique index answers "sent already?"), at most
        ``limit`` a run, earliest date first: a backlog is worked off over the next runs instead of stalling one.
        """
        today = today or timezone.localdate()
        soon = today + timedelta(days=settings.TRUST_REVIEW_REMINDER_DAYS)
        notice_kind = Case(
            When(next_review_date__lt=today, then=Value(ReviewNoticeKind.OVERDUE)),
            default=Value(ReviewNoticeKind.REMINDER),
        )
        sent_already = cls.objects.filter(
            asset=OuterRef("pk"), due_date=OuterRef("next_review_date"), kind=OuterRef("notice_kind")
        )
        # Which assets are due is answered from the asset_review_due index and the notices' unique index alone;
        # only the batch's own rows are read from the table.
        due_ids = (
            Asset.objects.visible()
            .filter(next_review_date__lte=soon)
            .annotate(notice_kind=notice_kind)
            .exclude(Exists(sent_already))
            .order_by("next_review_date", "pk")
            .values("pk")[:limit]
        )
        due = Asset.objects.filter(pk__in=due_ids).annotate(notice_kind=notice_kind).order_by("next_review_date", "pk")
        try:
            with transaction.atomic():
                # Claimed first, the batch in one INSERT: a sweep running at the same time skips the locked assets,
                # and once the notices commit they are no longer due, so each is sent once.
                due = list(due.select_related("owner", "team").select_for_update(skip_locked=True, of=("self",)))
                cls.objects.bulk_create(
                    cls(asset=asset, due_date=asset.next_review_date, kind=asset.notice_kind) for asset in due
                )
        except IntegrityError:
            # Another sweep committed notices for some of these between this one's read and its insert: they are
            # that sweep's to send, and the next run takes the rest.
            return 0
        for asset in due:
            kind = asset.notice_kind
            if kind == ReviewNoticeKind.OVERDUE:
                title = f"Review overdue: {asset.name} was due on {asset.next_review_date:%d %b %Y}"
            else:
                title = f"Review due soon: {asset.name} on {asset.next_review_date:%d %b %Y}"
            notify(
                answerable_for(asset),
                kind=NotificationKind.REVIEW,
                title=title,
                body="Check the data, its documentation and its owner, then use “Mark reviewed” on its page.",
                url=reverse("trust:mark_reviewed", kwargs={"kind": asset.kind, "slug": asset.slug}),
                asset=asset,
            )
        return len(due)


class Deprecation(models.Model):
    """An announcement that an asset will be retired on ``sunset_date``, with the asset to use instead.

    State machine: announced → withdrawn (by the owner, before the date) | retired (by the daily sweep on the date).
    The asset's own ``lifecycle`` follows: deprecated while announced, active again when withdrawn, retired after.
    Everything downstream at announcement time gets an impact row its owners acknowledge once they have migrated.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="deprecations")
    reason = models.TextField(help_text="Why it is going away, in words its users understand.")
    replacement = models.ForeignKey(
        Asset, null=True, blank=True, on_delete=models.SET_NULL, related_name="replaces", help_text="Use this instead."
    )
    sunset_date = models.DateField(help_text="On this date the asset is retired: hidden from search, page kept.")
    state = models.CharField(max_length=20, choices=DeprecationState.choices, default=DeprecationState.ANNOUNCED)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset"], condition=Q(state=DeprecationState.ANNOUNCED), name="deprecation_one_announced"
            )
        ]
        # The daily sweep looks for announced deprecations whose date has come.
        indexes = [models.Index(fields=["state", "sunset_date"], name="deprecation_sweep")]

    def __str__(self):
        return f"{self.asset} deprecated, sunset {self.sunset_date}"

    def get_absolute_url(self):
        return reverse("trust:deprecation_detail", kwargs={"uuid": self.uuid})

    def clean(self):
        errors = {}
        if not self.reason.strip():
            errors["reason"] = "Say why it is being deprecated, so its users can decide what to do."
        if self._state.adding and self.sunset_date and self.sunset_date <= timezone.localdate():
            errors["sunset_date"] = "The sunset date must be in the future, so users have time to move."
        if self.replacement_id and self.replacement_id == self.asset_id:
            errors["replacement"] = "An asset cannot replace itself."
        elif self.replacement_id and self.replacement.lifecycle != Lifecycle.ACTIVE:
            errors["replacement"] = "The replacement is itself deprecated or retired; choose an active asset."
        if self._state.adding and self.asset_id and self.asset.lifecycle != Lifecycle.ACTIVE:
            errors["__all__"] = f"This asset is already {self.asset.get_lifecycle_display().lower()}."
        if errors:
            raise ValidationError(errors)

    @classmethod
    def propose(cls, asset, *, by, reason, sunset_date, replacement=None):
        """Announce the deprecation, list what is downstream and tell those owners and the watchers."""
        if not asset.can_edit(by):
            raise PermissionDenied("Only the owner, the owning team or staff can deprecate this asset.")
        deprecation = cls(asset=asset, proposed_by=by, reason=reason, sunset_date=sunset_date, replacement=replacement)
        deprecation.full_clean()
        with transaction.atomic():
            if not assets.move_lifecycle(asset, Lifecycle.DEPRECATED, only_from=Lifecycle.ACTIVE):
                raise ValidationError("Someone deprecated this asset meanwhile.")
            deprecation.save()
            downstream = walk([asset.pk], direction="down", max_depth=MAX_DEPTH)
            DeprecationImpact.objects.bulk_create(
                DeprecationImpact(deprecation=deprecation, asset_id=pk, hops=hops) for pk, hops in downstream.items()
            )
            deprecation._tell("announced", by)
        return deprecation

    def withdraw(self, *, by):
        if not self.asset.can_edit(by):
            raise PermissionDenied("Only the owner, the owning team or staff can withdraw this deprecation.")
        now = timezone.now()
        with transaction.atomic():
            if not Deprecation.objects.filter(pk=self.pk, state=DeprecationState.ANNOUNCED).update(
                state=DeprecationState.WITHDRAWN, withdrawn_by=by, withdrawn_at=now
            ):
                raise ValidationError("Only an announced deprecation can be withdrawn; this one is not any more.")
            assets.move_lifecycle(self.asset, Lifecycle.ACTIVE, only_from=Lifecycle.DEPRECATED)
            self.refresh_from_db()
            self.asset.refresh_from_db(fields=["lifecycle"])
            self._tell("withdrawn", by)

    def retire(self, today=None):
        """Retire the asset once the sunset date has come. False when it is not due or already done elsewhere."""
        today = today or timezone.localdate()
        with transaction.atomic():
            if not Deprecation.objects.filter(
                pk=self.pk, state=DeprecationState.ANNOUNCED, sunset_date__lte=today
            ).update(state=DeprecationState.RETIRED, retired_at=timezone.now()):
                return False
            assets.move_lifecycle(self.asset, Lifecycle.RETIRED)
            self.refresh_from_db()
            self.asset.refresh_from_db(fields=["lifecycle"])
            if self.asset.kind == AssetKind.MODEL_VERSION:
                _retire_model_version(self.asset)
            self._tell("retired", None)
        return True

    @classmethod
    def retire_due(cls, today=None, limit=SWEEP_BATCH):
        """The sweep: retire the assets whose sunset date has come, at most ``limit`` a run (each tells everything
        downstream). Returns how many were retired."""
        today = today or timezone.localdate()
        due = cls.objects.filter(state=DeprecationState.ANNOUNCED, sunset_date__lte=today).select_related("asset")
        return sum(1 for deprecation in due.order_by("sunset_date", "pk")[:limit] if deprecation.retire(today))

    def audience(self):
        """The asset's owner, team and watchers, plus the owners, teams and watchers of everything downstream."""
        downstream = self.impacts.values("asset_id")
        users = get_user_model().objects.filter(is_active=True)
        affected = users.filter(
            Q(owned_assets__in=downstream) | Q(teams__assets__in=downstream) | Q(watches__asset__in=downstream)
        )
        return [*audience_of(self.asset), *affected.distinct()]

    def _tell(self, what, actor):
        asset = self.asset
        replacement = (
            f"Use {self.replacement.name} ({self.replacement.get_kind_display().lower()}) instead."
            if self.replacement_id
            else "There is no replacement."
        )
        titles = {
            "announced": f"{asset.name} is deprecated and will be retired on {self.sunset_date:%d %b %Y}",
            "withdrawn": f"The deprecation of {asset.name} was withdrawn: it stays in use",
            "retired": f"{asset.name} is retired",
        }
        affected = list(self.impacts.select_related("asset").order_by("hops", "asset__name")[:20])
        lines = [f"Reason: {self.reason}", replacement]
        if affected and what == "announced":
            lines.append("Affected downstream: " + ", ".join(impact.asset.name for impact in affected) + ".")
            lines.append("Owners downstream: once you have moved, acknowledge on the deprecation page.")
        recipients = [user for user in self.audience() if actor is None or user.pk != actor.pk]
        notify(
            recipients,
            kind=NotificationKind.DEPRECATION,
            title=titles[what],
            body="\n".join(lines),
            url=self.get_absolute_url(),
            asset=asset,
        )


def _retire_model_version(version_asset):
    """Retire a model version through the registry's own stage change, so its history and hooks stay right."""
    from registry.choices import Stage

    version = version_asset.model_version
    if version.stage != Stage.ARCHIVED:
        version.change_stage(Stage.ARCHIVED, by=None, reason="Sunset date of its deprecation reached")


class DeprecationImpact(models.Model):
    """An asset downstream of a deprecated one, and whether its owners have moved off it."""

    deprecation = models.ForeignKey(Deprecation, on_delete=models.CASCADE, related_name="impacts")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="deprecation_impacts")
    hops = models.PositiveSmallIntegerField(
        default=1, help_text="How many lineage steps away from the deprecated asset."
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["hops", "asset__name"]
        constraints = [models.UniqueConstraint(fields=["deprecation", "asset"], name="impact_unique_asset")]

    def __str__(self):
        return f"{self.asset} uses {self.deprecation.asset}"

    def acknowledge(self, *, by, note=""):
        """A downstream owner says "we have migrated". Only once; only people who may change that asset."""
        if not self.asset.can_edit(by):
            raise PermissionDenied(f"Only the owners of {self.asset.name} can acknowledge for it.")
        if self.deprecation.state != DeprecationState.ANNOUNCED:
            raise ValidationError("This deprecation is no longer running.")
        now = timezone.now()
        if not DeprecationImpact.objects.filter(pk=self.pk, acknowledged_at__isnull=True).update(
            acknowledged_by=by, acknowledged_at=now, note=note[:500]
        ):
            raise ValidationError(f"{self.asset.name} was already acknowledged.")
        self.refresh_from_db()
        deprecation = self.deprecation
        notify(
            audience_of(deprecation.asset).exclude(pk=by.pk),
            kind=NotificationKind.DEPRECATION,
            title=f"{self.asset.name} has moved off {deprecation.asset.name}",
            body=note,
            url=deprecation.get_absolute_url(),
            asset=deprecation.asset,
        )


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
        """File an issue and route it to the asset's owner, team and watchers."""
        issue = cls(asset=asset, reported_by=by, **fields)
        issue.full_clean()
        hours = settings.TRUST_ISSUE_ACKNOWLEDGE_HOURS[issue.severity]
        issue.acknowledge_by = timezone.now() + timedelta(hours=hours)
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


class BadgeLink(models.Model):
    """A secret token that shows one asset's badge without signing in, for embedding in another dashboard.

    It reveals the badge level and the rule verdicts only; rotating it breaks the old embeds.
    """

    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, related_name="badge_link")
    token = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Badge link for {self.asset}"

    @classmethod
    def rotate(cls, asset, *, by):
        """Create the link, or replace its token so old embeds stop working."""
        if not asset.can_edit(by):
            raise PermissionDenied("Only the owner, the owning team or staff can manage the embed link.")
        link, _ = cls.objects.update_or_create(
            asset=asset, defaults={"token": secrets.token_urlsafe(24), "created_by": by}
        )
        return link


# A run claims stale rows until none is left, so a burst of events (a sync registering thousands of versions) needs
# a run or two, and pages compute a stale badge meanwhile.
def _wake_the_refresher():
    from trust.tasks import refresh_stale_badges  # the tasks module imports this one

    wake(refresh_stale_badges)


class StoredBadge(models.Model):
    """An asset's trust badge as last computed, so list pages and search read one row per asset instead of
    gathering every row's facts (a lineage walk of up to ten hops) on every request.

    A row is current while it is not ``stale`` and its ``expires_at`` has not passed (the first moment the clock
    alone can change a verdict: a review falling due, a certification running out, a freshness deadline).
    Anything else is computed again by whoever reads it (``trust.badges.badges_for``). Events that change a fact
    mark the row stale, and every row downstream when the fact travels along lineage (``invalidate``, called
    from ``trust.receivers`` and the workflows here); ``trust.tasks.refresh_stale_badges`` recomputes stale rows in
    the background.

    States: missing → current → stale (an event) → current (recomputed); a current row also turns over when it
    expires. ``generation`` makes storing a computed badge a compare-and-set: every invalidation bumps it, and a
    badge is stored only if the generation is still the one read before its facts were gathered, so a badge
    computed from facts an event changed meanwhile can be shown once but is never kept. ``claimed_until`` is the
    background refresher's lease on a stale row, so two refreshers never compute the same rows.
    """

    asset = models.OneToOneField(Asset, primary_key=True, on_delete=models.CASCADE, related_name="stored_badge")
    level = models.CharField(max_length=20, choices=TrustLevel.choices, blank=True)
    verdicts = models.JSONField(default=list, help_text="Each rule's verdict: rule, title, level and reason.")
    computed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    stale = models.BooleanField(default=False)
    generation = models.PositiveIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The refresher's only query: the few stale rows among one per asset.
            models.Index(fields=["asset"], condition=Q(stale=True), name="storedbadge_stale")
        ]

    def __str__(self):
        return f"Badge of asset {self.asset_id}: {self.level or 'not computed'}"

    def is_current(self, now):
        return not self.stale and bool(self.level) and (self.expires_at is None or now < self.expires_at)

    @classmethod
    def invalidate(cls, asset_ids, *, downstream=False, create_missing=True):
        """Mark these assets' badges stale, and with ``downstream`` everything within ``MAX_DEPTH`` hops below
        them (one walk, one update), then have the worker recompute them once the transaction commits.

        Missing rows are created stale, so a reader that found none and computed from facts read before this
        change cannot store its badge (its compare-and-set expects no row). ``create_missing=False`` is for
        deletions, where some of the assets may be going away in the same transaction.
        """
        asset_ids = {int(pk) for pk in asset_ids}
        if downstream:
            asset_ids |= set(walk(asset_ids, direction="down", max_depth=MAX_DEPTH))
        if not asset_ids:
            return
        # Rows are written and locked in id order, as ``store`` writes them, so that an event marking badges and
        # a page storing them wait for each other instead of deadlocking.
        with transaction.atomic():
            if create_missing:
                cls.objects.bulk_create(
                    [cls(asset_id=pk, stale=True, generation=1) for pk in sorted(asset_ids)], ignore_conflicts=True
                )
            in_order = cls.objects.filter(asset_id__any_of=asset_ids).order_by("asset_id").select_for_update()
            cls.objects.filter(asset_id__in=in_order.values("asset_id")).update(
                stale=True, generation=models.F("generation") + 1, claimed_until=None
            )
        transaction.on_commit(_wake_the_refresher)

    @classmethod
    def claim_stale(cls, limit, lease=timedelta(minutes=5)):
        """``{asset_id: generation}`` of up to ``limit`` stale rows nobody is refreshing, leased to the caller.

        ``skip_locked`` lets two refreshers claim at the same moment without waiting for or taking the same rows;
        the lease stops a second one from taking them while the first computes. A refresher that dies leaves the
        rows to be claimed again when the lease runs out.
        """
        now = timezone.now()
        with transaction.atomic():
            rows = list(
                cls.objects.filter(stale=True)
                .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
                .order_by("asset_id")
                .select_for_update(skip_locked=True)
                .only("asset_id", "generation")[:limit]
            )
            cls.objects.filter(asset_id__in=[row.asset_id for row in rows]).update(claimed_until=now + lease)
        return {row.asset_id: row.generation for row in rows}

    @classmethod
    def store(cls, computed, now):
        """Write computed badges: ``{asset_id: (generation read before computing, level, verdicts, expires_at)}``.

        A compare-and-set on ``generation``: a row invalidated since it was read keeps its stale state. One
        statement per chunk of rows (``bulk_create`` cannot put a condition on the update). Storing is a saving,
        never a step a page depends on: when it fails, the page still shows what it computed.
        """
        columns = ["asset_id", "level", "verdicts", "computed_at", "expires_at", "stale", "generation", "claimed_until"]
        fields = [cls._meta.get_field(name.removesuffix("_id")) for name in columns]
        table, quote = cls._meta.db_table, connection.ops.quote_name
        rows = [
            (asset_id, level, verdicts, now, expires_at, False, generation, None)
            for asset_id, (generation, level, verdicts, expires_at) in sorted(computed.items())
        ]
        # PostgreSQL takes 65,535 parameters a statement (SQLite 999): a lineage graph of 8,000 assets is one.
        chunk = (connection.features.max_query_params or 65535) // len(columns)
        updated = ", ".join(
            f"{quote(name)} = EXCLUDED.{quote(name)}" for name in columns if name not in ("asset_id", "generation")
        )
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            params = [
                field.get_db_prep_save(value, connection)
                for row in part
                for field, value in zip(fields, row, strict=True)
            ]
            values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(part))
            sql = (
                f"INSERT INTO {quote(table)} ({', '.join(map(quote, columns))}) VALUES {values} "
                f"ON CONFLICT ({quote('asset_id')}) DO UPDATE SET {updated} "
                f"WHERE {quote(table)}.{quote('generation')} = EXCLUDED.{quote('generation')}"
            )
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(sql, params)
            except IntegrityError:  # an asset was deleted while its badge was computed: nothing to keep
                pass
            except OperationalError:  # a deadlock with an event marking these rows: their badges are changing anyway
                logger.warning("Stored badges not saved", exc_info=True)
