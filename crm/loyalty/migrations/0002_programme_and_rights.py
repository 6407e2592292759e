"""The programme row every tenant starts with, and the module's rights for the seeded
roles. Rights are only added where a role has no row for the object yet, so a tenant
that already edited a role keeps its choice; going back removes only what was added
for the seeded roles (their rows on the new objects)."""

from django.db import migrations

from tenants.access.seeding import rights_version_bump

V, C, E, D, X = "view", "create", "edit", "delete", "export"
ALL = (V, C, E, D, X)

# role: {object: (actions, field_default)}. loyalty_account rows come with the seeded
# roles already (access 0002). A ledger "create" is a manual adjustment: administrators
# only, unless a tenant grants it.
RIGHTS = {
    "general_manager": {
        "loyalty_ledger": ((V, X), "read"),
        "loyalty_reward": ((V,), "read"),
        "loyalty_redemption": ((V, C, E, X), "edit"),
    },
    "front_office": {
        "loyalty_ledger": ((V,), "read"),
        "loyalty_reward": ((V,), "read"),
        "loyalty_redemption": ((V, C, E), "edit"),
    },
    "marketing": {
        "loyalty_ledger": ((V, X), "read"),
        "loyalty_reward": ((V, C, E, D, X), "edit"),
        "loyalty_redemption": ((V, X), "read"),
    },
    "service_agent": {
        "loyalty_ledger": ((V,), "read"),
        "loyalty_reward": ((V,), "read"),
        "loyalty_redemption": ((V,), "read"),
    },
}


def forward(apps, schema_editor):
    Programme = apps.get_model("loyalty", "Programme")
    Programme.objects.get_or_create(pk=1, defaults={"name": "Rewards", "name_en": "Rewards"})
    Role = apps.get_model("access", "Role")
    ObjectPermission = apps.get_model("access", "ObjectPermission")
    for key, rows in RIGHTS.items():
        role = Role.objects.filter(key=key, is_system=True).first()
        if role is None:
            continue
        for target, (actions, field_default) in rows.items():
            ObjectPermission.objects.get_or_create(
                role=role,
                target=target,
                defaults={**{f"can_{a}": a in actions for a in ALL}, "field_default": field_default},
            )
    # Every process caches rights per rights version: take a new one.
    rights_version_bump(schema_editor)


def backward(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    ObjectPermission = apps.get_model("access", "ObjectPermission")
    targets = sorted({t for rows in RIGHTS.values() for t in rows})
    ObjectPermission.objects.filter(
        role__in=Role.objects.filter(key__in=list(RIGHTS), is_system=True), target__in=targets
    ).delete()
    # Every process caches rights per rights version: take a new one.
    rights_version_bump(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0001_initial"),
        ("access", "0006_access_state"),
    ]

    operations = [migrations.RunPython(forward, backward)]
