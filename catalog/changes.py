"""An asset's history of changes: one small mechanism every edit path calls explicitly (pages, API, other apps).

Usage::

    before = snapshot(asset, asset.dataset)
    ...save...
    record_change(asset, request.user, before, snapshot(asset, asset.dataset))
"""

from django.db import models

from catalog.choices import ChangeAction
from catalog.models import AssetChange

# Bookkeeping fields that change on every save and would drown the real changes.
IGNORED_FIELDS = {"updated_at", "created_at", "search_text", "search_vector", "uuid"}


def _display(instance, field, many=None):
    if field.many_to_many:
        if instance.pk is None or many is not None:
            # Unsaved: none. ``many`` given: the caller knows them (a row just created has only what it was given).
            return (many or {}).get(field.name, "")
        return ", ".join(sorted(str(item) for item in getattr(instance, field.name).all()))
    if field.choices:
        return str(getattr(instance, f"get_{field.name}_display")())
    value = getattr(instance, field.name)
    if value is None or value == "":
        return ""
    if isinstance(value, (dict, list)):
        return value
    return str(value)


def snapshot(*instances, many=None):
    """``{field name: value as people read it}`` over the editable fields of ``instances`` (an asset and its
    kind row, for example); compare two snapshots with ``record_change``. ``many``: the many-to-many values as
    read (``{"tags": "finance, sales"}``) when the caller knows them, as for rows it has just created: the others
    are then empty and nothing is queried."""
    values = {}
    for instance in instances:
        for field in instance._meta.get_fields():
            if not field.concrete or field.auto_created or field.primary_key or field.name in IGNORED_FIELDS:
                continue
            if isinstance(field, models.OneToOneField):
                continue
            values[field.name] = _display(instance, field, many)
    return values


def record_change(asset, actor, before, after, action=ChangeAction.UPDATED):
    """Write an ``AssetChange`` listing each field whose value differs; returns it, or None if nothing changed.

    ``before`` is ``{}`` for a creation. Any app may call this with its own snapshots (plain dicts).
    """
    changed = {
        name: [before.get(name, ""), after.get(name, "")]
        for name in sorted(set(before) | set(after))
        if before.get(name, "") != after.get(name, "")
    }
    if not changed and action == ChangeAction.UPDATED:
        return None
    return AssetChange.objects.create(
        asset=asset, actor=actor if actor and actor.is_authenticated else None, action=action, changes=changed
    )
