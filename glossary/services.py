"""The one writer of glossary terms: snapshot, save in a transaction, record the change with its author."""

from django.db import transaction

from glossary.models import Term, TermChange

TRACKED = ["name", "definition", "synonyms", "owner_id", "team_id"]


class StaleEdit(Exception):
    """Someone saved the term after the editor opened it."""


def save_term(term, *, actor, assets=None, columns=None, opened_at=None):
    """Create or update ``term`` and its links, refusing an edit opened before the last save."""
    with transaction.atomic():
        before = {}
        if term.pk:
            stored = Term.objects.select_for_update().get(pk=term.pk)
            if opened_at is not None and stored.updated_at.isoformat() != opened_at:
                raise StaleEdit
            before = {field: getattr(stored, field) for field in TRACKED}
            before["links"] = sorted(stored.assets.values_list("name", flat=True))
        term.save()
        if assets is not None:
            term.assets.set(assets)
        if columns is not None:
            term.columns.set(columns)
        after = {field: getattr(term, field) for field in TRACKED}
        after["links"] = sorted(term.assets.values_list("name", flat=True))
        changes = {
            field.removesuffix("_id"): [before.get(field), after[field]]
            for field in after
            if before.get(field) != after[field]
        }
        if changes:
            TermChange.objects.create(term=term, actor=actor, created=not before, changes=changes)
    return term
