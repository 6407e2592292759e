"""The version row of each tenant's rights (see tenants/access/versioning.py), with the
sequence its numbers come from. Every schema gets its row at version 1."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("access", "0005_two_factor_failure_audit")]

    operations = [
        migrations.CreateModel(
            name="AccessState",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("version", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunSQL(
            "CREATE SEQUENCE access_version_seq; "
            "INSERT INTO access_accessstate (id, version) VALUES (1, nextval('access_version_seq'));",
            reverse_sql="DROP SEQUENCE access_version_seq;",
        ),
    ]
