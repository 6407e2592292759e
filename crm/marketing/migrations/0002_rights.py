"""The module's rights for the seeded roles. ``segment`` and ``campaign`` rows come with
the seeded roles already (access 0002); templates and offers are added where a role has
no row for them yet, so a tenant that already edited a role keeps its choice. Going back
removes only the rows added here."""

from django.db import migrations

V, C, E, D, X = "view", "create", "edit", "delete", "export"
ALL = (V, C, E, D, X)

# role: {object: (actions, field_default)}
RIGHTS = {
    "general_manager": {
        "marketing_template": ((V,), "read"),
        "offer": ((V, X), "read"),
    },
    "front_office": {
        # The desk checks and applies a guest's promo code.
        "offer": ((V, E), "read"),
    },
    "reservations": {
        "offer": ((V, E), "read"),
    },
    "marketing": {
        "marketing_template": ((V, C, E, D, X), "edit"),
        "offer": ((V, C, E, D, X), "edit"),
    },
}


def _version_bump(schema_editor):
    # Every process caches rights per rights version: take a new one.
    schema_editor.execute(
        "UPDATE access_accessstate SET version = nextval('access_version_seq') WHERE id = 1"
    )


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
    _version_bump(schema_editor)


def backward(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    ObjectPermission = apps.get_model("access", "ObjectPermission")
    for key, rows in RIGHTS.items():
        ObjectPermission.objects.filter(
            role__in=Role.objects.filter(key=key, is_system=True), target__in=list(rows)
        ).delete()
    _version_bump(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("marketing", "0001_initial"),
        ("access", "0008_privacy_audit"),
    ]

    operations = [migrations.RunPython(forward, backward)]
