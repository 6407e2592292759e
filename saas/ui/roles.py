"""Administration of who may do what: roles and their rights (per module, per object --
built-in and the tenant's own record types -- and per field), a user's roles, hotels
and deactivation, and temporary grants. Thin: every write is an access or account
service, which checks the principal, bumps the rights version and writes the audit."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import capfirst, slugify
from django.utils.translation import get_language, gettext_lazy, gettext_noop
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.selectors.operations import properties_list
from metadata.definitions import object_snapshot
from metadata.selectors.definitions import object_describe, objects_list
from metadata.services.modules import modules_available
from saas.ui.designer import admin_require
from saas.ui.errors import errors_by_field
from saas.ui.records import CUSTOM_RECORD_FIELDS, STANDARD_BY_OBJECT
from tenants.access import registry
from tenants.access.models import ACTIONS, FieldAccess, Role
from tenants.access.principal import Principal
from tenants.access.scoping import property_ids_for
from tenants.access.selectors import role_by_key, role_list, temporary_grants_list
from tenants.access.services import (
    role_create,
    role_delete,
    role_rights_set,
    role_update,
    temporary_grant_create,
    temporary_grant_revoke,
    user_property_scope_set,
    user_roles_set,
)
from tenants.context import current_zone
from tenants.errors import ApplicationError, NotFound
from tenants.modules import module_catalogue
from tenants.users.selectors import users_list
from tenants.users.services import user_deactivate

ACTION_LABELS = {
    "view": gettext_lazy("View"),
    "create": gettext_lazy("Create"),
    "edit": gettext_lazy("Edit"),
    "delete": gettext_lazy("Delete"),
    "export": gettext_lazy("Export"),
}
LEVEL_LABELS = {
    FieldAccess.HIDDEN.value: gettext_lazy("Hidden"),
    FieldAccess.READ.value: gettext_lazy("Read"),
    FieldAccess.EDIT.value: gettext_lazy("Read and edit"),
}
# The access layer's own objects: administration, granted by name only.
ACCESS_OBJECTS = (
    ("role", gettext_lazy("Roles")),
    ("audit_event", gettext_lazy("Audit log")),
    ("temporary_grant", gettext_lazy("Temporary grants")),
)


def _errors(exc: ValidationError | ApplicationError) -> list[str]:
    return [m for texts in errors_by_field(exc).values() for m in texts]


def _role_for(key: str) -> Role:
    role = role_by_key(key)
    if role is None:
        raise Http404(_("There is no such role."))
    return role


# Names of built-in objects and modules are registered as plain English strings; they
# are looked up in the catalogue when shown (marked here so makemessages keeps them).
BUILTIN_NAMES = (
    gettext_noop("Guests"), gettext_noop("Hotels"), gettext_noop("Rate plans"),
    gettext_noop("Room types"), gettext_noop("Reservations"), gettext_noop("Companies"),
    gettext_noop("Cases"),
)  # fmt: skip


def _module_label(key: str) -> str:
    catalogue = module_catalogue()
    return _(str(catalogue[key].label)) if key in catalogue else key


# --- roles --------------------------------------------------------------------------


@login_required
def role_list_view(request):
    """Every role with its description and members; a new role of the tenant's own."""
    admin_require(request.user)
    errors: list[str] = []
    values = {"key": "", "name": "", "description": ""}
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in values}
        key = values["key"] or slugify(values["name"]).replace("-", "_")
        if not key:
            errors = [_("Give the role a key: lower-case letters, digits and underscores.")]
        else:
            try:
                role = role_create(
                    key=key,
                    name=values["name"],
                    description=values["description"],
                    actor=Principal.from_request(request),
                )
            except (ValidationError, ApplicationError) as exc:
                errors = _errors(exc)
            else:
                messages.success(
                    request,
                    _("Role %(name)s created. Now choose what it may do.") % {"name": role.name},
                )
                return redirect("settings_role", key=role.key)
    roles = role_list().prefetch_related("assignments")
    return render(
        request,
        "settings/roles.html",
        {"roles": roles, "errors": errors, "values": values},
        status=400 if errors else 200,
    )


def _rights_rows(role: Role) -> list[dict]:
    """One row per target the editor offers: every object (built-in and the tenant's
    own, by module), each module as a whole, every object at once, and the access
    layer's own objects; with what the role holds on each."""
    held = {p.target: p for p in role.object_permissions.all()}
    objects = objects_list(get_language(), enabled_only=False)
    modules = modules_available()
    rows: list[dict] = []

    def row(target: str, label: str, *, kind: str, own: bool = False, api_name: str = ""):
        permission = held.get(target)
        rows.append(
            {
                "target": target,
                "label": label,
                "kind": kind,
                "own": own,
                "api_name": api_name,
                "actions": [
                    {
                        "key": a,
                        "label": ACTION_LABELS[a],
                        "checked": permission is not None and getattr(permission, f"can_{a}"),
                    }
                    for a in ACTIONS
                ],
                "field_default": permission.field_default if permission else "hidden",
            }
        )

    row("*", str(_("Every object (except administration)")), kind="all")
    for module in sorted(modules, key=lambda k: _module_label(k)):
        in_module = [o for o in objects if o["module"] == module]
        if not in_module:
            continue
        label = _module_label(module)
        if not modules[module]:
            label = _("%(module)s (switched off)") % {"module": label}
        row(f"module:{module}", label, kind="module")
        for o in in_module:
            obj_label = o["label_plural"] or o["label"] or o["api_name"]
            row(
                o["api_name"],
                _(obj_label) if o["builtin"] else obj_label,
                kind="object",
                own=not o["builtin"],
                api_name=o["api_name"],
            )
    rows.append({"kind": "heading", "label": _("Administration")})
    for api_name, admin_label in ACCESS_OBJECTS:
        row(api_name, str(admin_label), kind="admin")
    return rows


@login_required
def role_edit_view(request, key: str):
    """A role's name, description and rights per module and object, in one form."""
    admin_require(request.user)
    role = _role_for(key)
    errors: list[str] = []
    if request.method == "POST":
        actor = Principal.from_request(request)
        targets = request.POST.getlist("target")
        rights = {
            target: (
                [a for a in request.POST.getlist(f"a:{target}") if a in ACTIONS],
                request.POST.get(f"f:{target}", "hidden"),
            )
            for target in targets
        }
        try:
            role_update(
                role=role,
                actor=actor,
                name=request.POST.get("name", role.name).strip(),
                description=request.POST.get("description", role.description).strip(),
                requires_two_factor=request.POST.get("requires_two_factor") == "1",
            )
            if rights and not role.grants_everything:
                role_rights_set(role=role, actor=actor, objects=rights)
        except (ValidationError, ApplicationError) as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("Role %(name)s saved.") % {"name": role.name})
            return redirect("settings_role", key=role.key)
        role = _role_for(key)
    members = users_list().filter(role_assignments__role=role)
    return render(
        request,
        "settings/role_form.html",
        {
            "role": role,
            "rows": [] if role.grants_everything else _rights_rows(role),
            "levels": list(LEVEL_LABELS.items()),
            "members": members,
            "errors": errors,
        },
        status=400 if errors else 200,
    )


@login_required
@require_POST
def role_delete_view(request, key: str):
    admin_require(request.user)
    role = _role_for(key)
    try:
        role_delete(role=role, actor=Principal.from_request(request))
    except (ValidationError, ApplicationError) as exc:
        for message in _errors(exc):
            messages.error(request, message)
        return redirect("settings_role", key=key)
    messages.success(request, _("Role %(name)s deleted.") % {"name": role.name})
    return redirect("settings_roles")


def _object_fields(api_name: str) -> list[dict]:
    """The fields an administrator can set levels on: the object's standard fields and
    its custom fields, labelled in the reader's language, sensitive ones marked."""
    spec = registry.object_spec(api_name)
    snap = object_snapshot(api_name)
    out: list[dict] = []
    seen: set[str] = set()

    def add(name: str, label: str, sensitive: bool = False) -> None:
        if name in seen or name in ("id", "custom", "data"):
            return
        seen.add(name)
        out.append(
            {
                "name": name,
                "label": label,
                "sensitive": sensitive or spec.is_sensitive(name),
                "custom": False,
            }
        )

    if api_name in STANDARD_BY_OBJECT:
        for standard in STANDARD_BY_OBJECT[api_name]:
            add(standard.name, str(standard.label))
    elif snap.builtin is None:
        for standard in CUSTOM_RECORD_FIELDS:
            add(standard.name, str(standard.label))
    else:
        for model_field in snap.model()._meta.concrete_fields:
            if model_field.name in ("created", "updated"):
                continue
            add(model_field.name, capfirst(str(model_field.verbose_name)))
    for name in sorted(spec.sensitive_fields):
        add(name, name, sensitive=True)
    for described in object_describe(api_name, get_language())["fields"]:
        if described["api_name"] in seen:
            continue
        seen.add(described["api_name"])
        out.append(
            {
                "name": described["api_name"],
                "label": described["label"],
                "sensitive": bool(described.get("sensitive"))
                or spec.is_sensitive(described["api_name"]),
                "custom": True,
            }
        )
    return out


@login_required
def role_fields_view(request, key: str, api_name: str):
    """Field by field: hidden, read, or read and edit (or the object's default, which
    never opens a sensitive field)."""
    admin_require(request.user)
    role = _role_for(key)
    try:
        described = object_describe(api_name, get_language())
    except NotFound:
        raise Http404(_("There is no such record type.")) from None
    if role.grants_everything:
        raise Http404(_("This role grants everything; it has no field levels to set."))
    fields = _object_fields(api_name)
    errors: list[str] = []
    if request.method == "POST":
        wanted: dict[tuple[str, str], str | None] = {}
        for field in fields:
            value = request.POST.get(f"fl:{field['name']}", "")
            wanted[(api_name, field["name"])] = value or None
        try:
            role_rights_set(role=role, actor=Principal.from_request(request), fields=wanted)
        except (ValidationError, ApplicationError) as exc:
            errors = _errors(exc)
        else:
            messages.success(
                request,
                _("Field levels of %(object)s for %(role)s saved.")
                % {"object": described["label_plural"] or described["label"], "role": role.name},
            )
            return redirect("settings_role_fields", key=role.key, api_name=api_name)
    explicit = {
        p.field_api_name: p.access
        for p in role.field_permissions.all()
        if p.object_api_name == api_name
    }
    permission = next((p for p in role.object_permissions.all() if p.target == api_name), None)
    default = permission.field_default if permission else None
    for field in fields:
        field["level"] = explicit.get(field["name"], "")
    return render(
        request,
        "settings/role_fields.html",
        {
            "role": role,
            "object": described,
            "fields": fields,
            "levels": list(LEVEL_LABELS.items()),
            "default_label": LEVEL_LABELS.get(default or ""),
            "errors": errors,
        },
        status=400 if errors else 200,
    )


# --- users: roles, hotels, deactivation ---------------------------------------------


def _user_for(user_id: int):
    user = users_list().filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("There is no such user."), field="user")
    return user


@login_required
def user_edit_view(request, user_id: int):
    """One staff account: its roles, the hotels it is limited to, switching it off."""
    admin_require(request.user)
    actor = Principal.from_request(request)
    user = _user_for(user_id)
    hotels = list(properties_list(actor=actor).order_by("name"))
    errors: list[str] = []
    if request.method == "POST":
        wanted_keys = set(request.POST.getlist("roles"))
        scope = request.POST.get("scope", "all")
        known = {h.pk for h in hotels}
        picked = sorted(
            int(v) for v in request.POST.getlist("hotels") if v.isdecimal() and int(v) in known
        )
        try:
            held = {r.key for r in user.access_roles.all()}
            if wanted_keys != held:
                user_roles_set(
                    user=user, roles=Role.objects.filter(key__in=wanted_keys), actor=actor
                )
            current = property_ids_for(user)
            new_scope = None if scope == "all" else picked
            if (None if current is None else sorted(current)) != new_scope:
                user_property_scope_set(user=user, property_ids=new_scope, actor=actor)
        except (ValidationError, ApplicationError) as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("Access of %(email)s saved.") % {"email": user.email})
            return redirect("settings_user", user_id=user.pk)
        user = _user_for(user_id)
    scope_ids = property_ids_for(user)
    held = {r.key for r in user.access_roles.all()}
    return render(
        request,
        "settings/user_form.html",
        {
            "account": user,
            "roles": [{"role": r, "held": r.key in held} for r in role_list()],
            "hotels": [
                {"hotel": h, "picked": scope_ids is not None and h.pk in scope_ids} for h in hotels
            ],
            "limited": scope_ids is not None,
            "grants": [
                {
                    "grant": g,
                    "until": g.expires_at.astimezone(current_zone()).strftime("%Y-%m-%d %H:%M"),
                }
                for g in temporary_grants_list().filter(user=user)
            ],
            "zone": str(current_zone()),
            "errors": errors,
        },
        status=400 if errors else 200,
    )


@login_required
@require_POST
def user_deactivate_view(request, user_id: int):
    admin_require(request.user)
    user = _user_for(user_id)
    try:
        user_deactivate(actor=Principal.from_request(request), user=user)
    except (ValidationError, ApplicationError) as exc:
        for message in _errors(exc):
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("%(email)s is switched off: they can no longer sign in.") % {"email": user.email},
        )
    return redirect("settings_user", user_id=user.pk)


# --- temporary grants ---------------------------------------------------------------


def _grant_objects() -> list[dict]:
    objects = objects_list(get_language(), enabled_only=False)
    return [
        {"api_name": o["api_name"], "label": o["label_plural"] or o["label"]} for o in objects
    ] + [{"api_name": k, "label": str(label)} for k, label in ACCESS_OBJECTS]


@login_required
def grants_view(request):
    """Temporary grants in force (who, what, until when, why) and a new one."""
    admin_require(request.user)
    actor = Principal.from_request(request)
    zone = current_zone()
    errors: list[str] = []
    values = {k: request.POST.get(k, "") for k in ("user", "object", "what", "field", "access",
                                                    "until", "reason")}  # fmt: skip
    if request.method == "POST":
        try:
            problems: dict[str, str] = {}
            user = (
                get_user_model().objects.filter(pk=int(values["user"]), is_active=True).first()
                if values["user"].isdecimal() and int(values["user"]) < 2**63
                else None
            )
            if user is None:
                problems["user"] = _("Choose who receives the grant.")
            try:
                until = datetime.fromisoformat(values["until"])
                if not 1900 <= until.year <= 2999:
                    raise ValueError(values["until"])
            except ValueError:
                problems["expires_at"] = _("Give the end as a date and time.")
            if not values["reason"].strip():
                problems["reason"] = _("Say why the grant is needed.")
            if problems:
                raise ValidationError(problems)
            if timezone.is_naive(until):
                until = until.replace(tzinfo=zone)
            field_grant = values["what"] == "field"
            grant = temporary_grant_create(
                actor=actor,
                user=user,
                object_api_name=values["object"],
                action=None if field_grant else values["what"],
                field_api_name=values["field"].strip() if field_grant else None,
                field_access=values["access"] if field_grant else None,
                expires_at=until,
                reason=values["reason"].strip(),
            )
        except (ValidationError, ApplicationError) as exc:
            errors = _errors(exc)
        else:
            messages.success(
                request,
                _("%(email)s holds the grant until %(until)s.")
                % {
                    "email": grant.user.email,
                    "until": grant.expires_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                },
            )
            return redirect("settings_grants")
    grants = [
        {"grant": g, "until": g.expires_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")}
        for g in temporary_grants_list()
    ]
    return render(
        request,
        "settings/grants.html",
        {
            "grants": grants,
            "users": users_list().filter(is_active=True),
            "objects": _grant_objects(),
            "actions": list(ACTION_LABELS.items()),
            "zone": str(zone),
            "errors": errors,
            "values": values,
        },
        status=400 if errors else 200,
    )


@login_required
@require_POST
def grant_revoke_view(request, grant_id: int):
    admin_require(request.user)
    grant = temporary_grants_list(include_ended=True).filter(pk=grant_id).first()
    if grant is None:
        raise NotFound(_("There is no such grant."), field="grant")
    temporary_grant_revoke(grant=grant, actor=Principal.from_request(request))
    messages.success(request, _("Grant of %(email)s revoked.") % {"email": grant.user.email})
    if request.POST.get("back") == "user":
        return redirect("settings_user", user_id=grant.user_id)
    return redirect("settings_grants")
