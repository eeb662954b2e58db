"""Problems upstream told downstream: the problems being announced, their transitions (the outbox), and who has
been told (see ``trust.downstream``)."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from catalog.models import Asset
from trust.choices import NoticeState, ProblemTransition


class UpstreamProblem(models.Model):
    """A problem on one asset that the people downstream hear about, one row per cause while it lasts.

    ``cause_kind`` names where it comes from (``issue``, ``freshness``, ``deprecation``, ``schema``, ``badge``, or
    any other app's word: a quality check, model drift) and ``cause_key`` which one (an issue's uuid, a policy's
    id). States: open (``cleared_at`` empty) → cleared. At most one open row per cause (a constraint), so
    announcing a cause that is already open opens nothing and tells nobody twice. ``silenced``: the asset was in
    maintenance when it started, so nobody was told, and nobody is told when it clears either. ``columns``: a
    problem with some columns only (a failing check on one) reaches what reads them and what is downstream of that
    (``trust.downstream.column_reach``, worked out by the fan-out); ``spared``: people not told at all (declared
    consumers of other columns).
    """

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="upstream_problems")
    cause_kind = models.CharField(max_length=30)
    cause_key = models.CharField(max_length=100)
    summary = models.CharField(max_length=300, help_text="What happened, in words: “critical issue 'Duplicated rows'”.")
    url = models.CharField(max_length=500, blank=True, help_text="Where to read about it, a path in the portal.")
    critical = models.BooleanField(default=False, help_text="Told at once, whatever digest people chose.")
    silenced = models.BooleanField(default=False)
    spared = models.JSONField(
        default=list, blank=True, help_text="Ids of people not told: declared consumers of other columns only."
    )
    columns = models.JSONField(
        default=list,
        blank=True,
        help_text="The columns at fault: only what reads them hears of it; empty: everything downstream.",
    )
    started_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "cause_kind", "cause_key"],
                condition=Q(cleared_at__isnull=True),
                name="upstream_problem_one_open_per_cause",
            )
        ]

    def __str__(self):
        return f"{self.asset}: {self.summary}"


class ProblemNotice(models.Model):
    """One transition of a problem (started, cleared) and the outbox of its fan-out to the people downstream.

    States: pending → sending (claimed by a compare-and-set on ``state``: one worker fans it out, however many got
    the task) → sent; silenced when the asset was in maintenance. A ``sending`` row whose claim is older than
    ``LEASE`` lost its worker and is claimed again; ``ProblemDelivery`` rows make that second pass skip the people
    already told. The relay on beat sends pending rows whose task never reached a worker.
    """

    LEASE = timedelta(minutes=10)

    problem = models.ForeignKey(UpstreamProblem, on_delete=models.CASCADE, related_name="notices")
    transition = models.CharField(max_length=10, choices=ProblemTransition.choices)
    state = models.CharField(max_length=10, choices=NoticeState.choices, default=NoticeState.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    affected_count = models.PositiveIntegerField(default=0, help_text="Assets downstream, within ten hops.")
    recipient_count = models.PositiveIntegerField(default=0, help_text="People and team webhooks told.")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["problem", "transition"], name="problem_notice_once_per_transition")
        ]
        indexes = [models.Index(fields=["created_at"], condition=~Q(state="sent"), name="problem_notice_unsent")]

    def __str__(self):
        return f"{self.problem} {self.transition} ({self.state})"


class ProblemDelivery(models.Model):
    """Who was told about a notice: one row per person or team webhook, written with the message."""

    notice = models.ForeignKey(ProblemNotice, on_delete=models.CASCADE, related_name="deliveries")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    asset_count = models.PositiveIntegerField(default=0, help_text="How many affected assets the message listed.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notice", "user"], name="problem_delivery_once_per_person"),
            models.UniqueConstraint(fields=["notice", "team"], name="problem_delivery_once_per_team"),
        ]

    def __str__(self):
        return f"{self.notice} → {self.user or self.team}"
