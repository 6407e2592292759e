"""Reads of the module, each asking the principal (object right, module on, hotel scope,
field rights on what is filtered or ordered)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet

from crm.analytics.models import ChurnModel, GuestScore
from crm.models import Guest
from tenants.access.principal import Principal
from tenants.errors import NotFound

# What a list may be ordered by (each also a readable field the principal must see).
ORDERINGS = ("guest", "churn_risk", "historical_value", "recency", "frequency", "monetary")


def _reachable(actor: Principal, queryset: QuerySet[GuestScore]) -> QuerySet[GuestScore]:
    """Scores of the guests the principal's hotel scope reaches (every guest without
    one)."""
    if actor.property_ids() is None:
        return queryset
    guests = actor.scope("guest", Guest.objects.all()).values("pk")
    return queryset.filter(guest_id__in=guests)


def _require_readable(actor: Principal, field: str) -> None:
    if field not in actor.fields_visible("guest_score", [field]):
        raise ValidationError({field: f"You cannot filter or order on {field}."})


def scores_list(
    *,
    actor: Principal,
    segment: str | None = None,
    lifecycle: str | None = None,
    churn_source: str | None = None,
    churn_min: Decimal | None = None,
    churn_max: Decimal | None = None,
    ordering: str | None = None,
) -> QuerySet[GuestScore]:
    actor.require("guest_score", "view")
    queryset = _reachable(actor, GuestScore.objects.all())
    for field, value in (
        ("segment", segment),
        ("lifecycle", lifecycle),
        ("churn_source", churn_source),
    ):
        if value:
            _require_readable(actor, field)
            queryset = queryset.filter(**{field: value})
    if churn_min is not None or churn_max is not None:
        _require_readable(actor, "churn_risk")
        if churn_min is not None:
            queryset = queryset.filter(churn_risk__gte=churn_min)
        if churn_max is not None:
            queryset = queryset.filter(churn_risk__lte=churn_max)
    if ordering:
        field = ordering.removeprefix("-")
        if field not in ORDERINGS:
            raise ValidationError({"ordering": f"Order by one of {', '.join(ORDERINGS)}."})
        _require_readable(actor, field)
        desc = ordering.startswith("-")
        column = "guest_id" if field == "guest" else field
        expression = F(column).desc(nulls_last=True) if desc else F(column).asc(nulls_last=True)
        return queryset.order_by(expression, "guest_id")
    return queryset.order_by("guest_id")


def score_get(*, actor: Principal, guest_id: int) -> GuestScore:
    """A guest's scores; the same 404 whether there are none or the guest is out of
    reach."""
    found = scores_list(actor=actor).filter(guest_id=guest_id).first()
    if found is None:
        raise NotFound("There are no scores for this guest (yet).", field="guest")
    return found


def churn_models_list(*, actor: Principal) -> QuerySet[ChurnModel]:
    actor.require("churn_model", "view")
    return ChurnModel.objects.order_by("-version")
