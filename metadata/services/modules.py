"""Modules: the code's catalogue (``tenants.modules``, filled by crm) plus modules a
tenant defines for its own record types. A disabled module's objects disappear from UI,
API and workflows (callers use ``module_require``/``object_require``); data is kept."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from metadata.definitions import object_snapshot
from metadata.models import ModuleDefinition
from metadata.services.definitions import (
    API_NAME_RE,
    TRANSLATABLE_OBJECT,
    _apply_translations,
    _english_default,
    change_record,
)
from tenants.access.principal import Principal
from tenants.context import current_tenant
from tenants.errors import ApplicationError, NotFound
from tenants.modules import module_catalogue


class ModuleDisabled(ApplicationError):
    status_code = 403
    default_code = "module_disabled"


@transaction.atomic
def module_create(
    *, key: str, label: str, translations: dict | None = None, actor: Principal
) -> ModuleDefinition:
    actor.require_admin("change modules")
    if not API_NAME_RE.fullmatch(key or "") or len(key) > 40:
        raise ValidationError({"key": "Use 2-40 lower-case letters, digits and underscores."})
    if key in module_catalogue() or ModuleDefinition.objects.filter(key=key).exists():
        raise ValidationError({"key": ValidationError(f"{key} is already taken.", code="taken")})
    if not (label or "").strip():
        raise ValidationError({"label": "A label is required."})
    module = ModuleDefinition(key=key, label=label)
    _english_default(module, label=label)
    _apply_translations(module, translations, TRANSLATABLE_OBJECT[:1])
    module.save()
    change_record(action="module.create", target=key, before=None,
                  after={"key": key, "label": label}, actor=actor)  # fmt: skip
    return module


def modules_available() -> dict[str, bool]:
    """Every module this tenant can use, with whether it is on."""
    tenant = current_tenant()
    enabled = set(getattr(tenant, "enabled_modules", None) or [])
    out = {key: (module.core or key in enabled) for key, module in module_catalogue().items()}
    out.update(_tenant_modules())
    return out


# (schema, tenant row, metadata version) -> the tenant's own modules and their switch:
# module changes bump the metadata version, so the copy is checked, not re-read.
_own_modules: dict[tuple, dict[str, bool]] = {}


def _tenant_modules() -> dict[str, bool]:
    from django.db import connection

    from metadata.definitions import version_current

    key = (
        getattr(connection, "schema_name", "public"),
        getattr(current_tenant(), "pk", None),
        version_current(),
    )
    found = _own_modules.get(key)
    if found is None:
        if len(_own_modules) > 5_000:
            _own_modules.clear()
        found = _own_modules[key] = dict(ModuleDefinition.objects.values_list("key", "enabled"))
    return dict(found)


def module_enabled(key: str) -> bool:
    return modules_available().get(key, False)


@transaction.atomic
def module_set_enabled(*, key: str, enabled: bool, actor: Principal) -> dict[str, bool]:
    actor.require_admin("change modules")
    catalogue = module_catalogue()
    tenant = current_tenant()
    if key in catalogue:
        if catalogue[key].core and not enabled:
            raise ApplicationError(f"{key} is a core module and stays on.", code="core_module",
                                   field="key")  # fmt: skip
        if enabled:
            from tenants.entitlements import tenant_module_allowed

            if not tenant_module_allowed(tenant, key):
                raise ApplicationError(
                    f"The {key} module is not part of your plan.", code="plan_module",
                    field="key",
                )  # fmt: skip
        keys = [k for k in tenant.enabled_modules if k != key] + ([key] if enabled else [])
        tenant.enabled_modules = keys
        tenant.full_clean()
        tenant.save(update_fields=["enabled_modules"])
    else:
        updated = ModuleDefinition.objects.filter(key=key).update(enabled=enabled)
        if not updated:
            raise NotFound(f"There is no module named {key!r}.", field="key")
    change_record(action="module.enable" if enabled else "module.disable", target=key,
                  before=None, after={"enabled": enabled}, actor=actor)  # fmt: skip
    return modules_available()


def module_require(key: str) -> None:
    if not module_enabled(key):
        raise ModuleDisabled(
            f"The {key} module is switched off for this hotel group; an administrator can "
            "switch it on in Settings → Modules.",
            field="module",
        )


def object_require(api_name: str):
    """The object's snapshot, if it exists and its module is on (else 404/403)."""
    snap = object_snapshot(api_name)
    module_require(snap.definition.module)
    return snap
