"""Deprecation: announcing that an asset goes away, telling everyone downstream, and retiring it on the date."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from catalog import assets
from catalog.audience import audience_of
from catalog.choices import AssetKind, Lifecycle
from catalog.lineage import MAX_DEPTH, walk
from catalog.models import Asset
from core.background import send
from core.bulk import insert_many
from core.choices import NotificationKind
from core.notifications import Message, deliver, notify, to_team_webhook
from trust.choices import DeprecationState
from trust.dependencies import tell_consumers
from trust.events import deprecation_changed

# The most rows a periodic sweep handles in one run; the rest waits for the next run.
SWEEP_BATCH = 500


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
    # When the worker took each announcement to tell (a compare-and-set: a duplicated task tells nobody twice).
    announced_told_at = models.DateTimeField(null=True, blank=True, editable=False)
    withdrawn_told_at = models.DateTimeField(null=True, blank=True, editable=False)
    retired_told_at = models.DateTimeField(null=True, blank=True, editable=False)

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
            insert_many(
                DeprecationImpact,
                {"asset_id": list(downstream), "hops": list(downstream.values())},
                {"deprecation_id": deprecation.pk},
            )
            # Those who declared they depend on it hear first, in their own words, then everyone downstream.
            tell_consumers(
                asset,
                title=f"{asset.name}, which you depend on, will be retired on {deprecation.sunset_date:%d %b %Y}",
                body=f"Reason: {reason}"
                + (f"\nUse {replacement.name} instead." if replacement is not None else "\nThere is no replacement."),
                url=deprecation.get_absolute_url(),
            )
            deprecation._tell("announced")
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
            self._tell("withdrawn")

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
            self._tell("retired")
        return True

    @classmethod
    def retire_due(cls, today=None, limit=SWEEP_BATCH):
        """The sweep: retire the assets whose sunset date has come, at most ``limit`` a run (each tells everything
        downstream). Returns how many were retired."""
        today = today or timezone.localdate()
        due = cls.objects.filter(state=DeprecationState.ANNOUNCED, sunset_date__lte=today).select_related("asset")
        return sum(1 for deprecation in due.order_by("sunset_date", "pk")[:limit] if deprecation.retire(today))

    # What each announcement waits for before the relay sends it again: (state it needs, time it happened).
    TOLD = {
        "announced": (None, "created_at"),
        "withdrawn": (DeprecationState.WITHDRAWN, "withdrawn_at"),
        "retired": (DeprecationState.RETIRED, "retired_at"),
    }

    def _tell(self, what):
        """Announce ``what`` (announced, withdrawn, retired) to the rest of the portal now, and have the worker tell
        the people once this commits: a hub's deprecation reaches thousands of people, which no request waits for."""
        from trust.tasks import tell_deprecation  # the tasks module imports these models

        deprecation_changed.send(sender=Deprecation, deprecation=self, what=what)
        pk = self.pk
        transaction.on_commit(lambda: send(tell_deprecation, pk, what), robust=True)

    @classmethod
    def untold(cls, now=None, wait=timedelta(minutes=1), limit=SWEEP_BATCH):
        """``[(pk, what)]``: the announcements that happened over ``wait`` ago and that no worker took yet."""
        now = now or timezone.now()
        found = []
        for what, (state, at) in cls.TOLD.items():
            due = cls.objects.filter(**{f"{what}_told_at__isnull": True, f"{at}__lte": now - wait})
            if state is not None:
                due = due.filter(state=state)
            found += [(pk, what) for pk in due.order_by(at).values_list("pk", flat=True)[:limit]]
        return found

    @classmethod
    def relay(cls, now=None, wait=timedelta(minutes=1)):
        """Announcements not told ``wait`` after they happened (their task never reached a worker): sent again.
        Returns how many."""
        from trust.tasks import tell_deprecation

        return sum(send(tell_deprecation, pk, what) for pk, what in cls.untold(now, wait))

    @classmethod
    def tell(cls, pk, what):
        """The worker's side of ``_tell``: claim the announcement (once, whatever the number of tasks), then tell the
        asset's own people (owner, team, watchers) and everyone downstream, once each: a person with assets
        downstream gets one message listing them with the path back to this asset (“Executive sales dashboard ←
        Daily sales ← Orders: deprecated, to be retired on …”), as problems upstream are told. False when it was
        told already."""
        if what not in cls.TOLD:
            raise ValueError(f"Nothing is told for {what!r}.")
        if not cls.objects.filter(pk=pk, **{f"{what}_told_at__isnull": True}).update(
            **{f"{what}_told_at": timezone.now()}
        ):
            return False
        deprecation = cls.objects.select_related("asset", "replacement", "asset__team").get(pk=pk)
        actor = {"announced": deprecation.proposed_by_id, "withdrawn": deprecation.withdrawn_by_id}.get(what)
        deprecation._deliver(what, actor)
        return True

    def _deliver(self, what, actor_id):
        from trust import downstream  # it imports these models

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
        summaries = {
            "announced": f"deprecated, to be retired on {self.sunset_date:%d %b %Y}",
            "withdrawn": "deprecation withdrawn, it stays in use",
            "retired": "retired",
        }
        reasons = [f"Reason: {self.reason}", replacement]
        impacted = list(self.impacts.values_list("asset_id", flat=True))
        people, parents, names = downstream.people_downstream(asset.pk, only=impacted, teams=True)
        own = {user.pk: user for user in audience_of(asset)}
        url = self.get_absolute_url()
        messages = []
        todo = [*reasons, "Once you have moved, acknowledge on the deprecation page."] if what == "announced" else []
        recipients = get_user_model().objects.filter(is_active=True, pk__in=[*people, *own])
        for user in recipients.exclude(pk=actor_id).order_by("pk"):
            if user.pk in people:
                message = downstream.grouped_message(
                    user, people[user.pk], (parents, names), origin=asset.name, summary=summaries[what],
                    intro=f"{titles[what]}.", url=url, extra=todo or reasons,
                )  # fmt: skip
                messages.append(message)
                continue
            lines = list(reasons)
            if impacted and what == "announced":
                known = [pk for pk in impacted if pk in names]
                nearest = sorted(known, key=lambda pk: (names[pk]["hops"], names[pk]["name"].lower()))[:20]
                lines.append("Affected downstream: " + ", ".join(names[pk]["name"] for pk in nearest) + ".")
                lines.append("Owners downstream: once you have moved, acknowledge on the deprecation page.")
            messages.append(Message(user, titles[what], "\n".join(lines), url))
        deliver(messages, kind=NotificationKind.DEPRECATION, asset=asset)
        if asset.team_id and asset.team.webhook_url:
            to_team_webhook(
                asset.team, kind=NotificationKind.DEPRECATION, title=titles[what], body="\n".join(reasons), url=url,
                asset=asset,
            )  # fmt: skip


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
        limit = DeprecationImpact._meta.get_field("note").max_length
        if len(note) > limit:
            # Refused with a word, never cut short.
            raise ValidationError({"note": f"Up to {limit} characters: this note has {len(note)}."})
        now = timezone.now()
        if not DeprecationImpact.objects.filter(pk=self.pk, acknowledged_at__isnull=True).update(
            acknowledged_by=by, acknowledged_at=now, note=note
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
