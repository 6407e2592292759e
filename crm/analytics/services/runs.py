"""Asking for a recomputation now (besides the nightly run)."""

from __future__ import annotations

from django.db import transaction

from tenants.access.principal import Principal
from tenants.context import current_schema


def analytics_refresh_request(*, actor: Principal, train: bool = True) -> str:
    """Queue the tenant's retraining and rescoring once this transaction commits;
    returns the schema the message carries."""
    actor.require_admin("recompute guest scores")
    actor.require("guest_score", "view")  # the module must be on
    schema = current_schema()

    def send() -> None:
        from crm.analytics.tasks import analytics_refresh

        analytics_refresh.delay(schema, train)

    transaction.on_commit(send)
    return schema
