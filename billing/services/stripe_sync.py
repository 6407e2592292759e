"""Stripe: checkout, customer portal, webhooks, and the tenant lifecycle they drive.

Webhook processing is idempotent (each event id is stored once) and safe when events
arrive twice or out of order: subscription state is always read from the subscription
object fetched from Stripe at processing time, never from the event's snapshot, so an
old event can only re-apply the current state."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import Plan, StripeEvent, Subscription
from tenants.errors import ApplicationError
from tenants.models import Tenant

log = logging.getLogger(__name__)

# Stripe subscription status → tenant status.
STATUS_MAP = {
    "trialing": Tenant.Status.TRIAL,
    "active": Tenant.Status.ACTIVE,
    "past_due": Tenant.Status.PAST_DUE,
    "unpaid": Tenant.Status.SUSPENDED,
    "paused": Tenant.Status.SUSPENDED,
    "canceled": Tenant.Status.CANCELLED,
    "incomplete_expired": Tenant.Status.CANCELLED,
}


class BillingOff(ApplicationError):
    status_code = 404
    default_code = "billing_off"


class WebhookRefused(ApplicationError):
    default_code = "webhook_signature"


def billing_enabled() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def _client() -> None:
    if not billing_enabled():
        raise BillingOff("Billing is not configured on this installation.")
    stripe.api_key = settings.STRIPE_SECRET_KEY
    stripe.api_base = settings.STRIPE_API_BASE or "https://api.stripe.com"
    stripe.api_version = str(settings.STRIPE_API_VERSION)
    stripe.max_network_retries = 2


def _ts(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


@transaction.atomic
def subscription_start_trial(*, tenant: Tenant, plan: Plan | None = None) -> Subscription:
    subscription, _ = Subscription.objects.get_or_create(
        tenant=tenant,
        defaults={
            "plan": plan,
            "status": "trialing",
            "trial_end": timezone.now() + timedelta(days=settings.ATRIUM_TRIAL_DAYS),
        },
    )
    return subscription


def checkout_session_create(
    *,
    tenant: Tenant,
    plan_code: str,
    interval: str,
    success_url: str,
    cancel_url: str,
    email: str = "",
) -> str:
    """A Stripe Checkout Session for the plan's price in the tenant's base currency;
    returns the URL to send the admin to."""
    _client()
    plan = Plan.objects.filter(code=plan_code).first()
    if plan is None:
        raise ApplicationError(f"There is no plan {plan_code!r}.", field="plan")
    price = plan.price_for(interval=interval, currency=tenant.base_currency) or plan.price_for(
        interval=interval, currency="EUR"
    )
    if price is None or not price.get("stripe_price_id"):
        raise ApplicationError(
            f"{plan.name} has no {interval}ly price configured in Stripe.", field="interval"
        )
    subscription = subscription_start_trial(tenant=tenant)
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [{"price": price["stripe_price_id"], "quantity": 1}],
        "client_reference_id": str(tenant.pk),
        "success_url": success_url,
        "cancel_url": cancel_url,
        "metadata": {"tenant_id": str(tenant.pk), "plan": plan.code},
        "subscription_data": {"metadata": {"tenant_id": str(tenant.pk), "plan": plan.code}},
    }
    if subscription.stripe_customer_id:
        params["customer"] = subscription.stripe_customer_id
    elif email:
        params["customer_email"] = email
    session = stripe.checkout.Session.create(**params)
    return session["url"]


def portal_session_create(*, tenant: Tenant, return_url: str) -> str:
    _client()
    subscription = Subscription.objects.filter(tenant=tenant).first()
    if subscription is None or not subscription.stripe_customer_id:
        raise ApplicationError(
            "Subscribe first: there is no Stripe customer yet.", code="no_customer"
        )
    session = stripe.billing_portal.Session.create(
        customer=subscription.stripe_customer_id, return_url=return_url
    )
    return session["url"]


def webhook_handle(*, payload: bytes, signature: str) -> str:
    """Verify and apply one webhook event; returns what was done (for the log)."""
    _client()
    try:
        event = stripe.Webhook.construct_event(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=300
        )
    except (ValueError, stripe.SignatureVerificationError) as exc:
        raise WebhookRefused(f"Webhook refused: {exc}") from None
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = StripeEvent.objects.create(
                    id=event["id"], type=event["type"], created=int(event["created"])
                )
        except IntegrityError:
            return f"duplicate {event['id']}"
        outcome = _dispatch(event)
        record.outcome = outcome[:200]
        record.save(update_fields=["outcome"])
        return outcome


def _dispatch(event) -> str:
    kind = event["type"]
    obj = event["data"]["object"].to_dict()
    subscription: Subscription | None
    if kind == "checkout.session.completed":
        tenant = Tenant.objects.filter(pk=obj.get("client_reference_id") or 0).first()
        if tenant is None:
            return "ignored: no tenant"
        subscription = subscription_start_trial(tenant=tenant)
        subscription.stripe_customer_id = obj.get("customer") or subscription.stripe_customer_id
        subscription.stripe_subscription_id = obj.get("subscription") or ""
        subscription.save()
        return subscription_refresh(subscription=subscription)
    if kind.startswith("customer.subscription."):
        subscription = _by_stripe_subscription(obj.get("id"), obj.get("metadata") or {})
    elif kind in ("invoice.paid", "invoice.payment_failed"):
        subscription = _by_stripe_subscription(_invoice_subscription(obj), {})
    else:
        return f"ignored {kind}"
    if subscription is None:
        return "ignored: unknown subscription"
    return subscription_refresh(subscription=subscription)


def _by_stripe_subscription(stripe_id: str | None, metadata: dict) -> Subscription | None:
    if not stripe_id:
        return None
    found = Subscription.objects.filter(stripe_subscription_id=stripe_id).first()
    if found is None and metadata.get("tenant_id"):
        # The subscription event may overtake checkout.session.completed.
        tenant = Tenant.objects.filter(pk=metadata["tenant_id"]).first()
        if tenant is not None:
            found = subscription_start_trial(tenant=tenant)
            found.stripe_subscription_id = stripe_id
            found.save(update_fields=["stripe_subscription_id", "updated"])
    return found


def subscription_refresh(*, subscription: Subscription) -> str:
    """Fetch the subscription from Stripe and apply its current state."""
    remote = stripe.Subscription.retrieve(subscription.stripe_subscription_id).to_dict()
    return subscription_apply(subscription=subscription, remote=remote)


def _invoice_subscription(invoice: dict) -> str | None:
    """Since 2025-03-31.basil an invoice names its subscription under ``parent``."""
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    found = details.get("subscription")
    return found.get("id") if isinstance(found, dict) else found


def _period_end(remote: dict) -> datetime | None:
    """Since 2025-03-31.basil billing periods live on the subscription's items; the
    subscription is paid up to the latest of them."""
    items = (remote.get("items") or {}).get("data") or []
    ends = [item.get("current_period_end") for item in items if item.get("current_period_end")]
    return _ts(max(ends)) if ends else None


@transaction.atomic
def subscription_apply(*, subscription: Subscription, remote: dict) -> str:
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    status = remote["status"]
    subscription.status = status
    subscription.stripe_customer_id = remote.get("customer") or subscription.stripe_customer_id
    subscription.current_period_end = _period_end(remote)
    subscription.trial_end = _ts(remote.get("trial_end")) or subscription.trial_end
    items = (remote.get("items") or {}).get("data") or []
    if items:
        price_id = items[0]["price"]["id"]
        plan = next(
            (
                p
                for p in Plan.objects.all()
                if any(x.get("stripe_price_id") == price_id for x in p.prices)
            ),
            None,
        )
        subscription.plan = plan or subscription.plan
    now = timezone.now()
    if status == "past_due":
        subscription.past_due_since = subscription.past_due_since or now
    else:
        subscription.past_due_since = None
    if status in ("canceled", "incomplete_expired"):
        subscription.cancelled_at = subscription.cancelled_at or now
    subscription.save()
    tenant = subscription.tenant
    new_status = STATUS_MAP.get(status)
    # Past due beyond the grace period stays suspended until Stripe says paid.
    stays_suspended = (
        new_status == Tenant.Status.PAST_DUE and tenant.status == Tenant.Status.SUSPENDED
    )
    if new_status is not None and tenant.status != new_status and not stays_suspended:
        tenant.status = new_status
        tenant.save(update_fields=["status"])
    return f"{subscription.stripe_subscription_id}: {status} → tenant {tenant.status}"


def billing_lifecycle_run(*, now: datetime | None = None) -> dict:
    """Scheduled: suspend tenants past due beyond the grace period and trials that ended
    unpaid; delete the schemas of tenants cancelled longer than the retention period."""
    from tenants.services.backup import tenant_export, tenant_export_path
    from tenants.services.provisioning import tenant_delete

    now = now or timezone.now()
    grace = now - timedelta(days=settings.ATRIUM_GRACE_DAYS)
    suspended = 0
    for subscription in Subscription.objects.select_related("tenant").filter(
        status="past_due", past_due_since__lt=grace
    ):
        if subscription.tenant.status != Tenant.Status.SUSPENDED:
            subscription.tenant.status = Tenant.Status.SUSPENDED
            subscription.tenant.save(update_fields=["status"])
            suspended += 1
    for subscription in Subscription.objects.select_related("tenant").filter(
        status="trialing", trial_end__lt=now, stripe_subscription_id=""
    ):
        if subscription.tenant.status == Tenant.Status.TRIAL and billing_enabled():
            subscription.tenant.status = Tenant.Status.SUSPENDED
            subscription.tenant.save(update_fields=["status"])
            suspended += 1
    retention = now - timedelta(days=settings.ATRIUM_RETENTION_DAYS)
    deleted = 0
    exports: list[str] = []
    for subscription in Subscription.objects.select_related("tenant").filter(
        cancelled_at__lt=retention, tenant__status=Tenant.Status.CANCELLED
    ):
        tenant = subscription.tenant
        # The data the hotel group may still ask for, kept in ATRIUM_TENANT_EXPORTS_DIR:
        # no export, no deletion (the next run tries again).
        try:
            export = tenant_export(tenant=tenant, path=tenant_export_path(tenant=tenant))
        except Exception:
            log.exception("tenant %s not deleted: its export failed", tenant.slug)
            continue
        tenant_delete(tenant=tenant)
        exports.append(str(export.path))
        deleted += 1
    return {"suspended": suspended, "deleted": deleted, "exports": exports}
