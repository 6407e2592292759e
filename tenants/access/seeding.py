"""Rights of the seeded roles, added and removed by modules' data migrations.

``rights``: ``{role key: {object: (actions, field default)}}``. Rights are only added
where a role has no row for the object yet, so a tenant that already edited a role keeps
its choice; removing takes only the seeded roles' rows on those objects. Both take a new
rights version, so every process drops the rights it cached."""

from __future__ import annotations

from typing import Any

ACTIONS = ("view", "create", "edit", "delete", "export")
Rights = dict[str, dict[str, tuple[tuple[str, ...], str]]]


def rights_version_bump(schema_editor: Any) -> None:
    # The number drawn in a statement of its own, as access_version_bump does: Citus
    # refuses a volatile function inside an UPDATE of a distributed table.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT nextval('access_version_seq')")
        version = cursor.fetchone()[0]
        cursor.execute("UPDATE access_accessstate SET version = %s WHERE id = 1", [version])


def seeded_rights_add(apps: Any, schema_editor: Any, rights: Rights) -> None:
    Role = apps.get_model("access", "Role")
    ObjectPermission = apps.get_model("access", "ObjectPermission")
    for key, rows in rights.items():
        role = Role.objects.filter(key=key, is_system=True).first()
        if role is None:
            continue
        for target, (actions, field_default) in rows.items():
            ObjectPermission.objects.get_or_create(
                role=role,
                target=target,
                defaults={
                    **{f"can_{a}": a in actions for a in ACTIONS},
                    "field_default": field_default,
                },
            )
    rights_version_bump(schema_editor)


def seeded_rights_remove(apps: Any, schema_editor: Any, rights: Rights) -> None:
    Role = apps.get_model("access", "Role")
    ObjectPermission = apps.get_model("access", "ObjectPermission")
    targets = sorted({t for rows in rights.values() for t in rows})
    ObjectPermission.objects.filter(
        role__in=Role.objects.filter(key__in=list(rights), is_system=True), target__in=targets
    ).delete()
    rights_version_bump(schema_editor)
