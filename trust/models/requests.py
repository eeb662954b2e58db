"""Change requests ("Request a change" on a report, dataset or model) and the scheduled requirements review that
re-examines what users need."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.urls import reverse
from django.utils import timezone

from catalog.audience import answerable_for, audience_of
from catalog.choices import AssetKind
from catalog.models import Asset
from core.choices import NotificationKind
from core.notifications import notify
from trust.choices import ChangeRequestStatus, ReviewNoticeKind
from trust.models.vouching import SWEEP_BATCH, ReviewNotice

# The kinds of asset people ask changes of; the requirements review is for the products people use directly.
REQUESTABLE_KINDS = (AssetKind.REPORT, AssetKind.DATASET, AssetKind.MODEL)
REQUIREMENTS_KINDS = (AssetKind.REPORT, AssetKind.MODEL)


class ChangeRequest(models.Model):
    """Someone asks the owner of an asset for a change or a new feature: what is wanted and why.

    State machine (``TRANSITIONS``): proposed → accepted → in progress → delivered, and declined (with a reason)
    from any open state; delivered and declined are final. Only people who may change the asset move it; each move
    is a compare-and-set on ``status`` plus a ``ChangeRequestEvent`` (the history), and the requester and the
    asset's audience (owner, team, watchers) are told.
    """

    OPEN_STATES = (ChangeRequestStatus.PROPOSED, ChangeRequestStatus.ACCEPTED, ChangeRequestStatus.IN_PROGRESS)
    TRANSITIONS = {
        ChangeRequestStatus.PROPOSED: {ChangeRequestStatus.ACCEPTED, ChangeRequestStatus.DECLINED},
        ChangeRequestStatus.ACCEPTED: {ChangeRequestStatus.IN_PROGRESS, ChangeRequestStatus.DECLINED},
        ChangeRequestStatus.IN_PROGRESS: {ChangeRequestStatus.DELIVERED, ChangeRequestStatus.DECLINED},
        ChangeRequestStatus.DELIVERED: set(),
        ChangeRequestStatus.DECLINED: set(),
    }

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="change_requests")
    title = models.CharField(max_length=200, help_text="One line: what you would like.")
    wanted = models.TextField("what is wanted", help_text="The change or the new feature, as precisely as you can.")
    why = models.TextField("why", help_text="What it would let you do, and for whom.")
    status = models.CharField(
        max_length=20, choices=ChangeRequestStatus.choices, default=ChangeRequestStatus.PROPOSED, db_index=True
    )
    decline_reason = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="change_requests"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["asset", "status"], name="changerequest_by_asset_status")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("trust:change_request_detail", kwargs={"uuid": self.uuid})

    @property
    def is_open(self):
        return self.status in self.OPEN_STATES

    def allowed_transitions(self):
        return [status for status in ChangeRequestStatus if status in self.TRANSITIONS[self.status]]

    def clean(self):
        errors = {}
        if not self.title.strip():
            errors["title"] = "Give the request a short title."
        if not self.wanted.strip():
            errors["wanted"] = "Say what you would like changed or added."
        if not self.why.strip():
            errors["why"] = "Say why: what it would let you do, and for whom."
        if self.asset_id and self.asset.kind not in REQUESTABLE_KINDS:
            errors["asset"] = "Changes are requested of reports, datasets and models."
        if errors:
            raise ValidationError(errors)

    @classmethod
    def propose(cls, asset, *, by, title, wanted, why):
        """File the request and route it to the asset's owner and team (and its watchers)."""
        request = cls(asset=asset, requested_by=by, title=title, wanted=wanted, why=why)
        request.full_clean()
        with transaction.atomic():
            request.save()
            ChangeRequestEvent.objects.create(request=request, author=by, to_status=request.status, body="Requested.")
            notify(
                audience_of(asset).exclude(pk=by.pk),
                kind=NotificationKind.CHANGE_REQUEST,
                title=f"Change requested on {asset.name}: {request.title}",
                body=f"What is wanted: {wanted}\n\nWhy: {why}",
                url=request.get_absolute_url(),
                asset=asset,
            )
        return request

    def transition(self, to, *, by, comment=""):
        """Move the request to ``to``; only people who may change the asset can. Declining needs a reason."""
        if not self.asset.can_edit(by):
            raise PermissionDenied("Only the owner, the owning team or staff can move this change request.")
        if to not in ChangeRequestStatus.values or to not in self.TRANSITIONS[self.status]:
            label = ChangeRequestStatus(to).label.lower() if to in ChangeRequestStatus.values else to
            allowed = ", ".join(ChangeRequestStatus(s).label.lower() for s in self.allowed_transitions()) or "nothing"
            raise ValidationError(
                {
                    "status": f"A change request that is {self.get_status_display().lower()} cannot become “{label}” "
                    f"(it can become: {allowed})."
                }
            )
        comment = (comment or "").strip()
        if to == ChangeRequestStatus.DECLINED and not comment:
            raise ValidationError({"comment": "Say why you decline, so the requester understands."})
        now = timezone.now()
        changes = {"status": to, "updated_at": now, "closed_at": None if to in self.OPEN_STATES else now}
        if to == ChangeRequestStatus.DECLINED:
            changes["decline_reason"] = comment
        with transaction.atomic():
            if not ChangeRequest.objects.filter(pk=self.pk, status=self.status).update(**changes):
                raise ValidationError("Someone moved this request meanwhile; reload the page and try again.")
            old = self.status
            self.refresh_from_db()
            ChangeRequestEvent.objects.create(request=self, author=by, from_status=old, to_status=to, body=comment)
            recipients = list(audience_of(self.asset))
            if self.requested_by_id:
                recipients.append(self.requested_by)
            notify(
                [user for user in recipients if user.pk != by.pk],
                kind=NotificationKind.CHANGE_REQUEST,
                title=f"{self.asset.name}: your request “{self.title}” is now {self.get_status_display().lower()}",
                body=comment
                or f"{by} moved it from {ChangeRequestStatus(old).label.lower()} to "
                f"{self.get_status_display().lower()}.",
                url=self.get_absolute_url(),
                asset=self.asset,
            )


class ChangeRequestEvent(models.Model):
    """One line of a change request's history: a status change with its optional comment."""

    request = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="events")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    from_status = models.CharField(max_length=20, choices=ChangeRequestStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ChangeRequestStatus.choices, blank=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.request}: {self.to_status}"


class RequirementsReview(models.Model):
    """The owner re-examined what users need of a report or model (the open change requests in hand) and set when
    to do it again. The newest row's ``next_review_date`` is the schedule the reminder sweep reads."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="requirements_reviews")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(auto_now_add=True)
    comment = models.TextField(blank=True)
    open_requests = models.PositiveIntegerField(default=0, help_text="Open change requests at the time.")
    next_review_date = models.DateField()
    # Only the newest review of an asset is current; the sweep reads current ones by due date.
    current = models.BooleanField(default=True)

    class Meta:
        ordering = ["-reviewed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["asset"], condition=Q(current=True), name="requirements_one_current")
        ]
        indexes = [
            models.Index(fields=["next_review_date", "id"], condition=Q(current=True), name="requirements_review_due")
        ]

    def __str__(self):
        return f"Requirements of {self.asset} reviewed {self.reviewed_at:%Y-%m-%d}"

    @classmethod
    def record(cls, asset, *, by, comment="", interval_days=90, today=None):
        """Record the review and schedule the next one ``interval_days`` ahead."""
        if not asset.can_edit(by):
            raise PermissionDenied("Only the owner, the owning team or staff can review this asset's requirements.")
        if asset.kind not in REQUIREMENTS_KINDS:
            raise ValidationError("Requirements reviews are for reports and models.")
        if not 1 <= int(interval_days) <= 3650:
            raise ValidationError({"interval_days": "Choose an interval between 1 and 3650 days."})
        today = today or timezone.localdate()
        with transaction.atomic():
            Asset.objects.select_for_update().filter(pk=asset.pk).first()
            cls.objects.filter(asset=asset, current=True).update(current=False)
            return cls.objects.create(
                asset=asset,
                reviewed_by=by,
                comment=comment,
                open_requests=asset.change_requests.filter(status__in=ChangeRequest.OPEN_STATES).count(),
                next_review_date=today + timedelta(days=int(interval_days)),
            )

    @classmethod
    def send_due(cls, today=None, limit=SWEEP_BATCH):
        """Remind the people who answer for a report or model that its requirements review is coming up (or
        overdue), listing its open change requests. Each once per due date (``ReviewNotice``'s unique row, with the
        requirements kinds). Returns the notices sent."""
        today = today or timezone.localdate()
        soon = today + timedelta(days=settings.TRUST_REVIEW_REMINDER_DAYS)
        notice_kind = Case(
            When(next_review_date__lt=today, then=Value(ReviewNoticeKind.REQUIREMENTS_OVERDUE)),
            default=Value(ReviewNoticeKind.REQUIREMENTS_REMINDER),
        )
        sent_already = ReviewNotice.objects.filter(
            asset=OuterRef("asset_id"), due_date=OuterRef("next_review_date"), kind=OuterRef("notice_kind")
        )
        due = (
            cls.objects.filter(current=True, next_review_date__lte=soon)
            .exclude(asset__lifecycle="retired")
            .annotate(notice_kind=notice_kind)
            .exclude(Exists(sent_already))
            .select_related("asset__owner", "asset__team")
            .order_by("next_review_date", "pk")
        )
        try:
            with transaction.atomic():
                due = list(due.select_for_update(skip_locked=True, of=("self",))[:limit])
                ReviewNotice.objects.bulk_create(
                    ReviewNotice(asset_id=row.asset_id, due_date=row.next_review_date, kind=row.notice_kind)
                    for row in due
                )
        except IntegrityError:
            return 0
        for row in due:
            row.tell_due()
        return len(due)

    def tell_due(self):
        asset = self.asset
        requests = list(asset.change_requests.filter(status__in=ChangeRequest.OPEN_STATES).order_by("created_at")[:20])
        lines = [f"- {request.title} ({request.get_status_display().lower()})" for request in requests]
        overdue = self.notice_kind == ReviewNoticeKind.REQUIREMENTS_OVERDUE
        title = (
            f"Requirements review overdue: {asset.name} was due on {self.next_review_date:%d %b %Y}"
            if overdue
            else f"Requirements review due soon: {asset.name} on {self.next_review_date:%d %b %Y}"
        )
        body = "Re-examine what its users need"
        body += (
            f". Open change requests ({len(requests)}):\n" + "\n".join(lines)
            if requests
            else ": no change request is open; ask its users."
        )
        notify(
            answerable_for(asset),
            kind=NotificationKind.REVIEW,
            title=title,
            body=body,
            url=reverse("trust:requirements_review", kwargs={"kind": asset.kind, "slug": asset.slug}),
            asset=asset,
        )
