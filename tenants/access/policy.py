"""The one decision point: may this user (optionally through an API key's scopes) do
this action on this object, and which fields may they see or change?

Rules (see README.md in this folder for the long version):

* Roles are additive: a user may do what any of their roles allows.
* A tenant administrator -- a user holding a role with ``grants_everything`` (the
  seeded ``tenant_admin``), the one administrator rule -- may do everything and sees
  every field. ``is_staff`` only mirrors it for display; nothing reads it for access.
* For an object, each role uses its most specific ObjectPermission row: the object's
  api_name, else ``module:<module>``, else ``*``. ``*`` never covers the ``access``
  module (roles, audit log, grants): administration must be granted by name.
* Fields are an allowlist. Per role, a field's level is its FieldPermission row if the
  role has one, else the row's ``field_default`` -- except sensitive fields, which are
  hidden unless a FieldPermission row or a temporary grant names them.
* A field is never more than the object allows: hidden without ``view``, at most
  ``read`` without ``create``/``edit``.
* Temporary grants add an action or a field level until they expire; they are checked
  against ``timezone.now()`` on every call, so an expired grant stops counting at once.
* ``scopes`` (an API key's) narrow all of the above: ``<module>:read`` or
  ``<object>:read`` allows view/export, ``:write`` allows create/edit/delete and read;
  ``*:read``/``*:write`` cover every object. ``scopes=None`` means no narrowing.

A user's roles, permission rows and grants are loaded once and cached on the user
object (one request = one user object); services that change them call
``invalidate(user)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from tenants.access import registry
from tenants.access.audit import audit_log
from tenants.access.errors import AccessDenied
from tenants.access.models import (
    ACTIONS,
    FIELD_ACCESS_RANK,
    FieldAccess,
    Role,
    TemporaryGrant,
)
from tenants.context import current_schema

READ_ACTIONS = frozenset({"view", "export"})
WRITE_ACTIONS = frozenset({"create", "edit", "delete"})
# Keys every reader of a record gets, whatever the field rules: a record has to be
# addressable to be shown at all.
ALWAYS_VISIBLE = frozenset({"id"})
# The nested dict holding custom field values (ARCHITECTURE: JSONB ``custom``); its
# keys are masked one by one as fields of the object.
CUSTOM_KEY = "custom"
ADMIN_MODULE = "access"
# The API-key scope of the administration doors (``admin:read`` / ``admin:write``).
ADMIN_SCOPE = "admin"

HIDDEN, READ, EDIT = 0, 1, 2
_LEVEL_NAMES = {READ: FieldAccess.READ.value, EDIT: FieldAccess.EDIT.value}


@dataclass(frozen=True)
class _Row:
    actions: frozenset[str]
    field_default: int


@dataclass(frozen=True)
class _RoleRules:
    targets: Mapping[str, _Row]
    fields: Mapping[tuple[str, str], int]

    def row_for(self, object_api_name: str, module: str | None) -> _Row | None:
        row = self.targets.get(object_api_name)
        if row is None and module:
            row = self.targets.get(f"module:{module}")
        if row is None and module != ADMIN_MODULE:
            row = self.targets.get("*")
        return row


@dataclass(frozen=True)
class _Grant:
    object_api_name: str
    action: str
    field_api_name: str
    level: int
    starts_at: datetime
    expires_at: datetime

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.expires_at


@dataclass(frozen=True)
class _Rules:
    schema: str
    everything: bool = False
    requires_two_factor: bool = False
    role_keys: tuple[str, ...] = ()
    roles: tuple[_RoleRules, ...] = ()
    grants: tuple[_Grant, ...] = field(default_factory=tuple)


_CACHE_ATTR = "_access_rules"


def _rules(user) -> _Rules:
    schema = current_schema()
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return _Rules(schema=schema)
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None and cached.schema == schema:
        return cached
    from tenants.access.versioning import cached as versioned

    rules = versioned("rules", user.pk, lambda: _rules_load(user, schema))
    setattr(user, _CACHE_ATTR, rules)
    return rules


def _rules_load(user, schema: str) -> _Rules:
    roles = list(
        Role.objects.filter(assignments__user_id=user.pk).prefetch_related(
            "object_permissions", "field_permissions"
        )
    )
    role_rules = tuple(
        _RoleRules(
            targets={
                p.target: _Row(
                    actions=p.actions(),
                    field_default=FIELD_ACCESS_RANK[p.field_default],  # type: ignore[index]
                )
                for p in role.object_permissions.all()
            },
            fields={
                (p.object_api_name, p.field_api_name): FIELD_ACCESS_RANK[p.access]  # type: ignore[index]
                for p in role.field_permissions.all()
            },
        )
        for role in roles
    )
    grants = tuple(
        _Grant(
            object_api_name=g.object_api_name,
            action=g.action,
            field_api_name=g.field_api_name,
            level=FIELD_ACCESS_RANK[g.field_access] if g.field_access else HIDDEN,  # type: ignore[index]
            starts_at=g.starts_at,
            expires_at=g.expires_at,
        )
        # Not-yet-started grants are kept: they become active later in the same request.
        for g in TemporaryGrant.objects.filter(
            user_id=user.pk, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )
    )
    rules = _Rules(
        schema=schema,
        everything=any(r.grants_everything for r in roles),
        requires_two_factor=any(r.requires_two_factor for r in roles),
        role_keys=tuple(r.key for r in roles),
        roles=role_rules,
        grants=grants,
    )
    return rules


def invalidate(user) -> None:
    """Forget the cached rights of this user object (after changing roles or grants)."""
    if user is not None and hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def _check_action(action: str) -> None:
    if action not in ACTIONS:
        raise ValueError(f"{action!r} is not an action ({', '.join(ACTIONS)})")


def _scope_level(scopes: Iterable[str] | None, object_api_name: str) -> int:
    """What the scopes allow on an object: EDIT (write), READ, or HIDDEN (nothing)."""
    if scopes is None:
        return EDIT
    module = registry.module_of(object_api_name)
    names = {object_api_name, "*"}
    if module:
        names.add(module)
    if module == ADMIN_MODULE:
        # Roles, grants and the audit log are administration: the ``admin`` scope.
        names.add(ADMIN_SCOPE)
    best = HIDDEN
    for scope in scopes:
        if scope == "*":  # an API key with every scope (within its user's rights)
            return EDIT
        name, _, level = str(scope).partition(":")
        if name in names:
            best = max(best, EDIT if level == "write" else READ if level == "read" else HIDDEN)
    return best


def _scope_allows(scopes, object_api_name: str, action: str) -> bool:
    level = _scope_level(scopes, object_api_name)
    return level == EDIT or (level == READ and action in READ_ACTIONS)


def is_tenant_admin(user) -> bool:
    return _rules(user).everything


def role_keys(user) -> tuple[str, ...]:
    return _rules(user).role_keys


def requires_two_factor(user) -> bool:
    return _rules(user).requires_two_factor


def _role_allows(rules: _Rules, object_api_name: str, action: str, now: datetime) -> bool:
    if rules.everything:
        return True
    module = registry.module_of(object_api_name)
    for role in rules.roles:
        row = role.row_for(object_api_name, module)
        if row is not None and action in row.actions:
            return True
    return any(
        g.action == action and g.object_api_name == object_api_name and g.active(now)
        for g in rules.grants
    )


def object_allowed(
    user, object_api_name: str, action: str, *, scopes: Iterable[str] | None = None
) -> bool:
    _check_action(action)
    if not _scope_allows(scopes, object_api_name, action):
        return False
    return _role_allows(_rules(user), object_api_name, action, timezone.now())


def object_actions(
    user, object_api_name: str, *, scopes: Iterable[str] | None = None
) -> frozenset[str]:
    return frozenset(a for a in ACTIONS if object_allowed(user, object_api_name, a, scopes=scopes))


def _label(object_api_name: str) -> str:
    return registry.object_spec(object_api_name).label or object_api_name


def object_require(
    user, object_api_name: str, action: str, *, scopes: Iterable[str] | None = None
) -> None:
    """Raise AccessDenied (403, ``permission_denied``) unless ``object_allowed``."""
    _check_action(action)
    if not getattr(user, "is_authenticated", False):
        raise AccessDenied("Sign in first.", code="not_authenticated")
    if not _scope_allows(scopes, object_api_name, action):
        module = registry.module_of(object_api_name) or object_api_name
        need = "read" if action in READ_ACTIONS else "write"
        raise AccessDenied(
            f"This API key's scopes do not allow {action} on {_label(object_api_name)} "
            f"(it needs the {module}:{need} scope)."
        )
    if not _role_allows(_rules(user), object_api_name, action, timezone.now()):
        raise AccessDenied(
            f"Your roles do not allow you to {action} {_label(object_api_name)} records."
        )


def module_allowed(user, module: str, *, scopes: Iterable[str] | None = None) -> bool:
    """May the user open a module at all (view at least one of its objects)?"""
    rules = _rules(user)
    if scopes is not None and not any(
        str(s).partition(":")[0] in {module, "*"} and str(s).partition(":")[2] in {"read", "write"}
        for s in scopes
    ):
        return False
    if rules.everything:
        return True
    if any(
        f"module:{module}" in r.targets and "view" in r.targets[f"module:{module}"].actions
        for r in rules.roles
    ):
        return True
    return any(
        spec.module == module and object_allowed(user, spec.api_name, "view")
        for spec in registry.object_catalogue().values()
    )


# --- Fields ---------------------------------------------------------------------------


class _FieldJudge:
    """Field levels for one user and object at one moment (built once per call)."""

    def __init__(self, user, object_api_name: str, scopes) -> None:
        self.rules = _rules(user)
        self.object_api_name = object_api_name
        self.spec = registry.object_spec(object_api_name)
        self.now = timezone.now()
        scope_level = _scope_level(scopes, object_api_name)
        allows = lambda a: _role_allows(self.rules, object_api_name, a, self.now)  # noqa: E731
        if scope_level == HIDDEN or not allows("view"):
            self.cap = HIDDEN
        elif scope_level == EDIT and (allows("edit") or allows("create")):
            self.cap = EDIT
        else:
            self.cap = READ
        self._roles = [
            (role, role.row_for(object_api_name, self.spec.module)) for role in self.rules.roles
        ]
        self._levels: dict[str, int] = {}

    def level(self, field_api_name: str) -> int:
        # Asked for every key of every row of a list: each field is judged once.
        found = self._levels.get(field_api_name)
        if found is None:
            found = self._levels[field_api_name] = self._level(field_api_name)
        return found

    def _level(self, field_api_name: str) -> int:
        if self.cap == HIDDEN:
            return HIDDEN
        if self.rules.everything:
            return self.cap
        sensitive = self.spec.is_sensitive(field_api_name)
        best = HIDDEN
        for role, row in self._roles:
            explicit = role.fields.get((self.object_api_name, field_api_name))
            if explicit is not None:
                best = max(best, explicit)
            elif not sensitive and row is not None:
                best = max(best, row.field_default)
        for grant in self.rules.grants:
            if (
                grant.field_api_name == field_api_name
                and grant.object_api_name == self.object_api_name
                and grant.active(self.now)
            ):
                best = max(best, grant.level)
        return min(best, self.cap)

    def known_fields(self) -> set[str]:
        names = set(self.spec.fields)
        for role, _row in self._roles:
            names.update(f for (o, f) in role.fields if o == self.object_api_name)
        names.update(
            g.field_api_name
            for g in self.rules.grants
            if g.field_api_name and g.object_api_name == self.object_api_name
        )
        return names


def field_access(
    user,
    object_api_name: str,
    *,
    scopes: Iterable[str] | None = None,
    fields: Iterable[str] = (),
) -> dict[str, str]:
    """``{field_api_name: "read" | "edit"}`` for every field the user may see: the
    object's registered fields plus any named in ``fields``. Hidden fields are absent."""
    judge = _FieldJudge(user, object_api_name, scopes)
    out = {}
    for name in sorted(judge.known_fields() | set(fields)):
        level = judge.level(name)
        if level:
            out[name] = _LEVEL_NAMES[level]
    return out


def field_level(
    user, object_api_name: str, field_api_name: str, *, scopes: Iterable[str] | None = None
) -> str:
    """``"hidden"``, ``"read"`` or ``"edit"`` for one field."""
    level = _FieldJudge(user, object_api_name, scopes).level(field_api_name)
    return _LEVEL_NAMES.get(level, FieldAccess.HIDDEN.value)


def fields_visible(
    user, object_api_name: str, *, scopes: Iterable[str] | None = None, fields: Iterable[str] = ()
) -> frozenset[str]:
    return frozenset(field_access(user, object_api_name, scopes=scopes, fields=fields))


def fields_require_editable(
    user,
    object_api_name: str,
    field_names: Iterable[str],
    *,
    scopes: Iterable[str] | None = None,
) -> None:
    """Raise AccessDenied naming the first field of a write the user may not change.
    Call it with the keys of the incoming data (custom field names included)."""
    judge = _FieldJudge(user, object_api_name, scopes)
    for name in sorted(set(field_names) - ALWAYS_VISIBLE):
        if judge.level(name) < EDIT:
            raise AccessDenied(
                f"You may not change the field {name} of {_label(object_api_name)} records.",
                field=name,
            )


# --- Records --------------------------------------------------------------------------


_EMPTY: tuple[Any, ...] = (None, "", [], {})


class _MaskPlan:
    """Which keys a reader sees and which of those are sensitive, decided once per key
    for a whole list (a list of 100 records asks about the same 30 keys 100 times)."""

    def __init__(self, judge: _FieldJudge) -> None:
        self.judge = judge
        self.shown: dict[str, bool] = dict.fromkeys(ALWAYS_VISIBLE, True)
        self.sensitive: set[str] = set()

    def _learn(self, key: str) -> bool:
        shown = bool(self.judge.level(key))
        self.shown[key] = shown
        if shown and self.judge.spec.is_sensitive(key):
            self.sensitive.add(key)
        return shown

    def keep(self, key: str) -> bool:
        known = self.shown.get(key)
        return self._learn(key) if known is None else known


def _mask_one(plan: _MaskPlan, data: Mapping[str, Any], read_sensitive: set[str]) -> dict:
    """Hidden keys removed. A sensitive field counts as read (and is audited) only when
    it holds a value: an empty birth date discloses nothing."""
    out: dict[str, Any] = {}
    keep, sensitive = plan.keep, plan.sensitive
    for key, value in data.items():
        if key == CUSTOM_KEY and isinstance(value, Mapping):
            inner = {k: v for k, v in value.items() if keep(k)}
            out[key] = inner
            if sensitive:
                read_sensitive.update(k for k in inner if k in sensitive and inner[k] not in _EMPTY)
        elif keep(key):
            out[key] = value
            if key in sensitive and value not in _EMPTY:
                read_sensitive.add(key)
    return out


def record_mask(
    user,
    object_api_name: str,
    data: Mapping[str, Any],
    *,
    scopes: Iterable[str] | None = None,
) -> dict[str, Any]:
    """The record as the user may see it: hidden fields removed (also inside
    ``custom``). Raises AccessDenied without ``view``. A read of sensitive fields is
    written to the audit log (who, which record, which fields, from where)."""
    object_require(user, object_api_name, "view", scopes=scopes)
    judge = _FieldJudge(user, object_api_name, scopes)
    sensitive: set[str] = set()
    masked = _mask_one(_MaskPlan(judge), data, sensitive)
    if sensitive:
        audit_log(
            action="sensitive_read",
            actor=user,
            object_api_name=object_api_name,
            record_id=str(data.get("id", "")),
            fields=sorted(sensitive),
            record_count=1,
        )
    return masked


def records_mask(
    user,
    object_api_name: str,
    rows: Iterable[Mapping[str, Any]],
    *,
    scopes: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """``record_mask`` for a list (search results, list pages): one audit row for the
    whole list, with the ids of the records whose sensitive fields were returned."""
    object_require(user, object_api_name, "view", scopes=scopes)
    plan = _MaskPlan(_FieldJudge(user, object_api_name, scopes))
    out, ids, sensitive = [], [], set()
    for row in rows:
        row_sensitive: set[str] = set()
        out.append(_mask_one(plan, row, row_sensitive))
        if row_sensitive:
            ids.append(str(row.get("id", "")))
            sensitive |= row_sensitive
    if sensitive:
        audit_log(
            action="sensitive_read",
            actor=user,
            object_api_name=object_api_name,
            fields=sorted(sensitive),
            record_count=len(ids),
            record_id=ids[0] if len(ids) == 1 else "",
            details={"record_ids": ids[:1000]},
        )
    return out


def effective_permissions(user, *, scopes: Iterable[str] | None = None) -> dict[str, Any]:
    """Everything the user may do, for ``/api/v1/access/me/`` and the UI."""
    from tenants.access.scoping import property_ids_for

    rules = _rules(user)
    now = timezone.now()
    names = set(registry.object_catalogue())
    for role in rules.roles:
        names.update(t for t in role.targets if t != "*" and not t.startswith("module:"))
        names.update(o for (o, _f) in role.fields)
    names.update(g.object_api_name for g in rules.grants if g.active(now))
    objects = {}
    for name in sorted(names):
        actions = object_actions(user, name, scopes=scopes)
        if actions:
            objects[name] = {
                "actions": sorted(actions, key=ACTIONS.index),
                "fields": field_access(user, name, scopes=scopes),
            }
    ids = property_ids_for(user)
    return {
        "is_tenant_admin": rules.everything,
        "roles": list(rules.role_keys),
        "property_ids": None if ids is None else sorted(ids),
        "scopes": None if scopes is None else sorted(scopes),
        "objects": objects,
        "temporary_grants": [
            {
                "object": g.object_api_name,
                "action": g.action or None,
                "field": g.field_api_name or None,
                "access": _LEVEL_NAMES.get(g.level) if g.field_api_name else None,
                "expires_at": g.expires_at.isoformat(),
            }
            for g in rules.grants
            if g.active(now)
        ],
    }


def request_scopes(request) -> frozenset[str] | None:
    """API-key scopes of a DRF request: an authentication class that returns
    ``(creator_user, key)`` where ``key.scopes`` is an iterable of strings narrows the
    creator's rights to those scopes. Session requests have no scopes (None)."""
    auth = getattr(request, "auth", None)
    scopes = getattr(auth, "scopes", None)
    return None if scopes is None else frozenset(scopes)
