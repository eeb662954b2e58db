"""Validation of what comes from outside: addresses people type and other systems send."""

from urllib.parse import urlsplit

from django.core.validators import URLValidator

WEB_SCHEMES = ("http", "https")
# Every URL a person or a system gives the portal (links to dashboards, code, snapshots, evidence, probes, webhooks):
# http and https only, so a ``javascript:`` or ``data:`` address is refused where it is accepted.
web_url_validator = URLValidator(schemes=list(WEB_SCHEMES))


def is_web_url(value):
    """True for an absolute http(s) address with a host. Whitespace or control characters anywhere make it False:
    browsers drop tabs and newlines inside a scheme, so "java\tscript:" must not pass as something else."""
    if not isinstance(value, str) or not value or any(ch.isspace() or ord(ch) < 32 for ch in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in WEB_SCHEMES and bool(parts.netloc)


def is_site_path(value):
    """True for a path on this site ("/catalog/…"), never "//other-host/…"."""
    if not isinstance(value, str) or any(ch.isspace() or ord(ch) < 32 for ch in value):
        return False
    return value.startswith("/") and not value.startswith("//") and "\\" not in value


def clean_web_url(value):
    """``value`` stripped if it is an http(s) address, "" if empty; ValueError otherwise."""
    value = (value or "").strip()
    if value and not is_web_url(value):
        raise ValueError(f"{value[:100]!r} is not an http or https address.")
    return value
