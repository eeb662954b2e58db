"""Small request helpers shared by the apps' views: reading numbers people typed into URLs, safe redirects, and
CSV files streamed as they are written."""

import csv
import io

from django.http import HttpResponseRedirect, StreamingHttpResponse
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


def csv_stream(filename, header, batches):
    """A CSV download sent while it is written: ``header`` first, then the rows of each batch of ``batches`` (an
    iterable of lists of rows, e.g. one list per hop of a lineage walk).

    The first piece goes out as soon as the first batch is written, so the person downloading sees the file start
    while later batches are still being read; the bytes are those ``csv.writer`` writes for the whole file at once.
    """

    def pieces():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        for rows in batches:
            # One piece per batch: one per row would cost a system call (and a chunk header) for each of a hub's
            # 39,000 rows.
            writer.writerows(rows)
            if buffer.tell():
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        if buffer.tell():  # nothing downstream: the header alone
            yield buffer.getvalue()

    response = StreamingHttpResponse(pieces(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
