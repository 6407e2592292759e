"""Deliveries record when a message for them was last queued, so the retry sweep claims
rows instead of queueing a backlog twice. Nullable: existing rows count as not queued
and the sweep picks the due ones up once."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0004_webhook_subscribers'),
    ]

    operations = [
        migrations.AddField(
            model_name='webhookdelivery',
            name='queued_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
