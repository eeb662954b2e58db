"""Rate limits: the API per token (DRF throttle, scoped) and heartbeat pings per check.

A fixed window counted in the cache (``cache.add`` then ``cache.incr``, atomic in Redis and in the local-memory
cache), so every web process shares one count when ``CACHE_URL`` points at Redis. Over the limit the answer is 429
with ``Retry-After`` (the seconds left in the window) and a sentence saying the limit.
"""

import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from core.rates import parse_rate


def hit(key, rate):
    """Count one request for ``key`` under ``rate``; None if allowed, else the seconds to wait."""
    if not rate:
        return None
    limit, seconds = parse_rate(rate)
    now = time.time()
    counter = f"throttle:{key}:{int(now // seconds)}"
    cache.add(counter, 0, seconds + 1)
    try:
        count = cache.incr(counter)
    except ValueError:  # expired between add and incr: this is the first request of a new window
        cache.set(counter, 1, seconds + 1)
        count = 1
    if count <= limit:
        return None
    return max(1, math.ceil(seconds - now % seconds))


class PerTokenThrottle(BaseThrottle):
    """Each API token (else the signed-in user, else the address) gets ``API_RATE_LIMITS[scope]`` requests, the
    scope being the view's ``throttle_scope`` (default ``"api"``)."""

    def allow_request(self, request, view):
        scope = getattr(view, "throttle_scope", "api")
        self.rate = settings.API_RATE_LIMITS.get(scope)
        if request.auth is not None and getattr(request.auth, "pk", None) is not None:
            who = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            who = f"user:{request.user.pk}"
        else:
            who = f"address:{self.get_ident(request)}"
        self.seconds = hit(f"api:{scope}:{who}", self.rate)
        return self.seconds is None

    def wait(self):
        return self.seconds
