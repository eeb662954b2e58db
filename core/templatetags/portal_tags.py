import datetime

from django import template
from django.template.defaultfilters import date
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from core.markdown import render_markdown
from core.moments import absolute, relative
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


# --- one way to write a moment (issue 17) --------------------------------------------------------------------------
# Every page writes a moment with `when` ("3 h ago", the exact time on hover) or `at` ("6 Dec 2026, 21:19 UTC"),
# both in the viewer's time zone (core/moments.py). Dates without a time use Django's own `date` filter, whose
# format the site sets once (portal/formats/en/formats.py).
@register.filter(is_safe=True)
def when(value):
    """``{{ run.ended_at|when }}``: "3 h ago" with the exact time (viewer's time zone) on hover; "—" for none."""
    if value in (None, ""):
        return "—"
    if not isinstance(value, datetime.datetime):
        return date(value)
    return format_html('<time datetime="{}" title="{}">{}</time>', value.isoformat(), absolute(value), relative(value))


@register.filter
def at(value):
    """``{{ change.created_at|at }}``: "6 Dec 2026, 21:19 UTC" in the viewer's time zone; "—" for none."""
    if value in (None, ""):
        return "—"
    if not isinstance(value, datetime.datetime):
        return date(value)
    return absolute(value)


@register.inclusion_tag("core/partials/error_summary.html")
def error_summary(*forms):
    """``{% error_summary form other_form %}``: the refused forms' problems at the top, each linking to its field."""
    problems = []
    for form in forms:
        if not getattr(form, "is_bound", False) or not form.errors:
            continue
        problems += [(None, "", error) for error in form.non_field_errors()]
        for field in form.visible_fields():
            problems += [(field.auto_id, field.label, error) for error in field.errors[:1]]
        problems += [(None, "", error) for field in form.hidden_fields() for error in field.errors]
    return {"problems": problems}
