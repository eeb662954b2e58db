from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from catalog.choices import AssetKind
from catalog.tabs import page_context, tab_of
from core.http import query_without_page, whole_number
from core.limits import LONG_TEXT_LIMIT
from core.markdown import render_markdown
from registry import cards
from registry.access import get_model, get_version
from registry.choices import ChecklistItem, PromotionState, Stage
from registry.filtersets import RegisteredModelFilterSet
from registry.forms import (
    ApproversForm,
    AssumptionForm,
    CardConflictForm,
    CardForm,
    ModelFactsForm,
    ModelUserForm,
    PromotionNoteForm,
    QualityGatesForm,
    VersionForm,
)
from registry.models import (
    CardEditConflict,
    ModelCard,
    ModelUser,
    ModelVersion,
    PromotionBlocked,
    RegisteredModel,
    gate_results,
)
from registry.services import (
    add_assumption,
    add_model_user,
    decide_promotion,
    may_choose_approvers,
    register_model,
    register_version,
    remove_assumption,
    remove_model_user,
    request_promotion,
    set_people,
    set_quality_gates,
    thresholds_text,
    update_model_facts,
    update_version_facts,
    waive_gate,
)
from registry.stepper import stepper_for


def model_list(request):
    models = (
        RegisteredModel.objects.select_related("asset__owner", "asset__team")
        # A correlated count runs for the page's rows only; Count() over a join would group every version of
        # every model before the page is cut (731 ms p95 at 50,000 versions, bench/RESULTS.md).
        .annotate(
            version_count=Coalesce(
                Subquery(
                    ModelVersion.objects.filter(model=OuterRef("pk"))
                    .order_by()
                    .values("model")
                    .annotate(n=Count("pk"))
                    .values("n"),
                    output_field=IntegerField(),
                ),
                0,
            )
        )
        .prefetch_related(
            Prefetch("versions", queryset=ModelVersion.objects.filter(stage=Stage.PRODUCTION), to_attr="in_use")
        )
        .by_name()
    )
    filters = RegisteredModelFilterSet(request.GET, queryset=models)
    page = Paginator(filters.qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "registry/model_list.html",
        {"page": page, "filters": filters, "nav": "models", "query": query_without_page(request.GET)},
    )


def model_create(request):
    form = ModelFactsForm(request.POST or None, initial={"developers": [request.user.pk]}, user=request.user)
    form.fields["team"].queryset = (
        request.user.teams.all() if not request.user.is_staff else form.fields["team"].queryset
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with transaction.atomic():
            model = register_model(
                data["name"], owner=request.user, team=data["team"], summary=data["summary"], goal=data["goal"]
            )
            model.users_description = data["users_description"]
            model.save(update_fields=["users_description"])
            set_people(model, developers=data["developers"] or [request.user])
        messages.success(request, f"{model} is registered. Next: register its first version and fill its card.")
        return redirect(model)
    return render(request, "registry/model_form.html", {"form": form, "nav": "models"})


def model_detail(request, slug):
    model, can_edit = get_model(request, slug)
    percent, missing = model.card_completeness()
    version = model.current_version()
    pending = (
        model.promotion_requests.filter(state=PromotionState.PENDING).select_related("version", "requested_by").first()
    )
    context = page_context(model.asset, can_edit, tab_of(AssetKind.MODEL, "card"))
    context |= {
        "model": model,
        "card": model.get_card(),
        "layout": _layout(model.get_card()),
        "current": version,
        "percent": percent,
        "missing": missing,
        "threshold": settings.MODEL_CARD_COMPLETENESS_THRESHOLD,
        "pending": pending,
        "assumption_form": AssumptionForm(),
        "user_form": ModelUserForm(),
    }
    return render(request, "registry/model_detail.html", context)


def _gates_initial(model):
    fairness = getattr(model, "fairness_limit", None)
    return {
        "thresholds": thresholds_text(model),
        "sensitive_column": fairness.sensitive_column if fairness else "",
        "max_gap": fairness.max_gap if fairness else None,
    }


def _set_gates(model, data):
    """Save the gates of a valid ``QualityGatesForm`` (this page's or the card editor's)."""
    set_quality_gates(model, data["parsed"], sensitive_column=data["sensitive_column"], max_gap=data["max_gap"])


def _gates_changed(model, data):
    """Whether the gates of a valid ``QualityGatesForm`` differ from the saved ones (the card editor sends them back
    on every save)."""
    fairness = getattr(model, "fairness_limit", None)
    saved = {(t.metric, t.split, str(t.direction), t.value) for t in model.quality_thresholds.all()}
    typed = {(metric, split, str(direction), value) for metric, split, direction, value in data["parsed"]}
    limit = (fairness.sensitive_column, fairness.max_gap) if fairness else ("", None)
    return typed != saved or ((data["sensitive_column"] or "").strip(), data["max_gap"]) != limit


def _refusal_in_place(form, exc):
    """A domain function's refusal (``ValidationError``) shown on ``form``: by field where it names one."""
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def quality_gates(request, slug):
    """The model's thresholds and fairness limit: what every version must meet before it goes into use. The card
    editor holds the same form (``card_edit``)."""
    model, _ = get_model(request, slug, edit=True)
    form = QualityGatesForm(request.POST or None, initial=_gates_initial(model))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            _set_gates(model, data)
        except ValidationError as exc:
            _refusal_in_place(form, exc)
        else:
            messages.success(request, "Quality gates saved: they count for the next promotion.")
            return redirect(reverse("registry:model_detail", kwargs={"slug": slug}) + "#gates")
    return render(request, "registry/gates_form.html", {"model": model, "form": form, "nav": "models"})


def model_versions(request, slug):
    """The Versions tab: every version with its stage and metrics; the one in use first in words."""
    model, can_edit = get_model(request, slug)
    context = page_context(model.asset, can_edit, tab_of(AssetKind.MODEL, "versions"))
    context |= {"model": model, "versions": model.versions.all(), "current": model.current_version()}
    return render(request, "registry/model_versions.html", context)


def _layout(card):
    return [
        (heading, [(cards.field_label(name), getattr(card, name), name) for name in fields])
        for heading, fields in cards.CARD_LAYOUT
    ]


def model_edit(request, slug):
    model, _ = get_model(request, slug, edit=True)
    form = ModelFactsForm(request.POST or None, instance=model, user=request.user)
    approvers = (
        ApproversForm(request.POST or None, instance=model, prefix="approval")
        if may_choose_approvers(request.user)
        else None
    )
    if request.method == "POST" and form.is_valid() and (approvers is None or approvers.is_valid()):
        model = form.save(commit=False)
        update_model_facts(
            model,
            {"name": form.cleaned_data["name"], "team": form.cleaned_data["team"]},
            actor=request.user,
            developers=form.cleaned_data["developers"],
            approvers=approvers.cleaned_data["approvers"] if approvers is not None else None,
        )
        messages.success(request, "Saved.")
        return redirect(model)
    return render(
        request, "registry/model_form.html", {"form": form, "approvers": approvers, "model": model, "nav": "models"}
    )


# --- the card ----------------------------------------------------------------------------------------------------
def card_edit(request, slug):
    """The one card editor: the prose, and beside it everything else the meter counts (the model's facts, a new
    assumption, a new user, the quality gates, the current version's facts or a version to register), saved by one
    button through the same services as their own forms. A refusal of any of them saves nothing and shows the page
    again as typed.

    A save on top of a revision someone has since moved on from applies the sections the editor changed and keeps
    the others' (``cards.save_merging``); sections both changed come back side by side, with the editor's text kept
    whole, until the editor chooses for each (``CardConflictForm``). Nothing else is saved while such a choice is
    open."""
    model, _ = get_model(request, slug, edit=True)
    card, _ = ModelCard.objects.get_or_create(model=model)
    extras = _editor_forms(request, model)
    if request.method != "POST":
        return _card_page(request, model, CardForm(instance=card), extras)
    form = CardForm(request.POST, instance=card)
    resolution = CardConflictForm(request.POST, names=CardConflictForm.names_in(request.POST))
    bound = [extra for extra in extras.values() if extra.is_bound]
    if not all([form.is_valid(), resolution.is_valid(), *[extra.is_valid() for extra in bound]]):
        return _card_page(request, model, form, extras, _conflict_again(card, form, resolution))
    base = form.cleaned_data["base_revision"]
    changes = resolution.resolve(form.changes(), card.snapshot_at(base) or {})
    try:
        with transaction.atomic():
            revision, kept = cards.save_merging(card, changes, request.user, base)
            saved = _save_extras(request, model, extras)
    except cards.Unresolved as exc:
        form, conflict = _conflict_forms(card, exc, resolution.cleaned_data.get("started_from"))
        return _card_page(request, model, form, extras, conflict)
    except _RefusedBeside:  # rolled back: the refusal is on its form
        return _card_page(request, model, form, extras)
    if revision is None and not saved:
        messages.info(request, "Nothing changed.")
    else:
        # Read afresh: the model's prefetched lists are from before the save.
        percent, _ = RegisteredModel.objects.select_related("asset", "card").get(pk=model.pk).card_completeness()
        done = ([f"Card saved as revision {revision.number}."] if revision is not None else []) + saved
        messages.success(request, f"{' '.join(done)} It is {percent}% complete.")
    if kept:
        messages.info(request, f"Changes others saved meanwhile are kept: {', '.join(kept)}.")
    return redirect(model)


# The fields of ``VersionForm`` the card editor holds: those the meter counts, and the split of the metrics.
VERSION_EDITOR_FIELDS = ("algorithm", "training_datasets", "metrics", "split")


def _editor_forms(request, model):
    """The forms the card editor holds beside the prose: the model's facts (``ModelFactsForm``, as on its own page),
    a new assumption, a new user, the quality gates (``QualityGatesForm``, as on their own page) and the current
    version's facts, or a version to register (``VersionForm``, as on the version page). Each is bound only when the
    editor sent something for it: a client posting only the sections changes only those, and the empty "add" boxes
    are no error. The gates and a version's facts are sent whole by the editor, so an emptied box is a change."""
    data = request.POST if request.method == "POST" else None

    def sent(prefix, *names):
        if data is None:
            return None
        keys = [f"{prefix}-{name}" for name in names] if names else [k for k in data if k.startswith(f"{prefix}-")]
        return data if any(str(data.get(key, "")).strip() for key in keys) else None

    def whole(prefix, name):
        return data if data is not None and f"{prefix}-{name}" in data else None

    current = model.current_version()
    registering = sent("version", "algorithm", "metrics", "training_datasets")
    version = VersionForm(
        registering if current is None else whole("version", "algorithm"),
        initial=_version_initial(current),
        prefix="version",
    )
    if current is not None:
        # A registered version may have none (one synced from MLflow): saving the prose must not depend on it.
        version.fields["algorithm"].required = False
    return {
        "facts": ModelFactsForm(sent("facts"), instance=model, user=request.user, prefix="facts"),
        "assumption": AssumptionForm(sent("assumption", "statement", "verified_on"), prefix="assumption"),
        "user": ModelUserForm(sent("user", "name", "needs"), instance=ModelUser(model=model), prefix="user"),
        "gates": QualityGatesForm(whole("gates", "thresholds"), initial=_gates_initial(model), prefix="gates"),
        "version": version,
    }


def _version_initial(version):
    """The editor's version box as saved: the facts of ``version`` (None: a new one), its metrics on the split most
    of them use ("test" first)."""
    if version is None:
        return {}
    splits = [metric.split for metric in version.metrics.all()]
    split = "test" if "test" in splits or not splits else max(set(splits), key=splits.count)
    return {
        "algorithm": version.algorithm,
        "training_datasets": list(version.training_datasets.all()),
        "metrics": "\n".join(f"{m.name} = {m.value!r}" for m in version.metrics.all() if m.split == split),
        "split": split,
    }


class _RefusedBeside(Exception):
    """A domain function refused what the editor holds beside the prose; its form carries the errors."""


def _save_extras(request, model, extras):
    """Save what the editor changed beside the prose, each through its own service (history, events); the words
    for the message."""
    saved = []
    facts = extras["facts"]
    if facts.is_bound and facts.has_changed():
        update_model_facts(
            facts.save(commit=False),
            {"name": facts.cleaned_data["name"], "team": facts.cleaned_data["team"]},
            actor=request.user,
            developers=facts.cleaned_data["developers"],
        )
        saved.append("Model facts saved.")
    if extras["assumption"].is_bound:
        add_assumption(model, extras["assumption"].save(commit=False), by=request.user)
        saved.append("Assumption added.")
    if extras["user"].is_bound:
        add_model_user(extras["user"].save(commit=False))
        saved.append(f"{extras['user'].instance.name} added to the model's users.")
    gates = extras["gates"]
    if gates.is_bound and _gates_changed(model, gates.cleaned_data):
        try:
            _set_gates(model, gates.cleaned_data)
        except ValidationError as exc:
            _refusal_in_place(gates, exc)
            raise _RefusedBeside from exc
        saved.append("Quality gates saved.")
    if extras["version"].is_bound:
        saved += _save_version(request, model, extras["version"])
    return saved


def _save_version(request, model, form):
    """The editor's version box: a new version registered, or the current one's facts changed; the words."""
    current = model.current_version()
    if current is None:
        version = _register_from(form, model, request.user)
        return [f"Version {version.version} registered, under development."]
    data = form.cleaned_data
    changed = update_version_facts(
        current,
        algorithm=data["algorithm"],
        training_datasets=data["training_datasets"],
        metrics=data["metrics"],
        split=data["split"],
        actor=request.user,
    )
    return [f"Facts of v{current.version} saved."] if changed else []


def _conflict_forms(card, exc, started_from=None):
    """The form after a refused save: every section as it should now read (the others' changes, the editor's own),
    a merge box holding both texts where both changed, and the editor's text kept for each of those."""
    data = {section.name: section.draft if section.conflict else section.merged for section in exc.sections}
    form = CardForm({**data, "base_revision": exc.revision.number}, instance=card)
    conflicts = exc.conflicts
    resolution = CardConflictForm(
        initial={
            "started_from": exc.started_from if started_from is None else started_from,
            **{f"yours_{section.name}": section.yours for section in conflicts},
        },
        names=[section.name for section in conflicts],
    )
    theirs = [section.label for section in exc.sections if section.theirs_only]
    return form, {"revision": exc.revision, "resolution": resolution, "sections": conflicts, "theirs": theirs}


def _conflict_again(card, form, resolution):
    """A resolving form sent back (a choice missing, a text too long): the same sections, as the editor left them."""
    if not resolution.names:
        return None
    base = whole_number(str(form.data.get("base_revision", ""))) or 0
    revision = card.revisions.select_related("author").filter(number=base).first()
    if revision is None:
        return None
    sections = [
        cards.Section(name, None, revision.snapshot.get(name, ""), resolution.data.get(f"yours_{name}", ""))
        for name in resolution.names
    ]
    return {"revision": revision, "resolution": resolution, "sections": sections, "theirs": []}


def _card_page(request, model, form, extras, conflict=None):
    percent, missing = model.card_completeness(draft=_draft(model, extras))
    by_name = {}
    if conflict:
        by_name = {s.name: (s, conflict["resolution"][f"resolve_{s.name}"]) for s in conflict["sections"]}
        conflict["started_from"] = conflict["resolution"]["started_from"].value()
    context = {
        "model": model,
        "form": form,
        "rows": [(form[name], *by_name.get(name, (None, None))) for name in ModelCard.TEXT_FIELDS],
        "conflict": conflict,
        "percent": percent,
        "missing": missing,
        "threshold": settings.MODEL_CARD_COMPLETENESS_THRESHOLD,
        "nav": "models",
        "layout": [(heading, [form[name] for name in names]) for heading, names in cards.CARD_LAYOUT],
        "current": model.current_version(),
        "version_fields": [extras["version"][name] for name in VERSION_EDITOR_FIELDS],
        **extras,
    }
    return render(request, "registry/card_form.html", context, status=409 if conflict else 200)


def _draft(model, extras):
    """What the editor holds beside the prose, for the meter: the facts as typed, the assumption and the user being
    added (``RegisteredModel.card_sections``). A field that does not validate counts as it is saved."""
    draft = {}
    facts = extras["facts"]
    if facts.is_bound:
        facts.is_valid()  # for cleaned_data: the fields that do validate
        draft |= {
            name: facts.cleaned_data[name]
            for name in ("summary", "goal", "users_description", "developers")
            if name in facts.cleaned_data
        }
    for key in ("assumption", "user"):
        if extras[key].is_bound and extras[key].is_valid():
            draft[key] = extras[key].instance
    if extras["gates"].is_bound and extras["gates"].is_valid():
        draft["thresholds"] = extras["gates"].cleaned_data["parsed"]
    version = extras["version"]
    if version.is_bound and version.is_valid():
        data, current = version.cleaned_data, model.current_version()
        elsewhere = current is not None and any(m.split != data["split"] for m in current.metrics.all())
        draft["version"] = {
            "algorithm": data["algorithm"],
            "training": bool(data["training_datasets"]),
            "metrics": bool(data["metrics"]) or elsewhere,
        }
    return draft


@require_POST
def card_meter(request, slug):
    """The editor's meter as the owner types: completeness with the posted text, facts, assumption and user,
    nothing saved (htmx fragment)."""
    model, _ = get_model(request, slug, edit=True)
    card = model.get_card()
    for name in ModelCard.TEXT_FIELDS:
        if name in request.POST:
            setattr(card, name, request.POST[name])
    percent, missing = model.card_completeness(card, _draft(model, _editor_forms(request, model)))
    context = {"percent": percent, "missing": missing, "threshold": settings.MODEL_CARD_COMPLETENESS_THRESHOLD}
    return render(request, "registry/partials/completeness.html", context)


@require_POST
def markdown_preview(request):
    """The htmx preview under a card field: the posted field rendered exactly as the card will show it."""
    field = request.GET.get("field", "")
    if field not in ModelCard.TEXT_FIELDS:
        return HttpResponse("Unknown section.", status=400)
    text = request.POST.get(field, "")
    if len(text) > LONG_TEXT_LIMIT:
        # The section could not be saved at this length either: say so instead of rendering it.
        return HttpResponse(
            f"<p>This section is longer than {LONG_TEXT_LIMIT:,} characters; shorten it.</p>", status=400
        )
    html = render_markdown(text)
    return HttpResponse(html or '<p class="muted">Nothing to preview yet.</p>')


def card_print(request, slug):
    model, _ = get_model(request, slug)
    percent, missing = model.card_completeness()
    context = {
        "model": model,
        "layout": _layout(model.get_card()),
        "current": model.current_version(),
        "percent": percent,
        "missing": missing,
    }
    return render(request, "registry/card_print.html", context)


def card_markdown(request, slug):
    model, _ = get_model(request, slug)
    response = HttpResponse(cards.to_markdown(cards.card_document(model)), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{model.asset.slug}-model-card.md"'
    return response


def card_json(request, slug):
    model, _ = get_model(request, slug)
    response = JsonResponse(cards.to_model_card_toolkit(cards.card_document(model)), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{model.asset.slug}-model-card.json"'
    return response


def card_history(request, slug):
    model, can_edit = get_model(request, slug)
    card = model.get_card()
    revisions = card.revisions.select_related("author") if card.pk else []
    context = {"model": model, "card": card, "revisions": revisions, "can_edit": can_edit, "nav": "models"}
    return render(request, "registry/card_history.html", context)


def card_diff(request, slug):
    model, can_edit = get_model(request, slug)
    card = get_object_or_404(ModelCard, model=model)
    old_number = whole_number(request.GET.get("from", str(max(card.revision - 1, 0))))
    new_number = whole_number(request.GET.get("to", str(card.revision)))
    if old_number is None or new_number is None:
        return HttpResponse("Revision numbers are whole numbers.", status=400)
    snapshots = {
        r.number: r for r in card.revisions.filter(number__in=[old_number, new_number]).select_related("author")
    }
    empty = dict.fromkeys(ModelCard.TEXT_FIELDS, "")
    for number in (old_number, new_number):
        if number != 0 and number not in snapshots:
            return HttpResponse(f"This card has no revision {number}.", status=404)
    old = snapshots[old_number].snapshot if old_number else empty
    new = snapshots[new_number].snapshot if new_number else empty
    context = {
        "model": model,
        "card": card,
        "old": snapshots.get(old_number),
        "new": snapshots.get(new_number),
        "old_number": old_number,
        "new_number": new_number,
        "changes": cards.diff_snapshots(old, new),
        "can_edit": can_edit,
        "nav": "models",
    }
    return render(request, "registry/card_diff.html", context)


@require_POST
def card_restore(request, slug, number):
    model, _ = get_model(request, slug, edit=True)
    card = get_object_or_404(ModelCard, model=model)
    get_object_or_404(card.revisions, number=number)
    try:
        revision = card.restore(number, request.user, int(request.POST.get("base_revision", -1)))
    except (CardEditConflict, ValueError, ValidationError):
        messages.error(request, "The card changed since you opened the history; look at the newest revision first.")
        return redirect("registry:card_history", slug=slug)
    if revision is None:
        messages.info(request, f"The card already reads as revision {number}.")
    else:
        messages.success(request, f"Revision {number} restored as revision {revision.number}.")
    return redirect(model)


@require_POST
def assumption_add(request, slug):
    model, _ = get_model(request, slug, edit=True)
    form = AssumptionForm(request.POST)
    if form.is_valid():
        add_assumption(model, form.save(commit=False), by=request.user)
        messages.success(request, "Assumption added.")
    else:
        messages.error(request, "Assumption not added: " + _errors_text(form.errors))
    return redirect(reverse("registry:model_detail", kwargs={"slug": slug}) + "#assumptions")


@require_POST
def assumption_verify(request, slug, pk):
    model, _ = get_model(request, slug, edit=True)
    assumption = get_object_or_404(model.assumptions, pk=pk)
    if request.POST.get("action") == "delete":
        remove_assumption(assumption)
        messages.success(request, "Assumption removed.")
    else:
        assumption.verify(request.user)
        messages.success(request, f"Assumption verified today; it holds until {assumption.expires_on:%d %b %Y}.")
    return _back_to_model(request, slug, "assumptions")


@require_POST
def model_user_add(request, slug):
    model, _ = get_model(request, slug, edit=True)
    form = ModelUserForm(request.POST, instance=ModelUser(model=model))
    if form.is_valid():
        add_model_user(form.save(commit=False))
        messages.success(request, f"{form.instance.name} added to the model's users.")
    else:
        messages.error(request, "User not added: " + _errors_text(form.errors))
    return redirect(reverse("registry:model_detail", kwargs={"slug": slug}) + "#users")


@require_POST
def model_user_delete(request, slug, pk):
    model, _ = get_model(request, slug, edit=True)
    remove_model_user(get_object_or_404(model.model_users, pk=pk))
    return _back_to_model(request, slug, "users")


def _back_to_model(request, slug, anchor):
    """Back where the button was: the card editor (``back=card``) or the model's page."""
    page = "registry:card_edit" if request.POST.get("back") == "card" else "registry:model_detail"
    return redirect(reverse(page, kwargs={"slug": slug}) + f"#{anchor}")


# --- versions ----------------------------------------------------------------------------------------------------
def version_create(request, slug):
    model, _ = get_model(request, slug, edit=True)
    form = VersionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        version = _register_from(form, model, request.user)
        messages.success(request, f"Version {version.version} registered, under development.")
        return redirect(version.get_absolute_url())
    return render(request, "registry/version_form.html", {"model": model, "form": form, "nav": "models"})


def _register_from(form, model, user):
    """The next version of ``model`` from a valid ``VersionForm`` (the version page's or the card editor's)."""
    training, evaluation, metrics, split, fields = form.version_fields()
    return register_version(
        model,
        created_by=user,
        training_datasets=training,
        evaluation_datasets=evaluation,
        metrics=metrics,
        split=split,
        **fields,
    )


def version_detail(request, slug, number):
    model, version, can_edit = get_version(request, slug, number)
    ticks = version.checklist_ticks.select_related("ticked_by")
    version._prefetched_objects_cache["checklist_ticks"] = list(ticks)
    # Read by the gate twice (blockers and the gates table): once.
    prefetch_related_objects([version], "quality_waivers")
    requests = version.promotion_requests.select_related("requested_by", "decided_by")
    pending = next((r for r in requests if r.state == PromotionState.PENDING), None)
    checklist, blockers = version.checklist(), version.promotion_blockers()
    context = {
        "model": model,
        "version": version,
        "stepper": stepper_for(version, checklist, blockers, pending),
        "can_edit": can_edit,
        "can_approve": pending is not None and model.can_approve(request.user),
        "checklist": checklist,
        "blockers": blockers,
        "gates": gate_results(version),
        "may_waive": model.can_approve(request.user, can_edit=can_edit),
        "refused": request.session.pop("promotion_refused", None),
        "requests": requests,
        "pending": pending,
        "changes": version.stage_changes.select_related("actor"),
        "moves": [
            (stage, Stage(stage).label) for stage in Stage.values if not version.move_error(version.stage, stage)
        ],
        "note_form": PromotionNoteForm(),
        "nav": "models",
    }
    return render(request, "registry/version_detail.html", context)


def _errors_text(errors):
    """Every message of a form's errors or a ValidationError, as one sentence for a flash message."""
    if isinstance(errors, ValidationError):
        return " ".join(errors.messages)
    return " ".join(message for messages_ in errors.values() for message in messages_)


def _back(version):
    return redirect(version.get_absolute_url())


@require_POST
def version_stage(request, slug, number):
    _, version, _ = get_version(request, slug, number, edit=True)
    try:
        version.change_stage(request.POST.get("to", ""), request.user, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
    else:
        messages.success(request, f"v{version.version} is now {version.get_stage_display().lower()}.")
    return _back(version)


@require_POST
def checklist_tick(request, slug, number):
    _, version, _ = get_version(request, slug, number, edit=True)
    item = request.POST.get("item", "")
    if item not in ChecklistItem.values:
        return HttpResponse("Unknown checklist item.", status=400)
    label = ChecklistItem(item).label
    if request.POST.get("action") == "untick":
        version.untick(item)
        messages.info(request, f"Unticked: {label}.")
        return _back(version)
    try:
        version.tick(item, request.user, link=request.POST.get("link", "").strip())
    except ValidationError as exc:
        messages.error(request, f"Not ticked: {label}. " + _errors_text(exc))
    else:
        messages.success(request, f"Ticked: {label}.")
    return _back(version)


@require_POST
def gate_waive(request, slug, number):
    """An approver lets one unmet gate pass, with a reason recorded under their name."""
    _, version, _ = get_version(request, slug, number)
    try:
        waiver = waive_gate(version, request.POST.get("gate", ""), by=request.user, reason=request.POST.get("reason"))
    except ValidationError as exc:
        messages.error(request, "Not waived. " + _errors_text(exc))
    else:
        messages.success(request, f"Waived: {waiver.gate}, with your reason recorded.")
    return _back(version)


@require_POST
def promotion_request(request, slug, number):
    model, version, _ = get_version(request, slug, number, edit=True)
    request_promotion_on_page(request, model, version, "Promotion requested. Another person must approve it.")
    return _back(version)


def request_promotion_on_page(request, model, version, requested):
    """Ask, from a page, for ``version`` to go into use: a refusal keeps its missing items for the version page to
    list; one message either way (``requested`` when it was asked)."""
    try:
        request_promotion(model, version, request.user, note=request.POST.get("note", ""))
    except PromotionBlocked as exc:
        request.session["promotion_refused"] = exc.missing
        messages.error(request, f"Promotion refused: {len(exc.missing)} item(s) missing, listed below.")
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
    else:
        messages.success(request, requested)


@require_POST
def promotion_decide(request, slug, number, pk):
    model, version, _ = get_version(request, slug, number)
    promotion = get_object_or_404(version.promotion_requests.select_related("requested_by"), pk=pk)
    promotion.model, promotion.version = model, version
    action = request.POST.get("action")
    if action not in ("approve", "reject", "withdraw"):
        return HttpResponse("Unknown action.", status=400)
    try:
        decide_promotion(promotion, action, request.user, note=request.POST.get("note", ""))
    except PromotionBlocked as exc:
        request.session["promotion_refused"] = exc.missing
        messages.error(request, f"Not approved: {len(exc.missing)} item(s) missing, listed below.")
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
    else:
        if action == "approve":
            messages.success(request, f"Approved: v{version.version} is now in use.")
        else:
            messages.info(request, f"Request {promotion.get_state_display().lower()}.")
    return _back(version)


def compare(request, slug):
    """Metrics of every version side by side, and one chart per metric across versions."""
    model, _ = get_model(request, slug)
    versions = sorted(model.versions.all(), key=lambda v: v.version)
    chosen = {whole_number(n) for n in request.GET.getlist("v")} - {None}
    if chosen:
        versions = [v for v in versions if v.version in chosen]
    names = sorted({(m.name, m.split) for v in versions for m in v.metrics.all()})
    rows = []
    for name, split in names:
        values = [
            next((m.value for m in v.metrics.all() if m.name == name and m.split == split), None) for v in versions
        ]
        rows.append({"name": name, "split": split, "values": values, "slug": slugify(f"{name}-{split}")})
    charts = [
        {"id": f"chart-{row['slug']}", "title": f"{row['name']} ({row['split'] or 'no split'})",
         "x": [f"v{v.version}" for v in versions], "y": row["values"]}
        for row in rows
    ]  # fmt: skip
    context = {
        "model": model,
        "versions": versions,
        "all_versions": sorted(model.versions.all(), key=lambda v: v.version),
        "chosen": chosen,
        "rows": rows,
        "charts": charts,
        "nav": "models",
    }
    return render(request, "registry/compare.html", context)
