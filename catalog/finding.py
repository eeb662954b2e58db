"""Which asset a typed name means: the filter an asset field accepts and suggests, the suggestions as someone types,
and the one asset a typed value names. Used by the forms' asset fields, the suggestions view, and every door that
takes an asset by name (the scoring job's API among them), so all of them accept the same assets."""

import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Case, Value, When

from catalog.choices import AssetKind, DatasetFormat, SourceKind
from catalog.models import Asset


@dataclass(frozen=True)
class AssetFilter:
    """Which assets a typed asset field accepts and suggests: a kind, and for datasets their formats and the kinds of
    their sources (empty: any). Carried to ``catalog:asset_suggestions`` as query parameters, so the suggestions
    and the accepted values are the same set."""

    kind: str = ""
    formats: tuple = ()
    source_kinds: tuple = ()

    def assets(self):
        assets = Asset.objects.visible()
        if self.kind:
            assets = assets.filter(kind=self.kind)
        if self.formats:
            assets = assets.filter(dataset__format__in=self.formats)
        if self.source_kinds:
            assets = assets.filter(dataset__source__source_kind__in=self.source_kinds)
        if self.kind == AssetKind.DATASET:
            assets = assets.select_related("dataset")
        return assets

    def query(self):
        query = {"kind": self.kind, "format": list(self.formats), "source_kind": list(self.source_kinds)}
        return {name: value for name, value in query.items() if value}

    @classmethod
    def from_query(cls, params):
        """The filter a suggestions request carries; values that are not choices are ignored."""
        kind = params.get("kind", "")
        return cls(
            kind=kind if kind in AssetKind.values else "",
            formats=tuple(value for value in params.getlist("format") if value in DatasetFormat.values),
            source_kinds=tuple(value for value in params.getlist("source_kind") if value in SourceKind.values),
        )


ANY_ASSET = AssetFilter()


def suggested_assets(typed, asset_filter=ANY_ASSET, limit=20):
    """The assets whose name contains ``typed``, names starting with it first (the trigram index on names keeps it
    fast whatever the size of the catalog); none for fewer than two characters."""
    typed = typed.strip()[:200]
    if len(typed) < 2:
        return Asset.objects.none()
    return (
        asset_filter.assets()
        .filter(name__icontains=typed)
        .annotate(starts=Case(When(name__istartswith=typed, then=Value(0)), default=Value(1)))
        .order_by("starts", "name", "pk")[:limit]
    )


def matches(typed, assets, current=None):
    """Up to two of ``assets`` that ``typed`` names (see ``find_asset``): none, one, or two when it is ambiguous."""
    kind, _, slug = typed.partition("/")
    if slug and kind in AssetKind.values:
        found = assets.filter(kind=kind, slug=slug)
    elif current is not None and typed.casefold() == current.name.casefold():
        return [current]
    else:
        try:
            found = assets.filter(uuid=uuid.UUID(typed))
        except ValueError:
            found = assets.filter(name__iexact=typed)
    return list(found[:2])


def find_asset(typed, assets, *, noun="asset", nouns="", current=None):
    """The one asset of ``assets`` that ``typed`` names: a suggestion's ``kind/slug``, an exact name (any case) or
    a UUID; a ``ValidationError`` saying why otherwise, naming what was looked for (``noun``, plural ``nouns``, by
    default the noun with an s). ``current`` (the value the field had) wins when its name is
    typed, so an unchanged form saves even when another asset has the same name."""
    found = matches(typed, assets, current)
    if not found:
        raise ValidationError(f"No {noun} called “{typed}”. Start typing and pick one from the suggestions.")
    if len(found) > 1:
        raise ValidationError(f"Several {nouns or noun + 's'} are called “{typed}”: pick one from the suggestions.")
    return found[0]
