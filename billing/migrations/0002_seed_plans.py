from django.db import migrations

PLANS = [
    {
        "code": "starter",
        "name": "Starter",
        "position": 1,
        "modules": ["guests", "reservations", "service"],
        "limits": {"properties": 3, "staff_users": 25, "custom_fields_per_object": 50,
                   "api_requests_per_minute": 120},
        "prices": [{"interval": "month", "currency": "EUR", "amount": "190.00",
                    "stripe_price_id": ""}],
    },
    {
        "code": "professional",
        "name": "Professional",
        "position": 2,
        "modules": ["guests", "reservations", "service", "marketing", "sales", "analytics"],
        "limits": {"properties": 25, "staff_users": 250, "custom_fields_per_object": 200,
                   "api_requests_per_minute": 600},
        "prices": [{"interval": "month", "currency": "EUR", "amount": "690.00",
                    "stripe_price_id": ""}],
    },
    {
        "code": "enterprise",
        "name": "Enterprise",
        "position": 3,
        "modules": ["guests", "reservations", "service", "marketing", "loyalty", "sales",
                    "analytics"],
        "limits": {"custom_fields_per_object": 500, "api_requests_per_minute": 3000},
        "prices": [{"interval": "month", "currency": "EUR", "amount": "1990.00",
                    "stripe_price_id": ""}],
    },
]


def seed(apps, schema_editor):
    # Plans live in public; tenant schemas have no billing tables.
    if schema_editor.connection.schema_name != "public":
        return
    Plan = apps.get_model("billing", "Plan")
    for plan in PLANS:
        Plan.objects.update_or_create(code=plan["code"], defaults=plan)


def unseed(apps, schema_editor):
    if schema_editor.connection.schema_name != "public":
        return
    apps.get_model("billing", "Plan").objects.filter(code__in=[p["code"] for p in PLANS]).delete()


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
