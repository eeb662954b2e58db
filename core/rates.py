"""Rates as settings write them (``300/min``): read by the settings (``portal.env.env_rate``) and the throttles."""

RATE_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
                "d": 86400, "day": 86400}  # fmt: skip
UNITS = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}


def parse_rate(rate):
    """``"300/min"`` → ``(300, 60)``; ValueError if it is not a rate."""
    count, _, period = rate.partition("/")
    if not count.strip().isdigit() or int(count) < 1 or period.strip().lower() not in RATE_PERIODS:
        raise ValueError(f"{rate!r} is not a rate: write it like 300/min (or /s, /hour, /day).")
    return int(count), RATE_PERIODS[period.strip().lower()]


def describe(rate):
    """``"300/min"`` → ``"300 a minute"``."""
    limit, seconds = parse_rate(rate)
    return f"{limit} a {UNITS[seconds]}"
