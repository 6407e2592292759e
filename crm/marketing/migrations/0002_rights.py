"""The module's rights for the seeded roles. ``segment`` and ``campaign`` rows come with
the seeded roles already (access 0002); templates and offers are added where a role has
no row for them yet, so a tenant that already edited a role keeps its choice. Going back
removes only the rows added here."""

from django.db import migrations

from tenants.access.seeding import seeded_rights_add, seeded_rights_remove

V, C, E, D, X = "view", "create", "edit", "delete", "export"

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


def forward(apps, schema_editor):
    seeded_rights_add(apps, schema_editor, RIGHTS)


def backward(apps, schema_editor):
    seeded_rights_remove(apps, schema_editor, RIGHTS)


class Migration(migrations.Migration):
    dependencies = [
        ("marketing", "0001_initial"),
        ("access", "0008_privacy_audit"),
    ]

    operations = [migrations.RunPython(forward, backward)]
