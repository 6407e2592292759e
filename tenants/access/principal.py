"""Who is acting, and the one place that asks the policy on their behalf.

Every service and selector that reads or writes tenant data takes ``actor: Principal``
(a required keyword), and decides there through these methods -- object rights, field
rights, hotel scope, module on/off, sensitive-read audit. Entry points (REST views, bulk,
OTA push, imports, jobs, workflow actions, exports, UI forms) only build the principal
and pass it down, so none of them can forget a check::

    actor = Principal.from_request(request)        # a user, narrowed by an API key's scopes
    guest = guest_create(actor=actor, given_name="Ana", surname="Silva")

``Principal.system("demo data")`` acts for the platform itself (provisioning, demo data,
maintained statistics, migrations): it may do everything and is named in the audit trail.
Nothing built from a request is ever a system principal.

The one administrator rule: a user is an administrator when one of their roles grants
everything (the seeded ``tenant_admin`` role); ``is_staff``/``is_superuser`` mean nothing
here. An API key narrows it: administration needs the ``admin:read``/``admin:write``
scope (or ``*``), like any module needs its own scope.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from tenants.access import policy, registry, scoping
from tenants.access.errors import AccessDenied

# Pseudo-module of the administration doors (definitions, workflows, webhooks, users and
# roles, audit log, billing): an API key reaches them only with ``admin:read|write``.
ADMIN_SCOPE = policy.ADMIN_SCOPE

# Module gates: upper layers register a callable that raises when an object's module is
# switched off for the tenant (metadata's ``object_require``), so the principal checks
# "module on" with the rights, in one place.
_module_gates: list[Callable[[str], None]] = []


def module_gate_register(gate: Callable[[str], None]) -> None:
    """``gate(object_api_name)`` raises (403 ``module_disabled``, or 404 for an unknown
    object) when the object may not be used at all in the current tenant."""
    if gate not in _module_gates:
        _module_gates.append(gate)


@dataclass(frozen=True, eq=False)
class Principal:
    user: Any = None
    scopes: frozenset[str] | None = None
    is_system: bool = False
    label: str = ""

    # --- Construction ---------------------------------------------------------------

    @classmethod
    def of(cls, user, *, scopes: Iterable[str] | None = None) -> Principal:
        """A signed-in user, narrowed to ``scopes`` when they act through an API key."""
        return cls(user=user, scopes=None if scopes is None else frozenset(scopes))

    @classmethod
    def system(cls, label: str) -> Principal:
        """The platform acting for itself; ``label`` says why (audit trail, logs)."""
        if not label:
            raise ValueError("a system principal needs a label saying what acts")
        return cls(is_system=True, label=label)

    @classmethod
    def from_request(cls, request) -> Principal:
        """The principal of a request (DRF or Django): its user, narrowed by the API key
        it authenticated with. Built once per request."""
        cached = getattr(request, "_atrium_principal", None)
        if cached is not None and cached.user is getattr(request, "user", None):
            return cached
        principal = cls.of(getattr(request, "user", None), scopes=policy.request_scopes(request))
        with contextlib.suppress(AttributeError):  # a request that takes no attributes
            request._atrium_principal = principal
        return principal

    # --- Identity ---------------------------------------------------------------------

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "pk", None) if self.user is not None else None

    @property
    def authenticated(self) -> bool:
        return self.is_system or bool(getattr(self.user, "is_authenticated", False))

    def __repr__(self) -> str:
        if self.is_system:
            return f"Principal.system({self.label!r})"
        scopes = "" if self.scopes is None else f", scopes={sorted(self.scopes)}"
        return f"Principal(user={getattr(self.user, 'email', None)!r}{scopes})"

    # --- Administration -------------------------------------------------------------

    @property
    def is_admin(self) -> bool:
        """The one administrator rule (see the module docstring)."""
        if self.is_system:
            return True
        if not policy.is_tenant_admin(self.user):
            return False
        return self._scope_allows_admin(write=True)

    def _scope_allows_admin(self, *, write: bool) -> bool:
        if self.scopes is None or "*" in self.scopes:
            return True
        wanted = {f"{ADMIN_SCOPE}:write"} | (set() if write else {f"{ADMIN_SCOPE}:read"})
        return bool(self.scopes & wanted)

    def require_admin(self, what: str = "do this", *, write: bool = True) -> None:
        """403 unless an administrator (with an admin scope when through an API key)."""
        if self.is_system:
            return
        self._require_signed_in()
        if not policy.is_tenant_admin(self.user):
            raise AccessDenied(f"Only administrators may {what}.")
        if not self._scope_allows_admin(write=write):
            need = "write" if write else "read"
            raise AccessDenied(
                f"This API key's scopes do not allow administration "
                f"(it needs the {ADMIN_SCOPE}:{need} scope)."
            )

    def _require_signed_in(self) -> None:
        if not self.authenticated:
            raise AccessDenied("Sign in first.", code="not_authenticated")

    # --- Objects ----------------------------------------------------------------------

    def can(self, object_api_name: str, action: str) -> bool:
        if self.is_system:
            return True
        return policy.object_allowed(self.user, object_api_name, action, scopes=self.scopes)

    def require(self, object_api_name: str, action: str) -> None:
        """The object exists and its module is on (404/403), and the principal may do
        ``action`` on it (403 ``permission_denied`` naming what was refused). The system
        principal passes: switching a module off closes its doors, not the platform's
        own housekeeping."""
        if self.is_system:
            return  # the platform's own work (fixtures, workflows' writes) passes gates too
        for gate in _module_gates:
            gate(object_api_name)
        policy.object_require(self.user, object_api_name, action, scopes=self.scopes)

    def actions(self, object_api_name: str) -> frozenset[str]:
        if self.is_system:
            from tenants.access.models import ACTIONS

            return frozenset(ACTIONS)
        return policy.object_actions(self.user, object_api_name, scopes=self.scopes)

    # --- Fields -----------------------------------------------------------------------

    def field_level(self, object_api_name: str, field_api_name: str) -> str:
        if self.is_system:
            return "edit"
        return policy.field_level(self.user, object_api_name, field_api_name, scopes=self.scopes)

    def field_access(self, object_api_name: str, fields: Iterable[str] = ()) -> dict[str, str]:
        """``{field: "read" | "edit"}`` for every field the principal may see."""
        if self.is_system:
            names = set(registry.object_spec(object_api_name).fields) | set(fields)
            return dict.fromkeys(sorted(names), "edit")
        return policy.field_access(self.user, object_api_name, scopes=self.scopes, fields=fields)

    def fields_visible(self, object_api_name: str, fields: Iterable[str] = ()) -> frozenset[str]:
        if self.is_system:
            return frozenset(registry.object_spec(object_api_name).fields) | frozenset(fields)
        return policy.fields_visible(self.user, object_api_name, scopes=self.scopes, fields=fields)

    def require_editable(self, object_api_name: str, field_names: Iterable[str]) -> None:
        """403 naming the first field of a write the principal may not change."""
        if self.is_system:
            return
        policy.fields_require_editable(
            self.user, object_api_name, list(field_names), scopes=self.scopes
        )

    def require_readable(
        self, object_api_name: str, field_names: Iterable[str], *, purpose: str = "read"
    ) -> None:
        """403 naming the first field the principal cannot read. Filters, ordering and
        searches are reads: ``purpose`` ("filter by", "order by") goes in the message."""
        if self.is_system:
            return
        for name in sorted(set(field_names) - policy.ALWAYS_VISIBLE):
            if self.field_level(object_api_name, name) == "hidden":
                label = registry.object_spec(object_api_name).label or object_api_name
                raise AccessDenied(
                    f"You may not {purpose} the field {name} of {label} records.",
                    field=name,
                )

    def mask(self, object_api_name: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """The record as the principal may see it (hidden fields removed, sensitive
        reads audited); 403 without ``view``."""
        if self.is_system:
            return dict(data)
        return policy.record_mask(self.user, object_api_name, data, scopes=self.scopes)

    def mask_many(
        self, object_api_name: str, rows: Iterable[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        if self.is_system:
            return [dict(r) for r in rows]
        return policy.records_mask(self.user, object_api_name, rows, scopes=self.scopes)

    # --- Hotels -----------------------------------------------------------------------

    def property_ids(self) -> set[int] | None:
        """The hotels the principal is limited to, or None for every hotel."""
        if self.is_system:
            return None
        return scoping.property_ids_for(self.user)

    def require_property(self, property_id: int | None, *, field: str = "property") -> None:
        """403 when a write would place a record at a hotel outside the principal's
        scope (creates and updates, single and bulk)."""
        ids = self.property_ids()
        if ids is None:
            return
        if property_id is None or int(property_id) not in ids:
            raise AccessDenied(
                f"You are not allowed to work with hotel {property_id}.", field=field
            )

    def scope(self, object_api_name: str, queryset: QuerySet) -> QuerySet:
        """``queryset`` narrowed to the records the principal's hotel scope reaches,
        through the object's registered property path. No join, no DISTINCT: a path
        crossing a to-many relation becomes an ``EXISTS`` subquery."""
        ids = self.property_ids()
        if ids is None:
            return queryset
        spec = registry.object_spec(object_api_name)
        path = spec.property_path
        if path is None:
            return queryset
        if "__" not in path:
            return queryset.filter(**{f"{path}__in": sorted(ids)})
        relation, _, rest = path.partition("__")
        field = queryset.model._meta.get_field(relation)
        if not (field.one_to_many or field.many_to_many):
            # A path through a to-one relation (compensation -> its case -> hotel): a join
            # that cannot repeat rows.
            return queryset.filter(**{f"{path}__in": sorted(ids)})
        rows = field.related_model._default_manager.filter(**{field.field.name: OuterRef("pk")})
        reached = Exists(rows.filter(**{f"{rest}__in": sorted(ids)}))
        if spec.unattached_visible:
            return queryset.filter(reached | ~Exists(rows))
        return queryset.filter(reached)

    def require_record_in_scope(self, object_api_name: str, queryset: QuerySet, pk) -> None:
        """403 unless the record ``pk`` of ``queryset`` is within the hotel scope (for
        services handed a record by their caller)."""
        if (
            self.property_ids() is None
            or registry.object_spec(object_api_name).property_path is None
        ):
            return
        if not self.scope(object_api_name, queryset.filter(pk=pk)).exists():
            raise AccessDenied(
                f"You are not allowed to work with this {object_api_name} record "
                "(it belongs to a hotel outside your scope).",
            )
