from __future__ import annotations

from django.db.models import QuerySet

from tenants.models import Tenant


def tenant_list(*, include_internal: bool = False) -> QuerySet[Tenant]:
    qs = Tenant.objects.prefetch_related("domains").order_by("slug")
    if not include_internal:
        qs = qs.filter(kind=Tenant.Kind.HOTEL_GROUP)
    return qs


def tenant_get_by_slug(*, slug: str) -> Tenant | None:
    return Tenant.objects.filter(slug=slug, kind=Tenant.Kind.HOTEL_GROUP).first()


def tenants_for_background_work() -> QuerySet[Tenant]:
    """Hotel groups whose scheduled work should run (not suspended or cancelled)."""
    return Tenant.objects.filter(
        kind=Tenant.Kind.HOTEL_GROUP,
        status__in=[Tenant.Status.TRIAL, Tenant.Status.ACTIVE, Tenant.Status.PAST_DUE],
    ).order_by("pk")
