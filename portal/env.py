"""Reading settings from environment variables, failing loudly on values that make no sense.

django-environ parses URLs well but treats any unknown word as ``False`` for booleans; a typo in
``DEBUG`` or ``SESSION_COOKIE_SECURE`` must stop the process instead of silently picking a side.
"""

import os
from urllib.parse import urlparse

import environ
from django.core.exceptions import ImproperlyConfigured

from core.rates import parse_rate

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name, default):
    value = os.environ.get(name)
    return default if value is None else value.strip()


def env_str(name, default=""):
    return _raw(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use one of true/false, yes/no, on/off, 1/0.")


def env_int(name, default, minimum=None):
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is too small: it must be at least {minimum}.")
    return number


def env_list(name, default=()):
    value = os.environ.get(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(name, default, schemes):
    """A URL whose scheme is one of ``schemes``; anything else is a configuration error."""
    value = _raw(name, default)
    scheme = urlparse(value).scheme
    if scheme not in schemes:
        allowed = ", ".join(sorted(schemes))
        raise ImproperlyConfigured(f"{name}={value!r} has scheme {scheme!r}; expected one of: {allowed}.")
    return value


def env_database(name, default):
    url = env_url(name, default, {"sqlite", "postgres", "postgresql", "pgsql", "psql"})
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # django-environ raises several types for a bad URL
        raise ImproperlyConfigured(f"{name}={url!r} is not a database URL: {exc}") from None
    if config["ENGINE"] != "django.db.backends.sqlite3" and not config.get("NAME"):
        raise ImproperlyConfigured(f"{name}={url!r} names no database.")
    return config


def env_email(name, default):
    """Django's EMAIL_* settings from one URL, e.g. ``smtp+tls://user:password@mail.example.com:587``."""
    url = env_url(name, default, set(environ.Env.EMAIL_SCHEMES))
    try:
        config = environ.Env.email_url_config(url)
    except Exception as exc:  # django-environ raises several types for a bad URL
        raise ImproperlyConfigured(f"{name}={url!r} is not an email URL: {exc}") from None
    return {key: value for key, value in config.items() if key.startswith("EMAIL_")}


def env_rate(name, default):
    """A rate such as ``300/min`` (``/s``, ``/min``, ``/hour``, ``/day``); ``off`` turns the limit off (None)."""
    value = _raw(name, default)
    if value.lower() == "off":
        return None
    try:
        parse_rate(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc} Or write off.") from None
    return value
