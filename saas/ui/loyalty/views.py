"""Screens of the loyalty programme: its settings, tiers and rewards (administrators keep
the programme and tiers; rewards need the reward rights), the members list and a
member's card (balance, tier and its counters, the ledger, redemptions to reserve,
confirm or cancel), and enrolment from the guest profile. Each action is one POST to one
service; a refusal of input comes back as a message (POST, redirect, GET)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from saas.ui.errors import errors_by_field
from tenants.access.principal import Principal
from tenants.errors import ApplicationError

LANGS = (("zh-hans", "简体中文"), ("zh-hant", "繁體中文"))


def _module() -> None:
    from metadata.services.modules import module_require

    module_require("loyalty")


def _act(request, to: str, call: Callable[[], object], done: str):
    if any("\x00" in value for _key, values in request.POST.lists() for value in values):
        messages.error(request, _("Text cannot contain NUL characters."))
        return redirect(to)
    try:
        call()
    except (ValidationError, ApplicationError) as exc:
        if isinstance(exc, ApplicationError) and exc.status_code in (403, 404):
            raise
        for texts in errors_by_field(exc).values():
            for text in texts:
                messages.error(request, text)
    else:
        messages.success(request, done)
    return redirect(to)


def _whole(raw: str, name: str) -> int:
    raw = (raw or "").strip()
    if not raw.isdecimal() or len(raw) > 9:
        raise ValidationError({name: _("Give a whole number.")})
    return int(raw)


def _day(raw: str, name: str) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError({name: _("Give dates as YYYY-MM-DD.")}) from None


def _translations(post, names: tuple[str, ...]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for code, _label in LANGS:
        values = {n: post.get(f"{n}_{code}", "").strip() for n in names}
        values = {n: v for n, v in values.items() if v}
        if values:
            out[code] = values
    return out


@login_required
def programme_view(request):
    from crm.loyalty.models import Reward
    from crm.loyalty.selectors import rewards_list, tiers_list
    from crm.loyalty.services.ledger import programme_current

    actor = Principal.from_request(request)
    _module()
    actor.require("loyalty_account", "view")
    return render(
        request,
        "loyalty/programme.html",
        {
            "programme": programme_current(),
            "tiers": list(tiers_list(actor=actor)),
            "rewards": list(rewards_list(actor=actor))
            if actor.can("loyalty_reward", "view")
            else [],
            "can_admin": actor.is_admin,
            "can_reward": actor.can("loyalty_reward", "create"),
            "kinds": Reward.Kind.choices,
            "langs": LANGS,
        },
    )


@login_required
@require_POST
def programme_action(request):
    """``action``: programme, tier, reward."""
    from crm.loyalty.services.programme import programme_update, tier_create
    from crm.loyalty.services.redemptions import reward_create

    actor = Principal.from_request(request)
    _module()
    actor.require("loyalty_account", "view")
    post = request.POST
    action = post.get("action", "")

    def programme():
        programme_update(
            name=post.get("name", "").strip(),
            points_per_unit=post.get("points_per_unit", "").strip(),
            expiry_months=_whole(post.get("expiry_months", ""), "expiry_months"),
            qualification_months=_whole(
                post.get("qualification_months", ""), "qualification_months"
            ),
            translations=_translations(post, ("name",)),
            actor=actor,
        )

    def tier():
        tier_create(
            key=post.get("key", "").strip(),
            name=post.get("name", "").strip(),
            rank=_whole(post.get("rank", ""), "rank"),
            min_nights=_whole(post.get("min_nights", "0") or "0", "min_nights"),
            min_stays=_whole(post.get("min_stays", "0") or "0", "min_stays"),
            min_revenue=post.get("min_revenue", "").strip() or Decimal("0"),
            earn_multiplier=post.get("earn_multiplier", "").strip() or Decimal("1"),
            benefits=post.get("benefits", "").strip(),
            translations=_translations(post, ("name", "benefits")),
            actor=actor,
        )

    def reward():
        reward_create(
            key=post.get("key", "").strip(),
            name=post.get("name", "").strip(),
            kind=post.get("kind", ""),
            description=post.get("description", "").strip(),
            points=_whole(post.get("points", ""), "points"),
            available_from=_day(post.get("available_from", ""), "available_from"),
            available_until=_day(post.get("available_until", ""), "available_until"),
            actor=actor,
        )

    calls = {
        "programme": (programme, _("The programme is saved.")),
        "tier": (tier, _("The tier is added.")),
        "reward": (reward, _("The reward is added.")),
    }
    if action not in calls:
        messages.error(request, _("That is not something the programme can do."))
        return redirect("loyalty_programme")
    call, done = calls[action]
    return _act(request, "loyalty_programme", call, done)


@login_required
def members_view(request):
    from django.core.paginator import Paginator

    from crm.loyalty.selectors import members_list, tiers_list

    actor = Principal.from_request(request)
    _module()
    tier = request.GET.get("tier") or None
    rows = members_list(actor=actor, tier=tier).select_related("guest", "tier")
    page = Paginator(rows.order_by("-balance", "pk"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "loyalty/members.html",
        {"page": page, "tiers": list(tiers_list(actor=actor)), "tier": tier or ""},
    )


@login_required
def member_view(request, member_id: int):
    from crm.loyalty.selectors import (
        ledger_list,
        member_get,
        redemptions_list,
        rewards_list,
    )

    actor = Principal.from_request(request)
    _module()
    if member_id > 2**62:
        raise Http404(_("There is no such member."))
    member = member_get(actor=actor, member_id=member_id)
    context: dict[str, Any] = {
        "member": member,
        "guest": member.guest,
        "ledger": list(ledger_list(actor=actor, member_id=member.pk)[:50])
        if actor.can("loyalty_ledger", "view")
        else [],
        "redemptions": list(redemptions_list(actor=actor, member_id=member.pk)[:50])
        if actor.can("loyalty_redemption", "view")
        else [],
        "rewards": list(rewards_list(actor=actor, active_only=True))
        if actor.can("loyalty_redemption", "create") and actor.can("loyalty_reward", "view")
        else [],
        "can_redeem": actor.can("loyalty_redemption", "create"),
        "can_settle": actor.can("loyalty_redemption", "edit"),
        "can_adjust": actor.can("loyalty_ledger", "create"),
    }
    return render(request, "loyalty/member.html", context)


@login_required
@require_POST
def member_action(request, member_id: int):
    """``action``: reserve, confirm, cancel, adjust."""
    from crm.loyalty.selectors import member_get, redemption_get, reward_get
    from crm.loyalty.services.ledger import points_adjust
    from crm.loyalty.services.redemptions import (
        redemption_cancel,
        redemption_confirm,
        redemption_reserve,
    )

    actor = Principal.from_request(request)
    _module()
    if member_id > 2**62:
        raise Http404(_("There is no such member."))
    member = member_get(actor=actor, member_id=member_id)
    post = request.POST
    to = f"/loyalty/members/{member.pk}/"

    def which(name: str) -> int:
        raw = post.get(name, "")
        if not raw.isdecimal() or len(raw) > 18:
            raise Http404(_("There is no such entry."))
        return int(raw)

    def redemption():
        found = redemption_get(actor=actor, redemption_id=which("redemption"))
        if found.member_id != member.pk:
            raise Http404(_("There is no such entry."))
        return found

    def adjust():
        raw = post.get("points", "").strip()
        sign = -1 if raw.startswith("-") else 1
        points_adjust(
            member=member,
            points=sign * _whole(raw.lstrip("+-"), "points"),
            reason=post.get("reason", ""),
            actor=actor,
        )

    calls = {
        "reserve": (
            lambda: redemption_reserve(
                member=member,
                reward=reward_get(actor=actor, reward_id=which("reward")),
                note=post.get("note", "")[:500],
                actor=actor,
            ),
            _("The points are held for the reward."),
        ),
        "confirm": (
            lambda: redemption_confirm(redemption=redemption(), actor=actor),
            _("The redemption is confirmed."),
        ),
        "cancel": (
            lambda: redemption_cancel(redemption=redemption(), actor=actor),
            _("The redemption is cancelled and the points are back."),
        ),
        "adjust": (adjust, _("The points are adjusted.")),
    }
    action = post.get("action", "")
    if action not in calls:
        messages.error(request, _("That is not something a member can do."))
        return redirect(to)
    call, done = calls[action]
    return _act(request, to, call, done)


@login_required
@require_POST
def guest_enrol(request, guest_id: int):
    """Enrol the guest from the profile (the right to create members)."""
    from crm.loyalty.services.members import member_enrol
    from metadata.selectors.records import record_for

    actor = Principal.from_request(request)
    _module()
    if guest_id > 2**62:
        raise Http404(_("There is no such guest."))
    guest = record_for(actor=actor, object_api_name="guest", record_id=guest_id, action="view")
    return _act(
        request,
        f"/guests/{guest.pk}/",
        lambda: member_enrol(guest=guest, actor=actor),
        _("The guest is a member now."),
    )
