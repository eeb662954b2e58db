"""Declared consumers and breaking changes: who is told first, and who is not told at all.

``tell_consumers`` is called by the breaking changes (``Deprecation.propose``; a rescan through the catalog's
``schema_changing`` event, heard by ``schema_changing`` below) before the general notices go out. A consumer that
declared a dependency on some columns only hears about changes to those columns, and is left out of the general
schema-change notice for the others (unless it answers for the dataset itself).
"""

from dataclasses import dataclass

from catalog.audience import answerable_for
from core.choices import NotificationKind
from core.notifications import notify
from trust.choices import DependencyStatus
from trust.models.dependencies import Dependency


def consumers_of(dataset):
    """The declared dependencies on ``dataset``, consumers joined, pending first."""
    return consumers_of_each([dataset.pk])[dataset.pk]


def consumers_of_each(dataset_ids):
    """``{dataset id: [its declared dependencies]}`` as ``consumers_of`` gives them, for many datasets in one
    query."""
    found = {pk: [] for pk in dataset_ids}
    rows = Dependency.objects.filter(dataset_id__in=list(found)).with_consumers()
    for row in sorted(rows, key=lambda row: (row.status != DependencyStatus.PENDING, row.declared_at)):
        found[row.dataset_id].append(row)
    return found


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


@dataclass
class BreakingChange:
    """Who hears of a problem with some columns of a dataset (a schema change removing or retyping them, a failing
    check on one of them): decided here once, for the first notices to the declared consumers and for the people
    downstream (``trust.downstream_receivers``).

    ``breaking``: the columns at fault. ``readers``: ``{asset_id: [columns]}`` of the datasets that read them
    through column lineage, or None when nothing downstream is known column by column (then everything downstream
    is affected). ``reached``: the declared dependencies on a column at fault (or on all of the dataset), told
    first. ``spared``: the ids of the people no general notice goes to: those told first, and those whose every
    declared dependency is on other columns; the people who answer for the dataset are never spared.
    """

    dataset: object
    breaking: list
    readers: dict | None
    reached: list
    spared: set

    def starts(self):
        """The assets the people downstream are told from: each reader of a breaking column, or the dataset."""
        return [self.dataset.pk] if self.readers is None else sorted(self.readers)


def column_audience(dataset, columns, readers, *, changed=None, dependencies=None):
    """The ``BreakingChange`` for ``columns`` of ``dataset`` (an asset). ``readers``: ``catalog.lineage.
    column_consumers`` of those columns (None: not known column by column). ``changed``: every column the event
    touches, when more than those at fault (a schema change's added columns): a declared consumer of one of them
    is not spared. ``dependencies``: ``consumers_of(dataset)``, when the caller read them already."""
    columns = list(columns)
    changed = columns if changed is None else list(changed)
    dependencies = consumers_of(dataset) if dependencies is None else dependencies
    reached = [row for row in dependencies if columns and row.touches(columns)]
    told = {user.pk for row in reached for user in row.people()}
    touched = {user.pk for row in dependencies if row.touches(changed) for user in row.people()}
    untouched = {user.pk for row in dependencies if not row.touches(changed) for user in row.people()}
    spared = set()
    if dependencies:
        spared = (told | (untouched - touched)) - set(answerable_for(dataset).values_list("pk", flat=True))
    return BreakingChange(dataset, columns, readers if columns else {}, reached, spared)


def breaking_change_audience(change, consumers=None):
    """The ``BreakingChange`` of a ``SchemaChange`` (``consumers``: ``catalog.lineage.column_consumers`` of its
    breaking columns, found before they were deleted; None: not known). Kept on the change, so its two events
    read one answer."""
    audience = getattr(change, "_trust_audience", None)
    if audience is not None:
        return audience
    breaking = [item["name"] for item in (*change.removed, *change.type_changed)]
    changed = breaking + [item["name"] for item in change.added]
    audience = column_audience(change.dataset.asset, breaking, consumers, changed=changed)
    change._trust_audience = audience
    return audience


def schema_changing(sender, change, consumers=None, **kwargs):
    """The catalog's ``schema_changing``: tell the consumers whose columns were removed or retyped first, and
    answer who must not get the general notice (``BreakingChange.spared``)."""
    audience = breaking_change_audience(change, consumers)
    dataset = audience.dataset
    if audience.reached:
        tell_consumers(
            dataset,
            title=f"Breaking change on {dataset.name}: {change.summary}",
            body=f"The schema of {dataset.name} changed: {change.summary}.",
            url=dataset.get_absolute_url(),
            columns=audience.breaking,
            dependencies=audience.reached,
        )
    return audience.spared


def unacknowledged_for(user):
    """The dependencies ``user`` speaks for that the dataset's owner has not acknowledged, newest first."""
    return (
        Dependency.objects.of_user(user)
        .exclude(status=DependencyStatus.ACKNOWLEDGED)
        .with_consumers()
        .order_by("-declared_at", "-pk")
        .distinct()
    )
