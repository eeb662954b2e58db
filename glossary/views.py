from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render

from glossary.forms import TermForm
from glossary.models import Term
from glossary.services import StaleEdit, save_term

REFUSAL = "Only the term's owner, the owning team and staff can change it."


def search_terms(query):
    """Terms whose name, synonyms or definition contain ``query`` (name matches first)."""
    query = (query or "").strip()
    terms = Term.objects.select_related("owner", "team")
    if query:
        terms = terms.filter(Q(name__icontains=query) | Q(synonyms__icontains=query) | Q(definition__icontains=query))
    return terms.order_by("name")


def term_list(request):
    query = request.GET.get("q", "")
    return render(
        request, "glossary/term_list.html", {"terms": search_terms(query)[:200], "q": query, "nav": "glossary"}
    )


def term_detail(request, slug):
    term = get_object_or_404(Term.objects.select_related("owner", "team"), slug=slug)
    context = {
        "term": term,
        "can_edit": term.can_edit(request.user),
        "assets": term.assets.order_by("kind", "name"),
        "columns": term.columns.select_related("dataset__asset"),
        "history": term.changes.select_related("actor")[:50],
        "nav": "glossary",
    }
    return render(request, "glossary/term_detail.html", context)


def term_create(request):
    form = TermForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        term = form.save(commit=False)
        save_term(term, actor=request.user, assets=form.cleaned_data["assets"], columns=form.cleaned_data["columns"])
        messages.success(request, f"“{term.name}” is in the glossary.")
        return redirect(term)
    return render(
        request, "glossary/term_form.html", {"form": form, "nav": "glossary"}, status=400 if form.errors else 200
    )


def term_edit(request, slug):
    term = get_object_or_404(Term.objects.select_related("team"), slug=slug)
    if not term.can_edit(request.user):
        raise PermissionDenied(REFUSAL)
    form = TermForm(request.POST or None, instance=term, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            save_term(
                form.save(commit=False),
                actor=request.user,
                assets=form.cleaned_data["assets"],
                columns=form.cleaned_data["columns"],
                opened_at=form.cleaned_data["version"] or None,
            )
        except StaleEdit:
            form.add_error(
                None,
                "Someone else saved this term after you opened this form, so your changes were not saved. "
                "Open the term again in a new tab to see theirs, then re-apply yours.",
            )
        else:
            messages.success(request, "Saved.")
            return redirect(term)
    context = {"form": form, "term": term, "nav": "glossary"}
    return render(request, "glossary/term_form.html", context, status=400 if form.errors else 200)
