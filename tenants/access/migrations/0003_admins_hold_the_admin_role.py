"""One administrator rule: a user is an administrator when a role grants everything.
Accounts made administrators by the old flags (the first admin of each hotel group was
created as a superuser; ``user_create(is_admin=True)`` set ``is_staff``) get the
``tenant_admin`` role, so no administrator loses access when the flags stop counting."""

from django.db import migrations


def forwards(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    RoleAssignment = apps.get_model("access", "RoleAssignment")
    User = apps.get_model("users", "User")
    admin = Role.objects.filter(key="tenant_admin").first()
    if admin is None:
        return
    flagged = User.objects.filter(is_active=True).exclude(is_staff=False, is_superuser=False)
    for user in flagged:
        RoleAssignment.objects.get_or_create(user=user, role=admin)


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0002_seed_roles"),
        ("users", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
