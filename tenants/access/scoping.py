"""Property scoping: a user limited to some properties sees only their records.

Upper layers filter with these helpers in their selectors, e.g. crm::

    reservations = scoping.filter_by_properties(Reservation.objects.all(), user)
    guests = scoping.filter_by_properties(
        Guest.objects.all(), user, lookup="reservations__property_id"
    ).distinct()
"""

from __future__ import annotations

from django.db.models import QuerySet

from tenants.access.errors import AccessDenied
from tenants.access.models import PropertyScope

_CACHE_ATTR = "_access_property_ids"


def property_ids_for(user) -> set[int] | None:
    """The property ids the user is limited to, or None for every property. A user with
    an empty scope sees no property. Tenant administrators are never limited."""
    from tenants.access.policy import is_tenant_admin

    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    if is_tenant_admin(user):
        return None
    if hasattr(user, _CACHE_ATTR):
        cached = getattr(user, _CACHE_ATTR)
        return None if cached is None else set(cached)
    from tenants.access.versioning import cached

    def load() -> frozenset[int] | None:
        scope = PropertyScope.objects.filter(user_id=user.pk).first()
        return None if scope is None else frozenset(int(i) for i in scope.property_ids)

    ids = cached("property_scope", user.pk, load)
    setattr(user, _CACHE_ATTR, ids)
    return None if ids is None else set(ids)


def invalidate(user) -> None:
    if user is not None and hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def property_allowed(user, property_id: int | None) -> bool:
    ids = property_ids_for(user)
    return ids is None or (property_id is not None and int(property_id) in ids)


def property_require(user, property_id: int | None) -> None:
    if not property_allowed(user, property_id):
        raise AccessDenied(
            f"You are not allowed to work with property {property_id}.", field="property"
        )


def filter_by_properties(queryset: QuerySet, user, *, lookup: str = "property_id") -> QuerySet:
    """``queryset`` narrowed to the user's properties (unchanged when unlimited).
    ``lookup`` is the path to a property id (``property_id``, ``id`` for properties
    themselves, ``reservations__property_id`` for guests...); add ``.distinct()``
    when it crosses a to-many relation."""
    ids = property_ids_for(user)
    if ids is None:
        return queryset
    return queryset.filter(**{f"{lookup}__in": sorted(ids)})
