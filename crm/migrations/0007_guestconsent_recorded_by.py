"""Who recorded a consent event. A nullable column: adding it rewrites no row and
existing events (written before it was kept) stay without an author."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0006_import_uploads"),
    ]

    operations = [
        migrations.AddField(
            model_name="guestconsent",
            name="recorded_by_id",
            field=models.BigIntegerField(blank=True, null=True),
        ),
    ]
