"""Declared consumers and breaking changes: who is told first, and who is not told at all.

``tell_consumers`` is called by the breaking changes (``Deprecation.propose``; a rescan through the catalog's
``schema_changed`` event, heard by ``schema_changed`` below) before the general notices go out. A consumer that
declared a dependency on some columns only hears about changes to those columns, and is left out of the general
schema-change notice for the others (unless it answers for the dataset itself).
"""

from catalog.audience import answerable_for
from core.choices import NotificationKind
from core.notifications import notify
from trust.choices import DependencyStatus
from trust.models.dependencies import Dependency


def consumers_of(dataset):
    """The declared dependencies on ``dataset``, consumers joined, pending first."""
    rows = Dependency.objects.filter(dataset=dataset).with_consumers()
    return sorted(rows, key=lambda row: (row.status != DependencyStatus.PENDING, row.declared_at))


def tell_consumers(dataset, *, title, body, url, columns=None, dependencies=None):
    """Tell the people of every consumer this change reaches (``columns``: the columns changed; None: all of it).
    Returns the dependencies told."""
    dependencies = dependencies if dependencies is not None else consumers_of(dataset)
    reached = [row for row in dependencies if columns is None or row.touches(columns)]
    for row in reached:
        notify(
            row.people(),
            kind=NotificationKind.DEPENDENCY,
            title=title,
            body=f"{body}\n\nYou declared that {row.consumer_name} depends on {dataset.name} ({row.needs()}).",
            url=url,
            asset=dataset,
        )
    return reached


def schema_changed(sender, change, **kwargs):
    """The catalog's ``schema_changed``: tell the consumers whose columns were removed or retyped first, and
    answer who must not get the general notice (consumers of other columns only)."""
    dataset = change.dataset.asset
    dependencies = consumers_of(dataset)
    if not dependencies:
        return set()
    breaking = [item["name"] for item in (*change.removed, *change.type_changed)]
    reached = []
    if breaking:
        reached = tell_consumers(
            dataset,
            title=f"Breaking change on {dataset.name}: {change.summary}",
            body=f"The schema of {dataset.name} changed: {change.summary}.",
            url=dataset.get_absolute_url(),
            columns=breaking,
            dependencies=dependencies,
        )
    changed = breaking + [item["name"] for item in change.added]
    told = {user.pk for row in reached for user in row.people()}
    touched = {user.pk for row in dependencies if row.touches(changed) for user in row.people()}
    untouched = {user.pk for row in dependencies if not row.touches(changed) for user in row.people()}
    # Those told already, and those whose every dependency is on other columns, skip the general notice; the
    # people who answer for the dataset always get it.
    return (told | (untouched - touched)) - set(answerable_for(dataset).values_list("pk", flat=True))


def unacknowledged_for(user):
    """The dependencies ``user`` speaks for that the dataset's owner has not acknowledged, newest first."""
    return (
        Dependency.objects.of_user(user)
        .exclude(status=DependencyStatus.ACKNOWLEDGED)
        .with_consumers()
        .order_by("-declared_at", "-pk")
        .distinct()
    )
