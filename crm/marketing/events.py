"""What the marketing module tells webhook subscribers. Payloads name ids, never guest
addresses: subscribers who may view campaigns learn what happened, not to whom beyond
the guest id."""

from __future__ import annotations

from typing import Any


def webhook_event_types_register() -> None:
    from tenants.integrations.webhooks import webhook_event_types_register as register

    register(
        {
            "campaign.sent": "A campaign finished sending (with its counts)",
            "message.bounced": "A campaign message bounced (the guest is suppressed)",
            "message.complained": "A recipient marked a campaign message as spam",
            "message.unsubscribed": "A recipient unsubscribed from marketing messages",
            "promo_code.redeemed": "A promo code was redeemed",
        }
    )


def publish(event_type: str, object_api_name: str, data: dict[str, Any]) -> None:
    from tenants.integrations.webhooks import webhook_event_publish

    webhook_event_publish(event_type=event_type, object_api_name=object_api_name, data=data)


# anymail's normalised event types -> what a campaign recipient becomes.
PROVIDER_EVENTS = {
    "delivered": "delivered",
    "bounced": "bounced",
    "rejected": "bounced",
    "complained": "complained",
}


def on_provider_event(sender, event, esp_name: str = "", **kwargs) -> None:
    """anymail's ``tracking`` signal: a provider's verified delivery report, received on
    a hotel group's domain (so in its schema). Bounces and complaints suppress the
    address; a provider-side unsubscribe unsubscribes the recipient."""
    from tenants.context import current_schema

    if current_schema() == "public":
        return
    from crm.marketing.services.delivery import provider_event_apply, provider_unsubscribe

    message_id = str(getattr(event, "message_id", "") or "")
    address = str(getattr(event, "recipient", "") or "")
    if event.event_type == "unsubscribed":
        provider_unsubscribe(message_id=message_id, address=address)
        return
    kind = PROVIDER_EVENTS.get(event.event_type)
    if kind is not None:
        provider_event_apply(event=kind, message_id=message_id, address=address)
