"""Counters for doors anyone can knock on without signing in (sign-up, password reset).

Each limit is a fixed window in the cache: with ``CACHE_URL`` (Redis) every web process
shares the count; with the local-memory default each process counts on its own, which
is only good enough for development. Identities (addresses, e-mail addresses) are hashed
into the key so the cache never holds them in clear and any character is safe in a key.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.core.cache import cache

from tenants.errors import ApplicationError


class RateLimited(ApplicationError):
    """Too many requests; ``retry_after`` is the seconds until the limit lets one through."""

    status_code = 429
    default_code = "throttled"

    def __init__(self, message: str, *, retry_after: int, field: str | None = None):
        super().__init__(message, field=field)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limit:
    """At most ``count`` hits per ``seconds`` for one ``scope`` and ``identity``. A
    count of 0 or less switches the limit off (settings can disable a door's limit)."""

    scope: str
    identity: str
    count: int
    seconds: int


def client_ip(request) -> str:
    """The caller's address, behind as many proxies as django-axes is told to trust
    (``ATRIUM_TRUSTED_PROXY_COUNT``), so lockouts and these limits see the same client."""
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request) or "unknown"


def _digest(identity: str) -> str:
    return hashlib.sha256(identity.strip().lower().encode()).hexdigest()[:32]


def limits_hit(limits: list[Limit]) -> int | None:
    """Count one hit against every limit. Returns None when all of them still allow it,
    else the seconds until the longest-blocked window ends (for ``Retry-After``)."""
    now = time.time()
    wait = 0.0
    for limit in limits:
        if limit.count <= 0:
            continue
        window = int(now // limit.seconds)
        key = f"ratelimit:{limit.scope}:{_digest(limit.identity)}:{window}"
        # The key outlives its window a little so a late increment never resurrects it
        # with a fresh count mid-window.
        cache.add(key, 0, timeout=limit.seconds + 60)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, timeout=limit.seconds + 60)
            count = 1
        if count > limit.count:
            wait = max(wait, limit.seconds - (now % limit.seconds))
    return max(int(wait) + 1, 1) if wait else None


def limits_require(limits: list[Limit], message: str) -> None:
    """Count the hit; raise ``RateLimited`` with ``message`` (which may use
    ``%(minutes)s``) when any of the limits is exceeded."""
    wait = limits_hit(limits)
    if wait is not None:
        minutes = max(1, -(-wait // 60))
        raise RateLimited(message % {"minutes": minutes}, retry_after=wait)
