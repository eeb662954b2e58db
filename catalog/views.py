import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, ProtectedError, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalog.access import asset_for_user
from catalog.assets import StaleEdit, add_edge, delete_asset, kind_row, remove_edge, save_asset
from catalog.choices import AssetKind, Lifecycle
from catalog.filtersets import AssetFilterSet
from catalog.finding import AssetFilter, suggested_assets
from catalog.forms import (
    EDITABLE_KINDS,
    KIND_FORMS,
    LIST_ID,
    AssetForm,
    LineageForm,
    NamingConventionForm,
)
from catalog.lineage import (
    DEFAULT_DEPTH,
    MAX_DEPTH,
    ImpactOrder,
    column_links,
    column_walk,
    column_walk_hops,
    impact_key,
    walk,
    walk_hops,
    with_hops,
)
from catalog.models import Asset, AssetChange, Column, LineageEdge, NamingConvention, SchemaChange
from catalog.models.assets import asset_url
from catalog.scanning import READERS
from catalog.tabs import page_context, tab_of, tabs_for
from core.choices import JobKind
from core.http import csv_stream, query_without_page, whole_number
from core.models import JobRun

PAGE_SIZE = 50
# Assets the lineage graph draws on each side, the nearest first: enough to read, not a 39,000-box picture.
GRAPH_NODES = 100
HISTORY_SIZE = 20


def _asset_list(request, nav, title, base_queryset):
    filterset = AssetFilterSet(request.GET, queryset=base_queryset.with_people().prefetch_related("tags"))
    queryset = filterset.qs
    if not request.GET.get("lifecycle"):
        queryset = queryset.visible()
    if not request.GET.get("sort"):
        queryset = queryset.order_by("name", "pk")
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/asset_list.html",
        {
            "filter": filterset,
            "page": page,
            "nav": nav,
            "title": title,
            "query": query_without_page(request.GET),
            "creatable": EDITABLE_KINDS,
        },
    )


def asset_list(request):
    return _asset_list(request, "catalog", "Catalog", Asset.objects.all())


def report_list(request):
    return _asset_list(request, "reports", "Reports", Asset.objects.filter(kind=AssetKind.REPORT))


def _history(asset):
    """The asset's timeline: edits and, for a dataset, schema changes, newest first."""
    entries = [
        {"at": change.created_at, "change": change}
        for change in AssetChange.objects.filter(asset=asset).select_related("actor")[:HISTORY_SIZE]
    ]
    if asset.kind == AssetKind.DATASET:
        entries += [
            {"at": change.detected_at, "schema_change": change}
            for change in SchemaChange.objects.filter(dataset_id=asset.pk)[:HISTORY_SIZE]
        ]
    return sorted(entries, key=lambda entry: entry["at"], reverse=True)[:HISTORY_SIZE]


def asset_detail(request, kind, slug, tab="overview"):
    """An asset's page: the header and one tab (``catalog.tabs``), each tab at its own URL."""
    tabs = tabs_for(kind)
    chosen = tab_of(kind, tab) if tab != "overview" else (tabs[0] if tabs else None)
    if chosen is None:
        raise Http404("This asset has no such tab.")
    asset, can_edit = asset_for_user(request, kind, slug)
    if chosen.url_name:  # drawn by a view of its own (a model's card, the lineage graph)
        return redirect(chosen.url(asset, first=False))
    context = page_context(asset, can_edit, chosen)
    context["scan_source"] = _scan_source(asset)
    own = TAB_CONTEXT.get(chosen.slug)
    if own is not None:
        context.update(own(request, asset, can_edit, context))
    if chosen.context is not None:
        context.update(chosen.context(request, asset, can_edit))
    return render(request, chosen.template, context)


def _scan_source(asset):
    scan_source = None
    if asset.kind == AssetKind.DATASET:
        dataset = getattr(asset, "dataset", None)
        scan_source = dataset.source if dataset is not None else None
    elif asset.kind == AssetKind.SOURCE:  # not for other kinds: asking them for a source is a query that finds none
        scan_source = getattr(asset, "source", None)
    return scan_source if scan_source is not None and scan_source.source_kind in READERS else None


def _overview(request, asset, can_edit, context):
    extra = {"violations": asset.naming_violations(NamingConvention.objects.filter(kind=asset.kind))}
    if asset.kind == AssetKind.SOURCE:
        extra["source_datasets"] = asset.source.datasets.select_related("asset").order_by("qualified_name")[:100]
        extra["source_dataset_count"] = asset.source.datasets.count()
    if asset.kind == AssetKind.PIPELINE:
        extra["runs"] = asset.pipeline.runs.all()[:10]
    return extra


def _columns(request, asset, can_edit, context):
    return {"columns": _columns_with_lineage(asset)}


def _history_tab(request, asset, can_edit, context):
    extra = {"history": _history(asset)}
    scan_source = context["scan_source"]
    if scan_source is not None:
        extra["scans"] = JobRun.objects.filter(asset_id=scan_source.pk, kind=JobKind.SCHEMA_SCAN).select_related(
            "requested_by"
        )[:5]
    return extra


# The catalog's own tabs' context; tabs of other apps bring theirs (``Tab.context``).
TAB_CONTEXT = {"overview": _overview, "columns": _columns, "history": _history_tab}


def _columns_with_lineage(asset):
    """The dataset's columns, each with ``.sources`` and ``.consumers`` (column lineage links), in three queries."""
    columns = list(asset.dataset.columns.all())
    links = column_links(columns)
    for column in columns:
        found = links.get(column.pk, {})
        column.sources, column.consumers = found.get("sources", []), found.get("consumers", [])
    return columns


def column_impact(request, slug, column):
    """Every column downstream of one column of a dataset, nearest first, with its dataset's owner and team; as a
    page, or as CSV with ``?format=csv`` (streamed, one hop at a time)."""
    asset, _ = asset_for_user(request, AssetKind.DATASET, slug)
    start = get_object_or_404(Column, dataset_id=asset.pk, name=column)
    if request.GET.get("format") == "csv":
        header = ["hops", "dataset", "column", "type", "owner", "owner email", "team", "url"]
        batches = _column_impact_rows(request, column_walk_hops([start.pk], "down", _depth(request)))
        return csv_stream(f"impact-{asset.slug}-{start.name}.csv", header, batches)
    hops = column_walk([start.pk], "down", _depth(request))
    rows = _columns_in_impact_order(hops, hops)
    return render(
        request,
        "catalog/column_impact.html",
        {"asset": asset, "column": start, "rows": rows, "depth": _depth(request), "nav": "catalog"},
    )


def _columns_in_impact_order(ids, hops):
    """The columns of ``ids``, each with ``.hops`` from ``hops`` and its dataset's asset, owner and team loaded,
    nearest first, then by dataset and column name."""
    rows = sorted(
        Column.objects.filter(pk__in=list(ids)).select_related("dataset__asset__owner", "dataset__asset__team"),
        key=lambda row: (hops[row.pk], row.dataset.asset.name.lower(), row.name),
    )
    for row in rows:
        row.hops = hops[row.pk]
    return rows


def _column_impact_rows(request, walked):
    """The column impact file's rows, a list per hop of ``walked`` (``column_walk_hops``), each read when asked."""
    for hop, ids in walked:
        rows = []
        for row in _columns_in_impact_order(ids, dict.fromkeys(ids, hop)):
            owner, team = row.dataset.asset.owner, row.dataset.asset.team
            rows.append(
                [
                    row.hops,
                    row.dataset.asset.name,
                    row.name,
                    row.data_type,
                    owner.get_username() if owner else "",
                    owner.email if owner else "",
                    team.name if team else "",
                    request.build_absolute_uri(row.dataset.asset.get_absolute_url()),
                ]
            )
        yield rows


def _form_user(kind, request):
    """The dataset form offers only the sources the user may edit, so it needs to know who is asking."""
    return {"user": request.user} if kind == AssetKind.DATASET else {}


def asset_create(request, kind):
    if kind not in EDITABLE_KINDS:
        raise Http404("Models and their versions are registered in the model registry.")
    asset_form = AssetForm(request.POST or None, initial={"owner": request.user}, user=request.user)
    detail_form = KIND_FORMS[kind](request.POST or None, prefix="detail", **_form_user(kind, request))
    if request.method == "POST" and asset_form.is_valid() and detail_form.is_valid():
        asset = asset_form.save(commit=False)
        asset.kind = kind
        save_asset(asset, detail_form.save(commit=False), request.user, asset_form.cleaned_data["tags_text"])
        messages.success(request, f"{asset.name} is in the catalog.")
        return redirect(asset)
    return render(
        request,
        "catalog/asset_form.html",
        {"asset_form": asset_form, "detail_form": detail_form, "kind": AssetKind(kind), "nav": "catalog"},
    )


def asset_edit(request, kind, slug):
    if kind not in EDITABLE_KINDS:
        raise Http404("Models and their versions are edited in the model registry.")
    asset, _ = asset_for_user(request, kind, slug, edit=True)
    asset_form = AssetForm(request.POST or None, instance=asset, user=request.user)
    detail_form = KIND_FORMS[kind](
        request.POST or None, instance=kind_row(asset), prefix="detail", **_form_user(kind, request)
    )
    if request.method == "POST" and asset_form.is_valid() and detail_form.is_valid():
        try:
            save_asset(
                asset_form.save(commit=False),
                detail_form.save(commit=False),
                request.user,
                asset_form.cleaned_data["tags_text"],
                asset_form.cleaned_data["version"],
            )
        except StaleEdit:
            asset_form.add_error(
                None,
                "Someone else saved this asset after you opened this form, so your changes were not saved. "
                "Open the page again in a new tab to see theirs, then re-apply yours.",
            )
        else:
            messages.success(request, "Saved.")
            return redirect(asset)
    return render(
        request,
        "catalog/asset_form.html",
        {"asset_form": asset_form, "detail_form": detail_form, "kind": AssetKind(kind), "asset": asset},
    )


def asset_delete(request, kind, slug):
    if kind not in EDITABLE_KINDS:
        raise Http404("Models and their versions are removed in the model registry.")
    asset, _ = asset_for_user(request, kind, slug, edit=True)
    downstream = walk([asset.pk], "down", MAX_DEPTH)
    if request.method == "POST":
        try:
            delete_asset(asset)
        except ProtectedError:
            messages.error(request, "This source still has datasets. Delete them or move them to another source.")
            return redirect(asset)
        messages.success(request, f"{asset.name} was deleted.")
        return redirect("catalog:asset_list")
    return render(request, "catalog/asset_confirm_delete.html", {"asset": asset, "downstream_count": len(downstream)})


@require_POST
def lineage_add(request, kind, slug):
    asset, _ = asset_for_user(request, kind, slug, edit=True)
    form = LineageForm(request.POST, asset=asset)
    if form.is_valid():
        try:
            add_edge(*form.ends(), request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Lineage added.")
    else:
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
    return redirect("catalog:lineage", kind, slug)


def asset_suggestions(request):
    """The ``<datalist>`` of an asset field (``catalog.forms.AssetField``): the assets its filter allows whose name
    contains what was typed. The field's input names the parameter holding the text (``field``, the lineage
    form's ``other`` by default) and the datalist to replace (``list``)."""
    typed = request.GET.get(request.GET.get("field") or "other", "")
    list_id = request.GET.get("list", "")
    earlier = ""
    if request.GET.get("several"):  # ``AssetsField``: suggest for the last name, keeping those before it
        earlier, _, typed = typed.rpartition(",")
        earlier = f"{earlier.strip()}, " if earlier.strip() else ""
    return render(
        request,
        "catalog/partials/asset_suggestions.html",
        {
            "assets": suggested_assets(typed, AssetFilter.from_query(request.GET)),
            "list_id": list_id if LIST_ID.match(list_id) else "lineage-candidates",
            "earlier": earlier,
        },
    )


@require_POST
def lineage_remove(request, kind, slug):
    asset, _ = asset_for_user(request, kind, slug, edit=True)
    try:
        other = Asset.objects.filter(uuid=uuid.UUID(request.POST.get("other", ""))).first()
    except ValueError:
        other = None
    if other is None:
        messages.error(request, "That lineage link no longer exists.")
        return redirect("catalog:lineage", kind, slug)
    up, down = (asset, other) if request.POST.get("direction") == "down" else (other, asset)
    if remove_edge(up, down, request.user):
        messages.success(request, f"{up.name} no longer feeds {down.name}.")
    return redirect("catalog:lineage", kind, slug)


def _depth(request):
    try:
        return max(1, min(int(request.GET.get("depth", DEFAULT_DEPTH)), MAX_DEPTH))
    except ValueError:
        return DEFAULT_DEPTH


def lineage(request, kind, slug):
    """The graph of the nearest assets both ways, and every asset downstream as a paged table.

    From a hub, 10 hops reach 39,000 assets: the page sorts, loads, draws and badges only the assets it shows (the
    graph's nearest ``GRAPH_NODES`` each way and one page of the table).
    """
    asset, can_edit = asset_for_user(request, kind, slug)
    depth = _depth(request)
    upstream = walk([asset.pk], "up", depth)
    downstream = walk([asset.pk], "down", depth)
    impact_order = ImpactOrder(downstream)
    page = Paginator(impact_order, PAGE_SIZE).get_page(request.GET.get("page"))
    drawn = {asset.pk, *ImpactOrder(upstream)[:GRAPH_NODES], *impact_order[:GRAPH_NODES]}
    assets = {row.pk: row for row in Asset.objects.with_people().filter(pk__in=[*drawn, *page.object_list])}
    edges = LineageEdge.objects.filter(upstream_id__in=drawn, downstream_id__in=drawn).values_list(
        "upstream_id", "downstream_id"
    )
    context = page_context(asset, can_edit, tab_of(kind, "lineage"))
    context["scan_source"] = _scan_source(asset)
    # The direct neighbours, which the owner edits by hand on this tab.
    neighbours = Asset.objects.with_people().order_by("kind", "name")
    context["upstream"] = neighbours.filter(downstream_edges__downstream=asset)
    context["downstream"] = neighbours.filter(upstream_edges__upstream=asset)
    context["lineage_form"] = LineageForm(asset=asset) if can_edit else None
    return render(
        request,
        "catalog/lineage.html",
        context
        | {
            "depth": depth,
            "depths": range(1, MAX_DEPTH + 1),
            # Drawn by the template (``lineage_graph``) with the badges of ``shown``, which the trust tags read.
            "graph": {
                "centre": asset,
                "upstream": {pk: hops for pk, hops in upstream.items() if pk in drawn},
                "downstream": {pk: hops for pk, hops in downstream.items() if pk in drawn},
                "assets": assets,
                "edges": list(edges),
            },
            "shown": list(assets.values()),
            "graph_is_partial": len(drawn) < 1 + len(upstream) + len(downstream),
            "graph_nodes": GRAPH_NODES,
            "impact": with_hops({pk: downstream[pk] for pk in page.object_list}, assets),
            "page": page,
            "query": query_without_page(request.GET),
            "upstream_count": len(upstream),
            "downstream_count": len(downstream),
        },
    )


def impact_csv(request, kind, slug):
    """Everything downstream, in the impact table's order, streamed one hop at a time.

    Built for a hub's 39,000 rows: the first hop's rows leave while the walk goes on (``walk_hops``); plain values
    rather than assets with owner and team (seconds of model instances); each kind's address reversed once and each
    label looked up in a dict rather than once per row (most of the rest).
    """
    asset, _ = asset_for_user(request, kind, slug)
    header = ["hops", "kind", "name", "owner", "owner email", "team", "status", "url"]
    batches = _impact_rows(request, walk_hops([asset.pk], "down", _depth(request)))
    return csv_stream(f"impact-{asset.slug}.csv", header, batches)


def _impact_rows(request, walked):
    """The impact file's rows, a list per hop of ``walked`` (``walk_hops``), each hop's assets read when asked."""
    columns = ["pk", "name", "kind", "slug", "lifecycle", "owner__username", "owner__email", "team__name"]
    address = {
        value: request.build_absolute_uri(asset_url(value, "SLUG")).rsplit("SLUG", 1) for value in AssetKind.values
    }
    kinds, lifecycles = dict(AssetKind.choices), dict(Lifecycle.choices)
    for hops, ids in walked:
        rows = Asset.objects.filter(pk__any_of=ids).values_list(*columns)
        yield [
            [
                hops,
                kinds[row_kind],
                name,
                username or "",
                email or "",
                team or "",
                lifecycles[lifecycle],
                f"{address[row_kind][0]}{row_slug}{address[row_kind][1]}",
            ]
            for pk, name, row_kind, row_slug, lifecycle, username, email, team in sorted(
                rows, key=lambda row: impact_key(hops, row[1], row[0])
            )
        ]


@require_POST
def scan(request, kind, slug):
    asset, _ = asset_for_user(request, kind, slug, edit=True)
    source = asset.dataset.source if kind == AssetKind.DATASET else getattr(asset, "source", None)
    if source is None or source.source_kind not in READERS:
        messages.error(request, "Only PostgreSQL, SQLite and file sources can be scanned.")
        return redirect(asset)
    run = JobRun.enqueue(JobKind.SCHEMA_SCAN, asset=source.asset, requested_by=request.user)
    messages.success(
        request, run.queued_message(f"A scan of {source.asset.name} is queued. Its result appears below when done.")
    )
    return redirect(asset)


def hygiene(request):
    """Assets that break a naming convention or miss an owner, a description or a review date."""
    conventions = list(NamingConvention.objects.all())
    by_kind = {}
    for convention in conventions:
        by_kind.setdefault(convention.kind, []).append(convention)
    assets = Asset.objects.visible().with_people()
    missing = assets.filter(Q(owner__isnull=True) | Q(description="") | Q(next_review_date__isnull=True)).order_by(
        "kind", "name"
    )
    misnamed = []
    named = Asset.objects.visible().filter(kind__in=list(by_kind)).only("kind", "name", "slug")
    for asset in named.order_by("kind", "name"):
        broken = asset.naming_violations(by_kind[asset.kind])
        if broken:
            misnamed.append((asset, broken))
    page = Paginator(missing, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/hygiene.html",
        {
            "page": page,
            "misnamed": misnamed,
            "conventions": conventions,
            "counts": assets.aggregate(
                no_owner=Count("pk", filter=Q(owner__isnull=True)),
                no_description=Count("pk", filter=Q(description="")),
                no_review=Count("pk", filter=Q(next_review_date__isnull=True)),
            ),
            "nav": "catalog",
        },
    )


def conventions(request):
    """Staff manage naming conventions here; everyone can read them."""
    form = NamingConventionForm(request.POST or None)
    if request.method == "POST":
        if not request.user.is_staff:
            raise PermissionDenied("Only staff define naming conventions.")
        if "delete" in request.POST:
            NamingConvention.objects.filter(pk=whole_number(request.POST.get("delete"))).delete()
            messages.success(request, "Convention removed.")
            return redirect("catalog:conventions")
        if form.is_valid():
            convention = form.save(commit=False)
            convention.created_by = request.user
            convention.save()
            messages.success(request, "Convention added. The hygiene page now checks it.")
            return redirect(reverse("catalog:conventions"))
    return render(
        request,
        "catalog/conventions.html",
        {"form": form, "conventions": NamingConvention.objects.select_related("created_by"), "nav": "catalog"},
    )
