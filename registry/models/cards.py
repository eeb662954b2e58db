"""The model card: its prose, edited in revisions that never overwrite text someone has not seen."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction

from registry.events import send_card_changed
from registry.models.models import RegisteredModel


class CardEditConflict(Exception):
    """Someone saved the card after the editor opened it; ``revision`` is the change they would overwrite."""

    def __init__(self, revision):
        self.revision = revision
        author = revision.author.get_username() if revision and revision.author else "someone"
        super().__init__(f"{author} changed this card after you opened it (revision {revision.number}).")


class ModelCard(models.Model):
    """The owner's prose about a model; the card page combines it with the current version's facts.

    ``revision`` counts saved edits and is the optimistic lock: an edit names the revision it started from and is
    refused when the card has moved on (``edit`` raises ``CardEditConflict``). Every edit writes a full snapshot
    to ``CardRevision``.
    """

    TEXT_FIELDS = [
        "description", "intended_uses", "out_of_scope_uses", "limitations", "fairness_considerations",
        "fairness_validation", "validation", "comments", "introduction", "problem", "data", "data_preparation",
        "approach", "results", "recommendations",
    ]  # fmt: skip

    model = models.OneToOneField(RegisteredModel, primary_key=True, on_delete=models.CASCADE, related_name="card")
    description = models.TextField(
        blank=True, help_text="Where the model comes from, what it predicts, its size and date, the features it uses."
    )
    intended_uses = models.TextField(blank=True, help_text="What the model is meant for, and by whom.")
    out_of_scope_uses = models.TextField(blank=True, help_text="Uses the model must not be put to.")
    limitations = models.TextField("model limitations", blank=True, help_text="Where the model is known to be weak.")
    fairness_considerations = models.TextField(
        blank=True, help_text="Groups that could be treated unfairly, sensitive features, mitigations."
    )
    fairness_validation = models.TextField(
        "fairness validation result", blank=True, help_text="How fairness was checked and what the check found."
    )
    validation = models.TextField(
        "how the model was validated", blank=True, help_text="Validation method, data, and who reviewed it."
    )
    comments = models.TextField("other comments and learnings", blank=True, help_text="What was learned.")
    introduction = models.TextField(blank=True, help_text="The project in a paragraph.")
    problem = models.TextField("the problem", blank=True, help_text="The business problem being solved.")
    data = models.TextField("the data set", blank=True, help_text="The data: origin, size, period, features.")
    data_preparation = models.TextField("how the data was prepared", blank=True)
    approach = models.TextField(
        "machine learning / statistical approach", blank=True, help_text="The approach taken to get the results."
    )
    results = models.TextField(blank=True)
    recommendations = models.TextField(blank=True, help_text="Recommendations based on the results.")
    revision = models.PositiveIntegerField(default=0, help_text="Number of saved edits; the optimistic lock.")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Card of {self.model}"

    def snapshot(self):
        return {name: getattr(self, name) for name in self.TEXT_FIELDS}

    def snapshot_at(self, number):
        """The text of every section at revision ``number`` (0 is the empty card); None for a revision it never had."""
        if number == 0:
            return dict.fromkeys(self.TEXT_FIELDS, "")
        revision = self.revisions.filter(number=number).only("snapshot").first()
        return None if revision is None else revision.snapshot

    def edit(self, changes, by, base_revision, restored_from=None):
        """Save ``changes`` (field → text) made on top of ``base_revision``; returns the new revision or None.

        Refused with ``CardEditConflict`` when someone saved after ``base_revision``, so nobody overwrites text
        they never saw.
        """
        unknown = set(changes) - set(self.TEXT_FIELDS)
        if unknown:
            raise ValidationError(f"Not a card section: {', '.join(sorted(unknown))}.")
        with transaction.atomic():
            card = ModelCard.objects.select_for_update().get(pk=self.pk)
            if base_revision > card.revision:
                # Not someone else's change (there is none to show): a revision the client made up.
                raise ValidationError(
                    f"Revision {base_revision} does not exist: this card is at revision {card.revision}. "
                    "Send the revision you read."
                )
            if card.revision != base_revision:
                raise CardEditConflict(card.revisions.select_related("author").get(number=card.revision))
            changed = [name for name, text in changes.items() if getattr(card, name) != text]
            if not changed:
                return None
            for name in changed:
                setattr(card, name, changes[name])
            card.revision += 1
            card.updated_by = by
            card.save()
            revision = CardRevision.objects.create(
                card=card,
                number=card.revision,
                author=by,
                changed_fields=changed,
                snapshot=card.snapshot(),
                restored_from=restored_from,
            )
            send_card_changed(card.model_id)
        self.refresh_from_db()
        return revision

    def restore(self, number, by, base_revision):
        """Bring back the text of revision ``number`` as a new revision; history is never rewritten."""
        old = self.revisions.get(number=number)
        return self.edit(old.snapshot, by, base_revision, restored_from=number)


class CardRevision(models.Model):
    """A saved edit of a model card: who, when, which sections, and the full text after the edit."""

    card = models.ForeignKey(ModelCard, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    changed_fields = models.JSONField(default=list)
    snapshot = models.JSONField(default=dict)
    restored_from = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["card", "number"], name="cardrevision_unique_number")]

    def __str__(self):
        return f"{self.card} revision {self.number}"

    def changed_labels(self):
        return [ModelCard._meta.get_field(name).verbose_name.capitalize() for name in self.changed_fields]
