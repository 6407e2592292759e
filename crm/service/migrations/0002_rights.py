"""The module's rights for the seeded roles. Rights are only added where a role has no
row for the object yet, so a tenant that already edited a role keeps its choice; going
back removes only the seeded roles' rows on the module's objects."""

from django.db import migrations

from tenants.access.seeding import rights_version_bump

V, C, E, D, X = "view", "create", "edit", "delete", "export"
ALL = (V, C, E, D, X)

# role: {object: (actions, field_default)}. A survey_response "create" is inviting a
# guest (making the signed link); guests answer through the link, not through rights.
RIGHTS = {
    "general_manager": {
        "service_level": ((V, C, E), "edit"),
        "survey": ((V, C, E, X), "edit"),
        "survey_response": ((V, C, X), "read"),
    },
    "service_agent": {
        "service_level": ((V,), "read"),
        "survey": ((V,), "read"),
        "survey_response": ((V, C), "read"),
    },
    "front_office": {
        "survey_response": ((V,), "read"),
    },
    "marketing": {
        "survey": ((V, C, E, D, X), "edit"),
        "survey_response": ((V, C, X), "read"),
    },
}


def forward(apps, schema_editor):
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
        ("service", "0001_initial"),
        ("access", "0007_seeded_role_descriptions_translated"),
    ]

    operations = [migrations.RunPython(forward, backward)]
