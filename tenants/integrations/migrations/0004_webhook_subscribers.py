"""Webhook endpoints record who subscribed (deliveries are masked for them) and which
subscription each delivery was built for. Every column is nullable or has a default, so
they are added without rewriting tables. Endpoints made before subscribers were recorded
were made by administrators (the API only let administrators subscribe): each is
assigned its hotel group's first administrator, so it keeps delivering what it did."""

import django.contrib.postgres.fields
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def subscribe_existing_endpoints(apps, schema_editor):
    Endpoint = apps.get_model("integrations", "WebhookEndpoint")
    User = apps.get_model("users", "User")
    legacy = Endpoint.objects.filter(subscribed_by__isnull=True)
    if not legacy.exists():
        return
    admin = (
        User.objects.filter(is_active=True, role_assignments__role__grants_everything=True)
        .order_by("pk")
        .first()
    )
    if admin is not None:
        legacy.update(subscribed_by=admin, subscribed_scopes=None)
        return
    # Nobody to build the payloads for: stop rather than send unmasked data, and say why.
    legacy.filter(enabled=True).update(
        enabled=False,
        disabled_at=timezone.now(),
        disabled_reason="No administrator to deliver for: an administrator must save it again.",
    )


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0003_webhooks'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('access', '0003_admins_hold_the_admin_role'),
    ]

    operations = [
        migrations.AddField(
            model_name='webhookdelivery',
            name='subscription_version',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='webhookendpoint',
            name='subscribed_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='webhookendpoint',
            name='subscribed_scopes',
            field=django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=60), blank=True, null=True, size=None),
        ),
        migrations.AddField(
            model_name='webhookendpoint',
            name='subscription_version',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(subscribe_existing_endpoints, migrations.RunPython.noop),
    ]
