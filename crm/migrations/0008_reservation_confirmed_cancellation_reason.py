"""When a booking was confirmed, and why it was cancelled. A nullable column and a text
column whose constant default PostgreSQL stores in the catalogue: neither rewrites the
table, so tenants with many reservations migrate at once; both are dropped on the way
back."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0007_guestconsent_recorded_by"),
    ]

    operations = [
        migrations.AddField(
            model_name="reservation",
            name="cancellation_reason",
            field=models.CharField(blank=True, default="", max_length=200),
        ),
        migrations.AddField(
            model_name="reservation",
            name="confirmed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
