"""The tabs under an asset's header: each tab is a template of its own, at a URL of its own.

An asset page (catalog assets and models alike) is the header (name, kind, badge, owner, freshness in words, one
primary action, the rest in a menu) and one tab below it. A tab is registered once, by name, with the kinds it
shows for, the template that draws it and, if it needs more than the header's context, a function that adds to
it. Apps above the catalog add their own tabs from their ``AppConfig.ready`` (so the catalog never imports them):

    from catalog.tabs import Tab, register
    register(Tab("quality", "Quality", "quality/tabs/quality.html", kinds={"dataset"}, order=25, context=quality_ctx))

``context(request, asset, can_edit)`` returns a dict merged into the page's context; a tab needing nothing beyond
the header (``asset``, ``can_edit``, ``upstream_hops``) has none. The URL of tab ``slug`` is
``/catalog/<kind>/<slug>/<tab>/`` (``catalog:asset_tab``) unless the tab names a view of its own (``url_name``); the
first tab of a kind is the asset's own page.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from catalog.choices import AssetKind

CATALOG_KINDS = frozenset(AssetKind)


@dataclass(frozen=True)
class Tab:
    slug: str
    label: str
    template: str
    kinds: frozenset = CATALOG_KINDS
    order: int = 50
    context: Callable | None = None
    # A tab drawn by a view of its own (the lineage graph): its URL name, called with the asset's kind and slug.
    url_name: str = ""
    # Its URL takes only the slug (the registry's model pages), not the kind and the slug.
    slug_only: bool = False

    def url(self, asset, first):
        if self.url_name:
            kwargs = {"slug": asset.slug} if self.slug_only else {"kind": asset.kind, "slug": asset.slug}
            return reverse(self.url_name, kwargs=kwargs)
        if first:
            return asset.get_absolute_url()
        return reverse("catalog:asset_tab", kwargs={"kind": asset.kind, "slug": asset.slug, "tab": self.slug})


_TABS = {}


def register(tab):
    """Add (or replace, by slug and kind) a tab; called at import of this module and from apps' ``ready``."""
    for kind in tab.kinds:
        _TABS[(kind, tab.slug)] = tab


def tabs_for(kind):
    """The tabs of ``kind``, in their order; the first is the asset's own page."""
    return sorted((tab for (k, _), tab in _TABS.items() if k == kind), key=lambda tab: (tab.order, tab.slug))


def tab_of(kind, slug):
    """The tab ``slug`` of ``kind``, or None (the view answers 404)."""
    return _TABS.get((kind, slug))


def page_context(asset, can_edit, tab):
    """What every tab of an asset's page shares: the header's facts (one permission check, one walk upstream, which
    the panels read instead of asking again) and the tab bar. ``tab`` is a ``Tab``."""
    from catalog.forms import EDITABLE_KINDS
    from catalog.lineage import upstream_of

    return {
        "asset": asset,
        "can_edit": can_edit,
        "upstream_hops": upstream_of(asset),
        "editable_kind": asset.kind in EDITABLE_KINDS,
        "nav": {AssetKind.REPORT: "reports", AssetKind.MODEL: "models"}.get(asset.kind, "catalog"),
        "tab": tab,
        "tabs": tab_links(asset, tab.slug),
    }


def tab_links(asset, active):
    """``[(tab, url, is_active)]`` for the tab bar."""
    tabs = tabs_for(asset.kind)
    return [(tab, tab.url(asset, index == 0), tab.slug == active) for index, tab in enumerate(tabs)]


# --- the catalog's own tabs --------------------------------------------------------------------------------------
# A model's first tab is its card (registry/tabs.py), at the registry's own URL.
register(Tab("overview", "Overview", "catalog/asset_detail.html", kinds=CATALOG_KINDS - {AssetKind.MODEL}, order=0))
register(Tab("columns", "Columns", "catalog/tabs/columns.html", kinds=frozenset({AssetKind.DATASET}), order=10))
register(Tab("lineage", "Lineage", "catalog/lineage.html", order=20, url_name="catalog:lineage"))
register(Tab("issues", "Issues and requests", "trust/tabs/issues.html", order=40))
register(Tab("history", "History", "catalog/tabs/history.html", order=90))
