from django import template
from django.utils.safestring import mark_safe

from core.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text):
    return mark_safe(render_markdown(text))  # noqa: S308 - sanitized by nh3 in render_markdown


@register.filter
def filesize_or_dash(value):
    from django.template.defaultfilters import filesizeformat

    return "—" if value is None else filesizeformat(value)


@register.inclusion_tag("core/partials/status.html")
def status_pill(status, label=None):
    return {"status": status or "none", "label": label or (status or "no policy").capitalize()}
