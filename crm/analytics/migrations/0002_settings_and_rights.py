"""The settings row (id 1) and the module's rights for the seeded roles. Rights are only
added where a role has no row for the object yet, so a tenant that already edited a role
keeps its choice; going back removes only the seeded roles' rows on the module's
objects."""

from django.db import migrations

from tenants.access.seeding import seeded_rights_add, seeded_rights_remove

V, C, E, D, X = "view", "create", "edit", "delete", "export"

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


def forward(apps, schema_editor):
    apps.get_model("analytics", "Settings").objects.get_or_create(pk=1)
    seeded_rights_add(apps, schema_editor, RIGHTS)


def backward(apps, schema_editor):
    seeded_rights_remove(apps, schema_editor, RIGHTS)
    apps.get_model("analytics", "Settings").objects.filter(pk=1).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_initial"),
        ("access", "0008_privacy_audit"),
    ]

    operations = [migrations.RunPython(forward, backward)]
