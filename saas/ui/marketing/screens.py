"""The marketer's screens: segments with a live count of the conditions being edited,
templates with a preview per language, campaigns with their report. Each view reads
through the module's selectors with the signed-in principal (rights, hotel scope, field
rights, module switch)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tenants.access.principal import Principal

OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "contains", "isnull")
CONDITION_ROWS = 3


def _definition(data) -> dict[str, Any]:
    """The condition editor's form as a segment definition."""
    conditions = []
    for n in range(CONDITION_ROWS):
        field = (data.get(f"field_{n}") or "").strip()
        if not field:
            continue
        conditions.append(
            {"field": field, "op": data.get(f"op_{n}") or "eq", "value": data.get(f"value_{n}", "")}
        )
    definition: dict[str, Any] = {"conditions": conditions} if conditions else {}
    if data.get("consent_email"):
        definition["consent"] = {"channel": "email", "purpose": "marketing", "state": "opted_in"}
    return definition


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()]
    return list(exc.messages)


@login_required
@require_http_methods(["GET", "POST"])
def segment_list(request):
    from crm.marketing.selectors.marketing import segments_list
    from crm.marketing.selectors.segments import segment_guests
    from crm.marketing.services.segments import segment_create

    actor = Principal.from_request(request)
    segments = list(segments_list(actor=actor))
    errors: list[str] = []
    if request.method == "POST":
        try:
            segment_create(
                actor=actor,
                name=(request.POST.get("name") or "").strip(),
                definition=_definition(request.POST),
            )
        except ValidationError as exc:
            errors = _messages(exc)
        else:
            return redirect("marketing_segments")
    # Counting reads guests: only for those who may.
    counts = actor.can("guest", "view")
    rows = [
        (s, segment_guests(actor=actor, segment=s).count() if counts else None) for s in segments
    ]
    return render(
        request,
        "marketing/segments.html",
        {
            "rows": rows,
            "errors": errors,
            "values": request.POST,
            "operators": OPERATORS,
            "condition_rows": range(CONDITION_ROWS),
            "can_create": actor.can("segment", "create"),
        },
        status=400 if errors else 200,
    )


@login_required
@require_POST
def segment_count(request):
    """The live count (htmx): how many guests the conditions being edited match."""
    from crm.marketing.selectors.segments import definition_guests

    actor = Principal.from_request(request)
    try:
        count = definition_guests(actor=actor, definition=_definition(request.POST)).count()
    except ValidationError as exc:
        return render(request, "marketing/count.html", {"errors": _messages(exc)})
    return render(request, "marketing/count.html", {"count": count})


@login_required
def template_list(request):
    from crm.marketing.selectors.marketing import templates_list

    actor = Principal.from_request(request)
    return render(
        request, "marketing/templates.html", {"templates": list(templates_list(actor=actor))}
    )


@login_required
def template_preview(request, template_id: int):
    """One template in each of its languages, merged with a sample guest (``?guest=``)."""
    from crm.marketing.selectors.marketing import template_get
    from crm.marketing.services.templates import template_contents
    from crm.marketing.services.templates import template_preview as preview
    from metadata.selectors.records import record_for

    actor = Principal.from_request(request)
    template = template_get(actor=actor, template_id=template_id)
    raw_guest = request.GET.get("guest") or ""
    errors: list[str] = []
    guest = None
    if raw_guest:
        if raw_guest.isdigit() and len(raw_guest) < 19:
            guest = record_for(actor=actor, object_api_name="guest", record_id=int(raw_guest))
        else:
            errors.append(_("Give a guest's number."))
    previews = [
        (language, preview(template=template, language=language, guest=guest, actor=actor))
        for language in template_contents(template)
    ]
    return render(
        request,
        "marketing/template.html",
        {"template": template, "previews": previews, "guest": raw_guest, "errors": errors},
        status=400 if errors else 200,
    )


def _send_at(raw: str):
    """A ``datetime-local`` value read in the hotel group's time zone (None: now)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tenants.context import current_tenant

    if not raw:
        return None
    try:
        naive = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationError({"send_at": _("Give a date and time.")}) from None
    zone = ZoneInfo(getattr(current_tenant(), "timezone", None) or "UTC")
    return naive.replace(tzinfo=zone)


def _percent(raw: str, key: str, top: int) -> int:
    if not raw:
        return 0
    if not raw.isdigit() or int(raw) > top:
        raise ValidationError({key: _("Give a whole number from 0 to %(top)s.") % {"top": top}})
    return int(raw)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_list(request):
    """The campaigns, and a form that creates one and schedules it (a time in the hotel
    group's time zone, or now)."""
    from crm.marketing.selectors.marketing import (
        campaigns_list,
        segment_get,
        segments_list,
        template_get,
        templates_list,
    )
    from crm.marketing.services.campaigns import campaign_create, campaign_schedule

    actor = Principal.from_request(request)
    campaigns = campaigns_list(actor=actor).select_related("segment", "template")[:200]
    errors: list[str] = []
    if request.method == "POST":
        actor.require("campaign", "create")
        data = request.POST
        try:
            segment_id, template_id = data.get("segment") or "", data.get("template") or ""
            if not segment_id.isdigit() or not template_id.isdigit():
                raise ValidationError({"segment": _("Pick a segment and a template.")})
            at = _send_at(data.get("send_at") or "")
            campaign = campaign_create(
                actor=actor,
                name=(data.get("name") or "").strip(),
                segment=segment_get(actor=actor, segment_id=int(segment_id[:18])),
                template=template_get(actor=actor, template_id=int(template_id[:18])),
                holdout_percent=_percent(data.get("holdout_percent") or "", "holdout", 50),
                frequency_cap_days=_percent(data.get("frequency_cap_days") or "", "cap", 365),
            )
            campaign_schedule(campaign=campaign, at=at, actor=actor)
        except ValidationError as exc:
            errors = _messages(exc)
        else:
            return redirect("marketing_campaign", campaign_id=campaign.pk)
    can_create = actor.can("campaign", "create")
    return render(
        request,
        "marketing/campaigns.html",
        {
            "campaigns": campaigns,
            "errors": errors,
            "can_create": can_create,
            "segments": list(segments_list(actor=actor)) if can_create else [],
            "templates": (
                list(templates_list(actor=actor))
                if can_create and actor.can("marketing_template", "view")
                else []
            ),
            "values": request.POST,
        },
        status=400 if errors else 200,
    )


@login_required
def campaign_report_view(request, campaign_id: int):
    from crm.marketing.selectors.marketing import campaign_get
    from crm.marketing.selectors.reports import campaign_report

    actor = Principal.from_request(request)
    campaign = campaign_get(actor=actor, campaign_id=campaign_id)
    report = campaign_report(actor=actor, campaign=campaign)
    labels = {
        "a": _("Variant A"),
        "b": _("Variant B"),
        "control": _("Control group"),
        "waiting": _("Waiting for the A/B winner"),
        "codes": _("Promo codes without a recipient"),
    }
    groups = [(labels.get(name, name), g) for name, g in sorted(report["groups"].items())]
    return render(
        request,
        "marketing/campaign.html",
        {"campaign": campaign, "report": report, "groups": groups},
    )
