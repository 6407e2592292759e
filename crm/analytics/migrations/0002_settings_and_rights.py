"""The settings row (id 1) and the module's rights for the seeded roles. Rights are only
added where a role has no row for the object yet, so a tenant that already edited a role
keeps its choice; going back removes only the seeded roles' rows on the module's
objects."""

from django.db import migrations

V, C, E, D, X = "view", "create", "edit", "delete", "export"
ALL = (V, C, E, D, X)

# role: {object: (actions, field_default)}. Scores and reports are read by those who
# work with guests and revenue; the churn model's report is also an administrator's.
RIGHTS = {
    "general_manager": {
        "guest_score": ((V, X), "read"),
        "churn_model": ((V,), "read"),
        "analytics_report": ((V, X), "read"),
    },
    "marketing": {
        "guest_score": ((V, X), "read"),
        "churn_model": ((V,), "read"),
        "analytics_report": ((V, X), "read"),
    },
    "sales": {
        "guest_score": ((V,), "read"),
        "analytics_report": ((V,), "read"),
    },
    "front_office": {
        "guest_score": ((V,), "read"),
    },
    "read_only": {
        "guest_score": ((V,), "read"),
        "analytics_report": ((V,), "read"),
    },
}


def _version_bump(schema_editor):
    # Every process caches rights per rights version: take a new one.
    schema_editor.execute(
        "UPDATE access_accessstate SET version = nextval('access_version_seq') WHERE id = 1"
    )


def forward(apps, schema_editor):
    apps.get_model("analytics", "Settings").objects.get_or_create(pk=1)
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
    targets = sorted({t for rows in RIGHTS.values() for t in rows})
    ObjectPermission.objects.filter(
        role__in=Role.objects.filter(key__in=list(RIGHTS), is_system=True), target__in=targets
    ).delete()
    apps.get_model("analytics", "Settings").objects.filter(pk=1).delete()
    _version_bump(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_initial"),
        ("access", "0008_privacy_audit"),
    ]

    operations = [migrations.RunPython(forward, backward)]
