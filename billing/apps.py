from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing (Stripe subscriptions)"

    def ready(self) -> None:
        from billing.entitlements import PlanEntitlements
        from tenants.entitlements import entitlement_provider_set

        entitlement_provider_set(PlanEntitlements())
