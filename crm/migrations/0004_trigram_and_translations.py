from django.db import migrations
from django.db.models import F


def copy_names_to_default_language(apps, schema_editor):
    # Rows that existed before the translated columns keep their name as the English one.
    Property = apps.get_model("crm", "Property")
    Property.objects.filter(name_en__isnull=True).update(name_en=F("name"))


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0003_core_records"),
    ]

    operations = [
        migrations.RunPython(copy_names_to_default_language, migrations.RunPython.noop),
    ]
