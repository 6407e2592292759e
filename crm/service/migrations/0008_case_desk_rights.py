"""Rights of the case desk's objects for the seeded roles: agents and front office ask
for compensation, the general manager decides it and keeps the assignment rules."""

from django.db import migrations

from tenants.access.seeding import seeded_rights_add, seeded_rights_remove

V, C, E, D, X = "view", "create", "edit", "delete", "export"

RIGHTS = {
    "general_manager": {
        "case_compensation": ((V, C, E, X), "edit"),
        "case_assignment_rule": ((V, C, E, D), "edit"),
    },
    "service_agent": {
        "case_compensation": ((V, C), "read"),
        "case_assignment_rule": ((V,), "read"),
    },
    "front_office": {
        "case_compensation": ((V, C), "read"),
    },
}


def forward(apps, schema_editor):
    seeded_rights_add(apps, schema_editor, RIGHTS)


def backward(apps, schema_editor):
    seeded_rights_remove(apps, schema_editor, RIGHTS)


class Migration(migrations.Migration):
    dependencies = [
        ("service", "0007_case_desk"),
        ("access", "0007_seeded_role_descriptions_translated"),
    ]

    operations = [migrations.RunPython(forward, backward)]
