from django import template
from django.utils.safestring import mark_safe

from core.markdown import render_markdown
from core.validators import is_site_path, is_web_url

register = template.Library()


@register.filter
def markdown(text):
    return mark_safe(render_markdown(text))  # noqa: S308 - sanitized by nh3 in render_markdown


@register.filter
def web_url(value):
    """``value`` if it is safe in an ``href``: an http(s) address or a path on this site; otherwise "".

    URLs come from people and from other systems (OpenLineage events): a ``javascript:`` one must never become a
    link that runs when clicked, whatever slipped past validation on the way in."""
    return value if is_web_url(value) or is_site_path(value) else ""


@register.filter
def filesize_or_dash(value):
    from django.template.defaultfilters import filesizeformat

    return "—" if value is None else filesizeformat(value)


@register.inclusion_tag("core/partials/status.html")
def status_pill(status, label=None):
    return {"status": status or "none", "label": label or (status or "no policy").capitalize()}
