from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing (Stripe subscriptions)"

    def ready(self) -> None:
        from billing.entitlements import PlanEntitlements
        from tenants.entitlements import entitlement_provider_set

        entitlement_provider_set(PlanEntitlements())

        from billing.backup import SubscriptionRows
        from tenants.services.backup import backup_public_rows_register

        backup_public_rows_register(SubscriptionRows())
