"""Markdown that people type, rendered safely: an explicit allow-list of tags, no scripts, no event handlers,
and images only from this host; and in bounded time.

Python-Markdown is quadratic or worse on some inputs (each unmatched ``[`` scans the rest of its block: 10,000 of
them took a minute; 10,000 ``<a `` half a minute; 10,000 nested list markers overflow the stack). Before rendering,
``_defuse`` makes those inputs plain text: past ``MANY`` brackets or angle brackets, they are escaped (shown as typed,
no links then), and container markers (``>``, list items) nested past ``MAX_NESTING`` on a line are escaped. A text
longer than ``MARKDOWN_MAX_CHARS`` is not rendered at all but shown as plain text. Rendered HTML is cached by the
text's digest, so a description is rendered once, not on every view.
"""

import hashlib
import html
import re

import markdown
import nh3
from django.core.cache import cache

from core.limits import LONG_TEXT_LIMIT

# Beyond this a text is shown as plain text: no stored field is longer (``LONG_TEXT_LIMIT``), with room for old rows.
MARKDOWN_MAX_CHARS = 2 * LONG_TEXT_LIMIT
# Brackets (``[``) or angle brackets (``<``) past which they are all escaped: a page of links is far below.
MANY = 500
# Container markers (``>``, ``-``, ``1.``) one line may nest; deeper ones are text.
MAX_NESTING = 8
CACHE_SECONDS = 24 * 3600
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_CONTAINER = re.compile(r"(?:>|[-*+]|\d{1,9}[.)])[ \t]+|>")

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "span", "strong", "sub", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "abbr": {"title"},
    "td": {"align"},
    "th": {"align"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
# Paths an image may never load, even on this host: a heartbeat ping is a GET, so an image must not fire one.
FORBIDDEN_IMAGE_PATHS = ("/ping/",)


def _same_origin_path(value):
    """``value`` if it is a path on this host (``/media/chart.png``), else None: images from other hosts would tell
    them who reads what, and could fire requests (a heartbeat ping) as the reader."""
    value = value.strip()
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    if value.startswith(FORBIDDEN_IMAGE_PATHS):
        return None
    return value


def _attribute_filter(tag, attribute, value):
    if tag == "img" and attribute == "src":
        return _same_origin_path(value)
    return value


def _flatten_nesting(line):
    """``line`` with the container markers past ``MAX_NESTING`` escaped (the rest of the line is text)."""
    position, depth = len(line) - len(line.lstrip()), 0
    while True:
        found = _CONTAINER.match(line, position)
        if found is None:
            return line
        depth += 1
        if depth > MAX_NESTING:
            return f"{line[:position]}\\{line[position:]}"
        position = found.end()
        position += len(line) - position - len(line[position:].lstrip())


# Characters shown as typed when there are too many of them: swapped for private-use characters before rendering
# and back after, which costs nothing (a backslash escape costs Python-Markdown a placeholder each, superlinear).
_SWAPPED = {"[": "\ue000", "<": "\ue001", "\\": "\ue002", "&": "\ue003"}
_RESTORED = {"\ue000": "&#91;", "\ue001": "&lt;", "\ue002": "&#92;", "\ue003": "&amp;"}


def _defuse(text):
    """``text`` with what would make Python-Markdown slow or crash turned into plain text (see the module)."""
    text = text.translate({ord(char): None for char in _RESTORED})
    swapped = {char: stand_in for char, stand_in in _SWAPPED.items() if text.count(char) > MANY}
    lines, fenced = text.split("\n"), False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue  # code is shown as typed: nothing in it is parsed
        line = _flatten_nesting(line)
        for char, stand_in in swapped.items():
            line = line.replace(char, stand_in)
        lines[index] = line
    return "\n".join(lines)


def _restore(rendered):
    if any(char in rendered for char in _RESTORED):
        for char, entity in _RESTORED.items():
            rendered = rendered.replace(char, entity)
    return rendered


def render_markdown(text):
    """HTML for ``text``; safe to mark as safe in a template because nh3 removed anything executable."""
    text = text or ""
    if not text:
        return ""
    if len(text) > MARKDOWN_MAX_CHARS:
        return f'<pre class="plain-text">{html.escape(text)}</pre>'
    key = "markdown:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    rendered = cache.get(key)
    if rendered is None:
        rendered = _restore(_render(_defuse(text)))
        cache.set(key, rendered, CACHE_SECONDS)
    return rendered


def _render(text):
    rendered = markdown.markdown(text, extensions=["tables", "fenced_code", "sane_lists"])
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        attribute_filter=_attribute_filter,
        link_rel="noopener noreferrer",
    )
