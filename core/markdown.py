"""Markdown that people type, rendered safely: an explicit allow-list of tags, no scripts, no event handlers,
and images only from this host."""

import markdown
import nh3

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


def render_markdown(text):
    """HTML for ``text``; safe to mark as safe in a template because nh3 removed anything executable."""
    html = markdown.markdown(text or "", extensions=["tables", "fenced_code", "sane_lists"])
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        attribute_filter=_attribute_filter,
        link_rel="noopener noreferrer",
    )
