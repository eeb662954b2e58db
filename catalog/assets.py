"""The only writers of ``Asset`` and ``LineageEdge``: creating, editing and deleting assets, linking them.

Every page, API call, job, the OpenLineage ingester and the registry go through these functions, so each change is
recorded in the asset's history, reindexed for search and announced once with a domain event (``catalog.events``),
whether it wrote one row or a thousand.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.text import slugify

from catalog import events
from catalog.changes import record_change, snapshot
from catalog.choices import ChangeAction, LineageOrigin
from catalog.models import Asset, AssetChange, Column, ColumnLineage, LineageEdge, Tag
from catalog.search import index_created, reindex

# Fields of an asset that the assets downstream read as well (their badges name an input and its lifecycle).
TRAVELLING_FIELDS = ("name", "lifecycle")


class StaleEdit(Exception):
    """The asset changed after the editor opened it; nothing was saved."""


def free_slug(kind, name, reserved=(), *, among=None, max_length=180):
    """A slug for a new asset of ``kind`` named ``name``, with a number added if the plain one is taken (or is one
    of the ``reserved`` words, pages of their own under the kind's URL).

    The one slug maker for single rows: ``among`` is another queryset whose ``slug`` must stay free (the glossary's
    terms), ``kind`` then being only the word used for a name without letters; ``max_length`` bounds the slug,
    number included."""
    rows = Asset.objects.filter(kind=kind) if among is None else among
    base = slugify(name)[:max_length] or kind
    taken = set(rows.filter(slug__startswith=base[: max_length - 4]).values_list("slug", flat=True))
    taken |= set(reserved)
    slug, number = base, 2
    while slug in taken:
        suffix = f"-{number}"
        slug, number = f"{base[: max_length - len(suffix)]}{suffix}", number + 1
    return slug


def kind_row(asset):
    """The kind-specific row of an asset: each one's related name is its kind (``asset.dataset`` …)."""
    return getattr(asset, asset.kind)


def create_asset(asset, detail, *, actor, tags=None, reserved_slugs=()):
    """Create ``asset`` (unsaved, its kind and fields set) with its kind row ``detail`` (unsaved too): a free slug
    unless one is set, the tags, the "created" history entry and the search document. Returns the asset."""
    # No savepoint inside a caller's transaction (a round trip each way, on every asset a pipeline registers): no
    # caller recovers from an error in here and carries on, so the caller's transaction fails as a whole instead.
    with transaction.atomic(savepoint=False):
        if not asset.slug:
            asset.slug = free_slug(asset.kind, asset.name, reserved_slugs)
        asset.save()
        given = list(dict.fromkeys(_tags(tags))) if tags is not None else []
        if given:
            asset.tags.add(*given)  # a new row has no tags yet
        detail.asset = asset
        # Its key is the new asset's: an INSERT at once, not the UPDATE Django tries first for a key it is given.
        detail.save(force_insert=True)
        # New rows: their only many-to-many values are the tags just given (no query for the others).
        many = {"tags": ", ".join(sorted(str(tag) for tag in given))}
        record_change(asset, actor, {}, snapshot(asset, detail, many=many), action=ChangeAction.CREATED)
        index_created(asset, sorted(given, key=lambda tag: tag.name))
    return asset


def create_assets(items, *, actor):
    """``create_asset`` for many assets of one kind at once, in a fixed number of statements (an import of
    thousands of dbt models): ``items`` is ``[(asset, detail, tag names)]``, all unsaved. Returns the assets."""
    items = list(items)
    if not items:
        return []
    kind = items[0][0].kind
    with transaction.atomic():
        bases = [(asset, slugify(asset.name)[:180] or kind) for asset, _, _ in items if not asset.slug]
        taken = set(
            Asset.objects.filter(kind=kind, slug__in={base for _, base in bases}).values_list("slug", flat=True)
        )
        if len(taken) > 200:  # many names are taken already: number them from every slug of the kind, read once
            taken = set(Asset.objects.filter(kind=kind).values_list("slug", flat=True))
        elif taken:  # and the numbered slugs of those taken ("orders-2" …), in one query
            numbered = Q()
            for base in taken:
                numbered |= Q(slug__startswith=f"{base}-")
            taken |= set(Asset.objects.filter(numbered, kind=kind).values_list("slug", flat=True))
        for asset, base in bases:
            slug, number = base, 2
            while slug in taken:
                slug, number = f"{base}-{number}", number + 1
            asset.slug = slug
            taken.add(slug)
        befores = []
        for asset, detail, tags in items:
            after = snapshot(asset, detail)
            after["tags"] = ", ".join(sorted(tags or []))
            befores.append(after)
        Asset.objects.bulk_create([asset for asset, _, _ in items])
        for asset, detail, _ in items:
            detail.asset = asset
        type(items[0][1]).objects.bulk_create([detail for _, detail, _ in items])
        names = sorted({name for _, _, tags in items for name in tags or []})
        tags = {tag.name: tag for tag in _tags(names)}
        Asset.tags.through.objects.bulk_create(
            [Asset.tags.through(asset_id=asset.pk, tag_id=tags[name].pk) for asset, _, names_ in items
             for name in set(names_ or [])]
        )  # fmt: skip
        created_by = actor if actor is not None and actor.is_authenticated else None
        AssetChange.objects.bulk_create(
            AssetChange(
                asset=asset,
                actor=created_by,
                action=ChangeAction.CREATED,
                changes={name: ["", value] for name, value in after.items() if value not in ("", None)},
            )
            for (asset, _, _), after in zip(items, befores, strict=True)
        )
        reindex([asset.pk for asset, _, _ in items])
    return [asset for asset, _, _ in items]


def save_asset(asset, detail, actor, tags=None, version=None):
    """The one edit path of an asset (pages, API, registry): refuse a stale edit, save the asset and its kind row,
    record the history, reindex for search, and announce the change. A new asset (no pk) is created instead.

    ``asset`` and ``detail`` carry the new, validated values. ``version`` is the ``updated_at`` the editor started
    from; ``StaleEdit`` is raised when the asset changed since.
    """
    if asset.pk is None:
        return create_asset(asset, detail, actor=actor, tags=tags)
    with transaction.atomic():
        current = Asset.objects.select_for_update().get(pk=asset.pk)
        if version is not None and version != current.updated_at:
            raise StaleEdit
        # From the database: validation already wrote the typed values onto ``asset`` and ``detail``.
        before = snapshot(current, type(detail).objects.get(pk=detail.pk))
        asset.save()
        if tags is not None:
            asset.tags.set(_tags(tags))
        detail.asset = asset
        detail.save()
        record_change(asset, actor, before, snapshot(asset, detail))
        reindex([asset.pk])
        travels = any(getattr(current, name) != getattr(asset, name) for name in TRAVELLING_FIELDS)
        events.asset_changed.send(sender=Asset, asset_ids=[asset.pk], travels=travels)
    return asset


def delete_asset(asset):
    """Delete an asset (and what cascades with it); raises ``ProtectedError`` for a source that still has datasets,
    in which case nothing was deleted."""
    with transaction.atomic():
        # Before the cascade removes its edges: the receivers walk downstream from it.
        events.assets_removed.send(sender=Asset, asset_ids=[asset.pk])
        asset.delete()


def add_edge(upstream, downstream, actor, origin=LineageOrigin.MANUAL):
    """Record that data flows from ``upstream`` to ``downstream``; raises ``ValidationError`` for a self-loop or a
    duplicate. Both assets' histories say who added it."""
    if upstream.pk == downstream.pk:
        raise ValidationError("An asset cannot feed itself.")
    if link([(upstream.pk, downstream.pk)], actor=actor, origin=origin) == 0:
        raise ValidationError(f"{upstream} already feeds {downstream}.")
    return LineageEdge.objects.get(upstream=upstream, downstream=downstream)


def link(pairs, *, actor, origin):
    """Add the edges ``(upstream id, downstream id)`` that are not recorded yet, in a few statements whatever their
    number; each new edge is written in both ends' histories. Returns how many were added.

    Another writer may add the same edge at the same moment: the unique constraint keeps one row, and both writers
    record and announce it (an announcement twice is harmless: receivers mark things to recompute).
    """
    wanted = {(int(up), int(down)) for up, down in pairs if up != down}
    if not wanted:
        return 0
    recorded = Q()
    for upstream_id, downstream_id in wanted:
        recorded |= Q(upstream_id=upstream_id, downstream_id=downstream_id)
    missing = sorted(wanted - set(LineageEdge.objects.filter(recorded).values_list("upstream_id", "downstream_id")))
    if not missing:
        return 0
    created_by = actor if actor is not None and actor.is_authenticated else None
    names = dict(Asset.objects.filter(pk__in={pk for pair in missing for pk in pair}).values_list("pk", "name"))
    with transaction.atomic():
        LineageEdge.objects.bulk_create(
            [
                LineageEdge(upstream_id=up, downstream_id=down, origin=origin, created_by=created_by)
                for up, down in missing
            ],
            ignore_conflicts=True,
        )
        AssetChange.objects.bulk_create(
            change
            for up, down in missing
            for change in (
                _lineage_change(up, created_by, "downstream", f"added {names[down]}"),
                _lineage_change(down, created_by, "upstream", f"added {names[up]}"),
            )
        )
        events.announce_lineage_changed(sorted({down for _, down in missing}))
    return len(missing)


def remove_edge(upstream, downstream, actor):
    """Forget the edge from ``upstream`` to ``downstream``; True if there was one."""
    with transaction.atomic():
        deleted, _ = LineageEdge.objects.filter(upstream=upstream, downstream=downstream).delete()
        if deleted:
            for asset, other, side in ((upstream, downstream, "downstream"), (downstream, upstream, "upstream")):
                record_change(asset, actor, {side: f"{other}"}, {side: "removed"}, action=ChangeAction.LINEAGE)
            events.announce_lineage_changed([downstream.pk])
    return bool(deleted)


def set_column_lineage(dataset_id, fields, *, actor, origin):
    """Make the columns of the dataset ``dataset_id`` come from what ``fields`` says, for the columns it names:
    ``{column name: [(upstream dataset id, upstream column name, transformation), ...]}``. Links of the same origin
    into those columns that are no longer reported are removed; columns not named keep theirs. Columns that are not
    recorded (yet) on either side are skipped. Each change is written in the dataset's history, and
    ``lineage_changed`` is announced once. Returns ``(added, removed)`` counts.
    """
    return set_columns_lineage({dataset_id: fields}, actor=actor, origin=origin)


def set_columns_lineage(by_dataset, *, actor, origin):
    """``set_column_lineage`` for many datasets at once (``{dataset id: fields}``), in a fixed number of queries."""
    by_dataset = {pk: fields for pk, fields in by_dataset.items() if fields}
    if not by_dataset:
        return 0, 0
    upstream_ids = {up_id for fields in by_dataset.values() for links in fields.values() for up_id, _, _ in links}
    columns = Column.objects.filter(dataset_id__in={*by_dataset, *upstream_ids}).values_list(
        "pk", "dataset_id", "name", "dataset__asset__name"
    )
    found = {(dataset_id, name): (pk, asset_name) for pk, dataset_id, name, asset_name in columns}
    wanted, named = {}, {}
    for dataset_id, fields in by_dataset.items():
        for name, links in fields.items():
            if (dataset_id, name) not in found:
                continue
            own = found[dataset_id, name][0]
            named[own] = (dataset_id, name)
            for up_id, up_name, transformation in links:
                if (up_id, up_name) in found and found[up_id, up_name][0] != own:
                    wanted[found[up_id, up_name][0], own] = (transformation or "")[:200]
    existing = {
        (row.upstream_id, row.downstream_id): row
        for row in ColumnLineage.objects.filter(downstream_id__in=list(named)).select_related(
            "upstream__dataset__asset", "downstream"
        )
    }
    stale = [row for key, row in existing.items() if key not in wanted and row.origin == origin]
    missing = [key for key in wanted if key not in existing]
    if not stale and not missing:
        return 0, 0
    label = {pk: f"{asset_name}.{name}" for (_, name), (pk, asset_name) in found.items()}
    changes = {}
    for row in stale:
        before = f"{row.downstream.name} ← {row.upstream.dataset.asset.name}.{row.upstream.name}"
        changes.setdefault(named[row.downstream_id][0], ([], []))[0].append(before)
    for up, down in missing:
        changes.setdefault(named[down][0], ([], []))[1].append(f"{named[down][1]} ← {label[up]}")
    created_by = actor if actor is not None and actor.is_authenticated else None
    with transaction.atomic():
        ColumnLineage.objects.filter(pk__in=[row.pk for row in stale]).delete()
        ColumnLineage.objects.bulk_create(
            [
                ColumnLineage(upstream_id=up, downstream_id=down, origin=origin, transformation=wanted[up, down])
                for up, down in missing
            ],
            ignore_conflicts=True,
        )
        AssetChange.objects.bulk_create(
            AssetChange(
                asset_id=dataset_id,
                actor=created_by,
                action=ChangeAction.LINEAGE,
                changes={"column lineage": ["; ".join(sorted(before)), "; ".join(sorted(after))]},
            )
            for dataset_id, (before, after) in changes.items()
        )
        events.announce_lineage_changed(sorted(changes))
    return len(missing), len(stale)


def _lineage_change(asset_id, actor, side, what):
    return AssetChange(asset_id=asset_id, actor=actor, action=ChangeAction.LINEAGE, changes={side: ["", what]})


def _tags(names):
    return [Tag.objects.get_or_create(name=name)[0] for name in names]


def move_lifecycle(asset, to, *, only_from=None):
    """Move ``asset`` to the lifecycle ``to`` (a compare-and-set when ``only_from`` is given: False if it was not
    in that state any more). Deprecation workflows call this; downstream assets read the lifecycle of their inputs,
    so the change is announced as travelling."""
    rows = Asset.objects.filter(pk=asset.pk)
    if only_from is not None:
        rows = rows.filter(lifecycle=only_from)
    with transaction.atomic():
        if not rows.update(lifecycle=to):
            return False
        asset.lifecycle = to
        events.asset_changed.send(sender=Asset, asset_ids=[asset.pk], travels=True)
    return True


def schedule_review(asset, interval_days, next_date):
    """Set when ``asset`` must be checked again (a review, or its owner choosing an interval)."""
    with transaction.atomic():
        Asset.objects.filter(pk=asset.pk).update(review_interval_days=interval_days, next_review_date=next_date)
        asset.review_interval_days, asset.next_review_date = interval_days, next_date
        events.asset_changed.send(sender=Asset, asset_ids=[asset.pk], travels=False)
