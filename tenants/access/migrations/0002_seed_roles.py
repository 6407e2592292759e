"""The built-in roles. Applied to the template schema, so every cloned tenant starts
with them. Objects are named by the api_names the CRM uses; a role sees no field of an
object unless its row gives a field default (sensitive fields never by default)."""

from django.db import migrations

V, C, E, D, X = "view", "create", "edit", "delete", "export"
ALL = (V, C, E, D, X)

# key: (en, zh-hans, zh-hant, description, two-factor, grants everything,
#       {target: (actions, field_default)})
ROLES = {
    "tenant_admin": (
        "Tenant administrator", "租户管理员", "租戶管理員",
        "Configures the CRM and sees everything, sensitive fields included.",
        False, True, {},
    ),
    "general_manager": (
        "General manager", "总经理", "總經理",
        "Runs the hotels: works with every record, no deletions, no sensitive fields.",
        False, False,
        {
            "property": ((V, E, X), "edit"),
            "guest": ((V, C, E, X), "edit"),
            "company": ((V, C, E, X), "edit"),
            "contact": ((V, C, E, X), "edit"),
            "reservation": ((V, C, E, X), "edit"),
            "case": ((V, C, E, X), "edit"),
            "campaign": ((V, X), "read"),
            "segment": ((V, X), "read"),
            "loyalty_account": ((V, E, X), "edit"),
            "lead": ((V, C, E, X), "edit"),
            "contract": ((V, C, E, X), "edit"),
            "task": ((V, C, E, X), "edit"),
            "report": ((V, C, E, X), "edit"),
        },
    ),
    "front_office": (
        "Front office", "前台", "前台",
        "Front desk: arrivals, stays and guest requests.",
        False, False,
        {
            "property": ((V,), "read"),
            "guest": ((V, C, E), "edit"),
            "reservation": ((V, C, E), "edit"),
            "case": ((V, C, E), "edit"),
            "company": ((V,), "read"),
            "contact": ((V,), "read"),
            "loyalty_account": ((V,), "read"),
            "task": ((V, C, E), "edit"),
        },
    ),
    "reservations": (
        "Reservations", "预订部", "訂房部",
        "Reservations office: bookings, changes, cancellations.",
        False, False,
        {
            "property": ((V,), "read"),
            "guest": ((V, C, E), "edit"),
            "reservation": ((V, C, E, D, X), "edit"),
            "company": ((V,), "read"),
            "contact": ((V,), "read"),
            "case": ((V,), "read"),
            "task": ((V, C, E), "edit"),
        },
    ),
    "sales": (
        "Sales", "销售部", "銷售部",
        "Group, corporate and MICE sales: accounts, leads and contracts.",
        False, False,
        {
            "property": ((V,), "read"),
            "company": ((V, C, E, D, X), "edit"),
            "contact": ((V, C, E, D, X), "edit"),
            "lead": ((V, C, E, D, X), "edit"),
            "contract": ((V, C, E, X), "edit"),
            "guest": ((V,), "read"),
            "reservation": ((V,), "read"),
            "case": ((V,), "read"),
            "task": ((V, C, E), "edit"),
        },
    ),
    "marketing": (
        "Marketing", "市场部", "市場部",
        "Segments, campaigns and loyalty.",
        False, False,
        {
            "property": ((V,), "read"),
            "guest": ((V, X), "read"),
            "segment": ((V, C, E, D, X), "edit"),
            "campaign": ((V, C, E, D, X), "edit"),
            "loyalty_account": ((V, E, X), "edit"),
            "company": ((V,), "read"),
            "contact": ((V,), "read"),
            "reservation": ((V,), "read"),
        },
    ),
    "service_agent": (
        "Service agent", "客服专员", "客服專員",
        "Service centre: complaints, requests and follow-ups.",
        False, False,
        {
            "property": ((V,), "read"),
            "guest": ((V, E), "edit"),
            "case": ((V, C, E, X), "edit"),
            "task": ((V, C, E), "edit"),
            "reservation": ((V,), "read"),
            "company": ((V,), "read"),
            "contact": ((V,), "read"),
            "loyalty_account": ((V,), "read"),
        },
    ),
    "read_only": (
        "Read only", "只读", "唯讀",
        "Sees every record (no sensitive fields, no administration); changes nothing.",
        False, False,
        {"*": ((V,), "read")},
    ),
}


def seed(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    ObjectPermission = apps.get_model("access", "ObjectPermission")
    for key, (en, zh_hans, zh_hant, description, two_factor, everything, rows) in ROLES.items():
        role, _ = Role.objects.update_or_create(
            key=key,
            defaults={
                "name": en,
                "name_en": en,
                "name_zh_hans": zh_hans,
                "name_zh_hant": zh_hant,
                "description": description,
                "description_en": description,
                "is_system": True,
                "grants_everything": everything,
                "requires_two_factor": two_factor,
            },
        )
        for target, (actions, field_default) in rows.items():
            ObjectPermission.objects.update_or_create(
                role=role,
                target=target,
                defaults={
                    **{f"can_{a}": a in actions for a in ALL},
                    "field_default": field_default,
                },
            )


def unseed(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    ids = list(Role.objects.filter(key__in=list(ROLES), is_system=True).values_list("pk", flat=True))
    # Dependents first, then the roles by SQL: the ORM's cascade collector trips over
    # the historical models of the M2M to the swappable user model.
    for name in ("ObjectPermission", "FieldPermission", "RoleAssignment"):
        apps.get_model("access", name).objects.filter(role_id__in=ids).delete()
    if ids:
        schema_editor.execute(
            f"DELETE FROM {schema_editor.quote_name(Role._meta.db_table)} WHERE id = ANY(%s)",
            [ids],
        )


class Migration(migrations.Migration):
    dependencies = [("access", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
