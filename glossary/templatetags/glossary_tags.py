"""Glossary fragments other apps' pages include: the terms an asset uses, the terms a search finds."""

from django import template

from glossary.models import Term
from glossary.views import search_terms

register = template.Library()


@register.inclusion_tag("glossary/partials/asset_terms.html")
def asset_terms(asset):
    """The terms ``asset`` uses, each with its definition on hover and on focus (one query)."""
    return {"terms": list(Term.objects.filter(assets=asset).order_by("name"))}


@register.inclusion_tag("glossary/partials/search_terms.html")
def glossary_matches(query):
    """Terms matching a search (one query, at most five)."""
    return {"terms": list(search_terms(query)[:5]) if (query or "").strip() else [], "q": query}
