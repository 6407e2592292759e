"""API keys: created with their secret shown once, stored as a keyed hash, revocable,
expiring, scoped per module (``guests:read``, ``reservations:write``, or ``*``)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tenants.access.principal import Principal
from tenants.access.versioning import access_version_bump
from tenants.errors import ApplicationError
from tenants.integrations.models import ApiKey
from tenants.modules import module_catalogue

KEY_PREFIX = "atr"
LAST_USED_EVERY = timedelta(minutes=1)


class AuthenticationFailed(ApplicationError):
    status_code = 401
    default_code = "not_authenticated"


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    plaintext: str


def _hash(secret: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), secret.encode(), hashlib.sha256).hexdigest()


def scopes_clean(scopes: list[str], extra_modules: set[str] | None = None) -> list[str]:
    from tenants.access.principal import ADMIN_SCOPE

    # ``admin:read|write`` opens the administration doors (definitions, workflows,
    # webhooks, users and roles) to a key whose user is an administrator.
    modules = set(module_catalogue()) | (extra_modules or set()) | {ADMIN_SCOPE}
    clean, bad = [], []
    for scope in scopes:
        scope = scope.strip()
        module, _, access = scope.partition(":")
        if scope == "*" or (module in modules and access in ("read", "write")):
            clean.append(scope)
        elif scope:
            bad.append(scope)
    if bad:
        raise ValidationError(
            {
                "scopes": ValidationError(
                    f"Unknown scopes: {', '.join(bad)}. Use * or <module>:read|write with "
                    f"a module among {', '.join(sorted(modules))}.",
                    code="scope",
                )
            }
        )
    if not clean:
        raise ValidationError(
            {"scopes": ValidationError("Give at least one scope.", code="required")}
        )
    return sorted(set(clean))


@transaction.atomic
def api_key_create(
    *,
    name: str,
    user,
    scopes: list[str],
    expires_at: datetime | None = None,
    actor: Principal,
) -> CreatedKey:
    """A key acting as ``user`` within ``scopes``. Administrators make keys for anyone;
    staff only for themselves (the key can never exceed its user's rights anyway)."""
    if actor.user_id != getattr(user, "pk", None):
        actor.require_admin("create API keys for other people")
    if not (name or "").strip():
        raise ValidationError({"name": ValidationError("A name is required.", code="required")})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError(
            {"expires_at": ValidationError("The expiry must be in the future.", code="past")}
        )
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name.strip(),
        prefix=prefix,
        secret_hash=_hash(secret),
        scopes=scopes_clean(scopes),
        user=user,
        expires_at=expires_at,
    )
    access_version_bump()
    return CreatedKey(key=key, plaintext=f"{KEY_PREFIX}_{prefix}_{secret}")


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor: Principal) -> ApiKey:
    if actor.user_id != key.user_id:
        actor.require_admin("revoke other people's API keys")
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        access_version_bump()  # processes that cached the key refuse it from now on
    return key


def _key_load(prefix: str) -> ApiKey | None:
    return ApiKey.objects.select_related("user").filter(prefix=prefix).first()


# When this process last recorded each key's use (a key's cached row keeps its old stamp).
_last_written: dict[int, datetime] = {}


def api_key_authenticate(token: str) -> ApiKey:
    """The live key for a presented token, or AuthenticationFailed saying why. The key
    row and its user are cached per process and rights version (a revoked key, a
    deactivated user or a changed scope draws a new version), so a request costs no
    lookup; the caller gets its own copies."""
    import copy

    from tenants.access.versioning import cached

    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1].isalnum():
        raise AuthenticationFailed("Malformed API key; expected atr_<prefix>_<secret>.")
    found = cached("api_key", parts[1], lambda: _key_load(parts[1]))
    if found is None or not hmac.compare_digest(found.secret_hash, _hash(parts[2])):
        raise AuthenticationFailed("Unknown API key.")
    key = copy.copy(found)
    key.user = copy.copy(found.user)
    now = timezone.now()
    if key.revoked_at is not None:
        raise AuthenticationFailed(f"API key {key.prefix} was revoked.", code="key_revoked")
    if key.expires_at is not None and key.expires_at <= now:
        raise AuthenticationFailed(f"API key {key.prefix} has expired.", code="key_expired")
    if not key.user.is_active:
        raise AuthenticationFailed("The API key's user is deactivated.", code="user_inactive")
    last = _last_written.get(key.pk) or key.last_used_at
    if last is None or now - last > LAST_USED_EVERY:
        # At most one write a minute per key and process, not one per request.
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        _last_written[key.pk] = now
    return key


def scope_allows(scopes: list[str], *, module: str, write: bool) -> bool:
    if "*" in scopes:
        return True
    if f"{module}:write" in scopes:
        return True  # write includes read
    return not write and f"{module}:read" in scopes
