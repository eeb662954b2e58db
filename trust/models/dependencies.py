"""Declared dependencies: a person, a team or an asset says "I depend on this dataset", and its owner buys in.

The dataset's owner acknowledges each declared consumer (buy-in) or declines with a reason; before a breaking
change (a deprecation, a column removed by a rescan) the consumers it touches are told first (``trust.dependencies``).
"""

import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Team
from catalog.audience import answerable_for, team_members
from catalog.choices import AssetKind
from catalog.models import Asset
from core.choices import NotificationKind
from core.notifications import notify
from trust.choices import ConsumerKind, DependencyStatus

OWNER_REFUSAL = "Only the dataset's owner, its team or staff can acknowledge or decline a dependency on it."


class DependencyQuerySet(models.QuerySet):
    def of_user(self, user):
        """The dependencies ``user`` speaks for: their own, their teams', and those of the assets they answer for
        (owner or owning team)."""
        teams = Team.members.through.objects.filter(user_id=user.pk).values("team_id")
        return self.filter(
            Q(consumer_user=user)
            | Q(consumer_team__in=teams)
            | Q(consumer_asset__owner=user)
            | Q(consumer_asset__team__in=teams)
        )

    def with_consumers(self):
        return self.select_related(
            "dataset", "consumer_user", "consumer_team", "consumer_asset", "declared_by", "decided_by"
        )


class Dependency(models.Model):
    """A consumer's declaration that it depends on a dataset: optionally on some columns only, and with the
    freshness it needs ("updated by 07:00 each day").

    Exactly one of ``consumer_user``, ``consumer_team``, ``consumer_asset`` is set. State machine
    (``TRANSITIONS``): pending → acknowledged | declined (by the dataset's owner, a reason required to decline);
    acknowledged → declined and declined → acknowledged when the owner changes their mind. Each move is a
    compare-and-set on ``status``; the consumer is told. The consumer withdraws by deleting the row.
    """

    TRANSITIONS = {
        DependencyStatus.PENDING: {DependencyStatus.ACKNOWLEDGED, DependencyStatus.DECLINED},
        DependencyStatus.ACKNOWLEDGED: {DependencyStatus.DECLINED},
        DependencyStatus.DECLINED: {DependencyStatus.ACKNOWLEDGED},
    }

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    dataset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="dependents")
    consumer_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="dependencies"
    )
    consumer_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="dependencies"
    )
    consumer_asset = models.ForeignKey(
        Asset, null=True, blank=True, on_delete=models.CASCADE, related_name="dependencies"
    )
    columns = models.JSONField(
        default=list, blank=True, help_text="The columns it reads; none means the whole dataset."
    )
    needed_by = models.TimeField(
        null=True, blank=True, help_text="The time of day by which the day's data must be there, if it matters."
    )
    purpose = models.CharField(max_length=500, blank=True, help_text="What it is used for, in a sentence.")
    status = models.CharField(
        max_length=20, choices=DependencyStatus.choices, default=DependencyStatus.PENDING, db_index=True
    )
    decline_reason = models.TextField(blank=True)
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    declared_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = DependencyQuerySet.as_manager()

    class Meta:
        ordering = ["declared_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(consumer_user__isnull=False, consumer_team__isnull=True, consumer_asset__isnull=True)
                    | Q(consumer_user__isnull=True, consumer_team__isnull=False, consumer_asset__isnull=True)
                    | Q(consumer_user__isnull=True, consumer_team__isnull=True, consumer_asset__isnull=False)
                ),
                name="dependency_one_consumer",
            ),
            models.UniqueConstraint(
                fields=["dataset", "consumer_user"],
                condition=Q(consumer_user__isnull=False),
                name="dependency_once_per_person",
            ),
            models.UniqueConstraint(
                fields=["dataset", "consumer_team"],
                condition=Q(consumer_team__isnull=False),
                name="dependency_once_per_team",
            ),
            models.UniqueConstraint(
                fields=["dataset", "consumer_asset"],
                condition=Q(consumer_asset__isnull=False),
                name="dependency_once_per_asset",
            ),
        ]

    def __str__(self):
        return f"{self.consumer_name} depends on {self.dataset}"

    def get_absolute_url(self):
        return f"{self.dataset.get_absolute_url()}#consumers"

    @property
    def consumer(self):
        return self.consumer_user or self.consumer_team or self.consumer_asset

    @property
    def consumer_kind(self):
        if self.consumer_user_id:
            return ConsumerKind.PERSON
        return ConsumerKind.TEAM if self.consumer_team_id else ConsumerKind.ASSET

    @property
    def consumer_kind_label(self):
        if self.consumer_asset_id:
            return self.consumer_asset.get_kind_display()
        return "Person" if self.consumer_user_id else "Team"

    @property
    def consumer_name(self):
        consumer = self.consumer
        if self.consumer_user_id:
            return consumer.get_full_name() or consumer.get_username()
        return str(consumer)

    @property
    def is_pending(self):
        return self.status == DependencyStatus.PENDING

    def needs(self):
        """What it needs, in words: "columns a, b; updated by 07:00 each day"."""
        parts = [f"columns {', '.join(self.columns)}" if self.columns else "the whole dataset"]
        if self.needed_by:
            parts.append(f"updated by {self.needed_by:%H:%M} each day")
        return "; ".join(parts)

    def touches(self, column_names):
        """Whether a change to these columns reaches this consumer (no column list: every column does)."""
        return not self.columns or bool(set(self.columns) & set(column_names))

    def people(self):
        """The active users who speak for the consumer: the person, the team's members, the asset's owner and
        team."""
        users = Dependency._meta.get_field("consumer_user").related_model.objects.filter(is_active=True)
        if self.consumer_user_id:
            return users.filter(pk=self.consumer_user_id)
        if self.consumer_team_id:
            return users.filter(team_members(self.consumer_team_id))
        return answerable_for(self.consumer_asset)

    def may_act_for_consumer(self, user):
        if not user.is_authenticated:
            return False
        if user.is_staff or (self.declared_by_id and self.declared_by_id == user.pk):
            return True
        if self.consumer_user_id:
            return self.consumer_user_id == user.pk
        if self.consumer_team_id:
            return user.teams.filter(pk=self.consumer_team_id).exists()
        return self.consumer_asset.can_edit(user)

    def clean(self):
        errors = {}
        if self.dataset_id and self.dataset.kind != AssetKind.DATASET:
            errors["dataset"] = "Dependencies are declared on datasets."
        if self.consumer_asset_id and self.consumer_asset_id == self.dataset_id:
            errors["consumer_asset"] = "A dataset cannot depend on itself."
        consumers = [self.consumer_user_id, self.consumer_team_id, self.consumer_asset_id]
        if sum(1 for consumer in consumers if consumer) != 1:
            errors["__all__"] = "Say who depends on it: you, one of your teams, or one of your assets."
        if not isinstance(self.columns, list) or not all(isinstance(name, str) for name in self.columns):
            errors["columns"] = "Columns are a list of column names."
        elif self.dataset_id and self.columns and "dataset" not in errors:
            known = set(self.dataset.dataset.columns.values_list("name", flat=True))
            unknown = [name for name in self.columns if name not in known]
            if unknown:
                errors["columns"] = f"{self.dataset.name} has no column {', '.join(unknown)}."
        if errors:
            raise ValidationError(errors)

    def validate_constraints(self, exclude=None):
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError:
            raise ValidationError(
                f"{self.consumer_name} already declared a dependency on {self.dataset.name}."
            ) from None

    # --- the workflow ---------------------------------------------------------------------------------------------
    @classmethod
    def declare(cls, dataset, *, by, consumer, columns=(), needed_by=None, purpose=""):
        """``by`` declares that ``consumer`` (``by`` themselves, one of their teams, or an asset they may change)
        depends on ``dataset``; the dataset's owner and team are asked to acknowledge."""
        fields = {"consumer_user": None, "consumer_team": None, "consumer_asset": None}
        if isinstance(consumer, Team):
            if not by.is_staff and not by.teams.filter(pk=consumer.pk).exists():
                raise PermissionDenied("You can declare a dependency only for a team you belong to.")
            fields["consumer_team"] = consumer
        elif isinstance(consumer, Asset):
            if not consumer.can_edit(by):
                raise PermissionDenied(f"Only the owners of {consumer.name} can declare what it depends on.")
            fields["consumer_asset"] = consumer
        else:
            if consumer.pk != by.pk:
                raise PermissionDenied("You can declare a dependency for yourself, not for someone else.")
            fields["consumer_user"] = consumer
        dependency = cls(
            dataset=dataset, declared_by=by, columns=list(columns), needed_by=needed_by, purpose=purpose, **fields
        )
        dependency.full_clean()
        with transaction.atomic():
            dependency.save()
            notify(
                answerable_for(dataset).exclude(pk=by.pk),
                kind=NotificationKind.DEPENDENCY,
                title=f"{dependency.consumer_name} depends on {dataset.name}: please acknowledge",
                body=f"{dependency.consumer_name} declared that it depends on {dataset.name} ({dependency.needs()})."
                + (f"\n\n{purpose}" if purpose else "")
                + "\n\nAcknowledge it (you will tell them before breaking it) or decline with a reason.",
                url=dependency.get_absolute_url(),
                asset=dataset,
            )
        return dependency

    def acknowledge(self, *, by):
        self._decide(DependencyStatus.ACKNOWLEDGED, by=by)

    def decline(self, *, by, reason):
        if not (reason or "").strip():
            raise ValidationError({"reason": "Say why you decline, so the consumer can decide what to do."})
        self._decide(DependencyStatus.DECLINED, by=by, reason=reason.strip())

    def _decide(self, to, *, by, reason=""):
        if not self.dataset.can_edit(by):
            raise PermissionDenied(OWNER_REFUSAL)
        if to not in self.TRANSITIONS[self.status]:
            raise ValidationError(
                {
                    "status": f"A dependency that is {self.get_status_display().lower()} cannot become "
                    f"“{DependencyStatus(to).label.lower()}”."
                }
            )
        now = timezone.now()
        with transaction.atomic():
            if not Dependency.objects.filter(pk=self.pk, status=self.status).update(
                status=to, decided_by=by, decided_at=now, decline_reason=reason
            ):
                raise ValidationError("Someone decided on this dependency meanwhile; reload the page.")
            self.refresh_from_db()
            if to == DependencyStatus.ACKNOWLEDGED:
                title = f"{self.dataset.name}'s owner acknowledged your dependency"
                body = f"{by} will tell you before changing what you depend on ({self.needs()})."
            else:
                title = f"{self.dataset.name}'s owner declined your dependency"
                body = f"{by} declined: {reason}"
            notify(
                self.people().exclude(pk=by.pk),
                kind=NotificationKind.DEPENDENCY,
                title=title,
                body=body,
                url=self.get_absolute_url(),
                asset=self.dataset,
            )

    def withdraw(self, *, by):
        if not self.may_act_for_consumer(by):
            raise PermissionDenied("Only the consumer (or whoever declared it) can withdraw this dependency.")
        self.delete()

    def get_decide_url(self, action):
        return reverse(f"trust:dependency_{action}", kwargs={"uuid": self.uuid})
