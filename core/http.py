"""Small request helpers shared by the apps' views: reading numbers people typed into URLs, and safe redirects."""

from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

# The largest value a PostgreSQL integer column holds; anything bigger is not a row anyone can ask for.
MAX_INTEGER = 2**31 - 1


def whole_number(text, maximum=MAX_INTEGER):
    """``text`` as a non-negative int, or None when it is not plain ASCII digits or is larger than ``maximum``.

    ``str.isdigit`` alone accepts "²" and other digits ``int`` refuses, and Python's unbounded ints overflow the
    database: both would be a 500 instead of a clear answer.
    """
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= maximum else None


def redirect_back(request, fallback):
    """Redirect to the form's ``next`` when it points into this site, else to ``fallback`` (an object or URL)."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return HttpResponseRedirect(target)
    return redirect(fallback)


def query_without_page(query):
    """The list page's query string (``request.GET``, or a filter's data) without its page number, for the links
    to other pages of the same list."""
    query = query.copy()
    query.pop("page", None)
    return query.urlencode()
