"""Where the current request comes from, so the audit log can say "from where" for
records written deep inside services. Set by AccessMiddleware for each request."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestOrigin:
    ip_address: str | None = None
    user_agent: str = ""


_origin: contextvars.ContextVar[RequestOrigin | None] = contextvars.ContextVar(
    "access_request_origin", default=None
)


def origin_get() -> RequestOrigin:
    return _origin.get() or RequestOrigin()


def origin_set(origin: RequestOrigin) -> contextvars.Token:
    return _origin.set(origin)


def origin_reset(token: contextvars.Token) -> None:
    _origin.reset(token)


def origin_from_request(request) -> RequestOrigin:
    from axes.helpers import get_client_ip_address

    try:
        ip = get_client_ip_address(request)
    except Exception:  # noqa: BLE001 - an odd header must never break a request
        ip = None
    ip = ip or request.META.get("REMOTE_ADDR") or None
    agent = (request.META.get("HTTP_USER_AGENT") or "")[:400]
    return RequestOrigin(ip_address=ip, user_agent=agent)
