"""Vouching for an asset: an owner's certification, reviews and the reminders of review dates."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Case, Exists, OuterRef, Value, When
from django.urls import reverse
from django.utils import timezone

from catalog import assets
from catalog.audience import answerable_for
from catalog.models import Asset
from core.choices import NotificationKind
from core.notifications import notify
from trust.choices import ReviewNoticeKind
from trust.models.badges import StoredBadge

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
