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
