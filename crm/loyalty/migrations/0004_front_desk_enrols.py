"""Front office and general managers enrol guests (the desk is where a guest joins).
Only a role whose ``loyalty_account`` row is still as seeded (access 0002) changes, so a
tenant that edited the role keeps its choice; going back undoes only that change."""

from django.db import migrations

from tenants.access.seeding import rights_version_bump

# role: the seeded actions on loyalty_account (view, create, edit, delete, export).
SEEDED = {
    "front_office": (True, False, False, False, False),
    "general_manager": (True, False, True, False, True),
}


def _rows(apps, create: bool):
    ObjectPermission = apps.get_model("access", "ObjectPermission")
    for key, (view, _create, edit, delete, export) in SEEDED.items():
        yield ObjectPermission.objects.filter(
            role__key=key,
            role__is_system=True,
            target="loyalty_account",
            can_view=view,
            can_create=create,
            can_edit=edit,
            can_delete=delete,
            can_export=export,
        )


def forward(apps, schema_editor):
    for rows in _rows(apps, create=False):
        rows.update(can_create=True)
    rights_version_bump(schema_editor)


def backward(apps, schema_editor):
    for rows in _rows(apps, create=True):
        rows.update(can_create=False)
    rights_version_bump(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0003_ledger_append_only"),
        ("access", "0007_seeded_role_descriptions_translated"),
    ]

    operations = [migrations.RunPython(forward, backward)]
