"""Guest screens: the list (search, filters on standard and custom fields, pages,
export), the 360° profile, and the create/edit form generated from metadata."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.models import Guest, Property
from crm.selectors.guests import (
    guest_consents_current,
    guest_duplicate_suggestions,
    guest_get,
    guest_lookalikes,
    guest_merges_undoable,
    guest_reservations,
    guests_list,
)
from crm.selectors.timeline import activity_for, record_history, timeline_for
from crm.services.activities import activity_create, task_complete
from crm.services.guests import guest_create, guest_update
from metadata.selectors.definitions import object_describe
from metadata.selectors.records import record_for, records_list
from metadata.selectors.saved_views import saved_view_get, saved_views_for
from metadata.services.saved_views import saved_view_create, saved_view_delete
from saas.ui.analytics import guest_analytics_panel
from saas.ui.errors import errors_by_field
from saas.ui.guest_profile import local_moment
from saas.ui.loyalty import guest_loyalty_panel
from saas.ui.records import (
    CUSTOM_PREFIX,
    GUEST_FIELDS,
    RecordForm,
    country_choices,
    language_choices,
)
from tenants.access.errors import AccessDenied
from tenants.access.principal import Principal
from tenants.context import current_tenant
from tenants.context import current_zone as tenant_zone
from tenants.errors import ApplicationError, NotFound
from tenants.users.selectors import users_list

PAGE_SIZE = 50
STANDARD_FILTERS = ("customer_type", "nationality")
SORTS = {
    "name": (gettext_lazy("Name"), ("surname", "given_name", "pk")),
    "-last_stay": (
        gettext_lazy("Last stay, newest first"),
        (F("last_stay").desc(nulls_last=True), "pk"),
    ),
    "-stays": (gettext_lazy("Most stays first"), ("-stays", "pk")),
    "-nights": (gettext_lazy("Most nights first"), ("-nights", "pk")),
}


def _scoped(actor: Principal):
    """Guests within the principal's hotels (an EXISTS; no join, no DISTINCT)."""
    return actor.scope("guest", guests_list())


def _filterable_custom(actor: Principal) -> list[dict]:
    """Filterable custom fields of guests that the user may see, labelled in the
    reader's language."""
    fields = [f for f in object_describe("guest", get_language())["fields"] if f["filterable"]]
    visible = actor.fields_visible("guest", fields=[f["api_name"] for f in fields])
    return [f for f in fields if f["api_name"] in visible]


@login_required
def guest_list(request):
    actor = Principal.from_request(request)
    actor.require("guest", "view")
    view_id = request.GET.get("view") or ""
    if view_id:
        saved = (
            saved_view_get(user=request.user, object_api_name="guest", view_id=int(view_id))
            if view_id.isdigit()
            else None
        )
        if saved is None:
            raise Http404(_("There is no such saved view."))
        return redirect(f"{request.path}?{urlencode(saved.params)}")
    save_errors: dict[str, list[str]] = {}
    if request.method == "POST":
        done, save_errors = _saved_view_post(request)
        if done is not None:
            return done
    query = (request.GET.get("q") or "").strip()
    sort = request.GET.get("sort") or "name"
    if sort not in SORTS:
        sort = "name"
    custom_fields = _filterable_custom(actor)
    filters, chosen = [], {}
    for name in STANDARD_FILTERS:
        value = (request.GET.get(name) or "").strip()
        if value:
            filters.append((name, "eq", value))
            chosen[name] = value
    for described in custom_fields:
        param = CUSTOM_PREFIX + described["api_name"]
        value = (request.GET.get(param) or "").strip()
        if value:
            filters.append((described["api_name"], "eq", value))
            chosen[param] = value
    error = None
    if sort != "name":
        chosen["sort"] = sort
    try:
        if "\x00" in query:
            # PostgreSQL refuses NUL in text: the search would fail in the database.
            raise ValidationError({"q": _("The search cannot contain NUL characters.")})
        guests = records_list(
            actor=actor, object_api_name="guest", filters=filters, search=query
        ).order_by(*SORTS[sort][1])
        page = Paginator(guests, PAGE_SIZE).get_page(request.GET.get("page"))
        list(page)  # a bad filter value fails here, inside the try
    except (ValidationError, AccessDenied) as exc:
        error = " ".join(m for messages_ in errors_by_field(exc).values() for m in messages_)
        page = Paginator(Guest.objects.none(), PAGE_SIZE).get_page(1)
    sensitive = [f["api_name"] for f in custom_fields if f["sensitive"]]
    if sensitive and page.object_list:
        # Showing a sensitive column is a sensitive read: audited as the API's lists are.
        actor.mask_many(
            "guest",
            [
                {
                    "id": g.pk,
                    "custom": {k: v for k, v in (g.custom or {}).items() if k in sensitive},
                }
                for g in page
            ],
        )
    rows = [
        (
            guest,
            [{"field": f, "value": (guest.custom or {}).get(f["api_name"])} for f in custom_fields],
        )
        for guest in page
    ]
    params = {"q": query, **chosen} if query else dict(chosen)
    export_query = urlencode(
        {"file_format": "csv", **{k: v for k, v in params.items() if k != "sort"}}
    )
    return render(
        request,
        "crm/guest_list.html",
        {
            "page": page,
            "rows": rows,
            "q": query,
            "chosen": chosen,
            "custom_fields": custom_fields,
            "filter_params": urlencode(params),
            "error": error,
            "sort": sort,
            "sorts": [(key, str(label)) for key, (label, _order) in SORTS.items()],
            "saved_views": saved_views_for(user=request.user, object_api_name="guest"),
            "save_errors": save_errors,
            "save_name": request.POST.get("name", "") if save_errors else "",
            "countries": country_choices(),
            "customer_types": [(str(v), str(label)) for v, label in _customer_types()],
            "can_create": actor.can("guest", "create"),
            "can_edit": actor.can("guest", "edit"),
            "export_url": f"/api/v1/guests/export/?{export_query}"
            if actor.can("guest", "export")
            else None,
        },
        status=400 if error or save_errors else 200,
    )


def _saved_view_post(request):
    """Save the list's current search (the query string the form was posted to) under a
    name, or delete one of the user's views. Returns (redirect, None) when done, else
    (None, errors by field) for the list to show next to the inputs."""
    back = request.GET.urlencode()
    if request.POST.get("action") == "delete":
        raw = request.POST.get("view") or ""
        try:
            saved_view_delete(user=request.user, view_id=int(raw) if raw.isdigit() else 0)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Saved view deleted."))
        return redirect(f"{request.path}?{back}"), {}
    try:
        view = saved_view_create(
            user=request.user,
            object_api_name="guest",
            name=request.POST.get("name", ""),
            params={key: request.GET.get(key) for key in request.GET},
            shared=request.POST.get("shared") == "1",
        )
    except ValidationError as exc:
        return None, errors_by_field(exc)
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(f"{request.path}?{urlencode(view.params)}"), {}


def _choices() -> dict:
    return {"countries": country_choices(), "languages": language_choices()}


def _customer_types():
    return next(s.choices for s in GUEST_FIELDS if s.name == "customer_type")


def _guest_for(actor: Principal, guest_id: int, action: str = "view") -> Guest:
    try:
        record_for(actor=actor, object_api_name="guest", record_id=guest_id, action=action)
    except NotFound:
        raise Http404(_("There is no such guest.")) from None
    return guest_get(guest_id=guest_id)


def _profile_rows(actor: Principal, guest: Guest) -> tuple[list[dict], list[dict]]:
    """The standard and custom values the user may see (sensitive reads are audited by
    the policy, as the API does)."""
    data = {spec.name: getattr(guest, spec.name, None) for spec in GUEST_FIELDS}
    data["id"] = guest.pk
    data["custom"] = dict(guest.custom or {})
    masked = actor.mask("guest", data)
    standard = []
    for spec in GUEST_FIELDS:
        if spec.name not in masked:
            continue
        value = masked[spec.name]
        if spec.choices:
            value = {str(k): str(v) for k, v in spec.choices}.get(str(value or ""), value)
        if spec.widget == "tags":
            value = ", ".join(value or [])
        standard.append(
            {
                "name": spec.name,
                "label": str(spec.label),
                "section": str(spec.section),
                "value": value,
                "widget": spec.widget,
            }
        )
    values = masked.get("custom", {})
    described_fields = object_describe("guest", get_language())["fields"]
    visible = actor.fields_visible("guest", fields=[f["api_name"] for f in described_fields])
    custom = [
        {"field": f, "value": values.get(f["api_name"]), "section": f["section"]}
        for f in described_fields
        if f["api_name"] in visible
    ]
    return standard, custom


@login_required
def guest_detail(request, guest_id: int):
    actor = Principal.from_request(request)
    guest = _guest_for(actor, guest_id)
    standard, custom = _profile_rows(actor, guest)
    reservations = actor.scope("reservation", guest_reservations(guest=guest))
    zone = tenant_zone()
    return render(
        request,
        "crm/guest_detail.html",
        {
            "guest": guest,
            "standard": standard,
            "custom": custom,
            "reservations": reservations[:50] if actor.can("reservation", "view") else None,
            "activities": [
                {
                    "activity": a,
                    # Formatted here: the template's date filter would show UTC.
                    "due_local": a.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
                    if a.due_at
                    else None,
                }
                for a in timeline_for(object_api_name="guest", record_id=guest.pk)[:50]
            ],
            "can_log": actor.can("guest", "edit"),
            "staff": users_list().filter(is_active=True) if actor.can("guest", "edit") else [],
            "zone": str(zone),
            "duplicates": guest_duplicate_suggestions(guest=guest),
            "merges": guest_merges_undoable(survivor_ids=[guest.pk]) if actor.is_admin else [],
            "base_currency": getattr(current_tenant(), "base_currency", ""),
            "can_edit": actor.can("guest", "edit"),
            "loyalty": guest_loyalty_panel(actor=actor, guest_id=guest.pk),
            "analytics": guest_analytics_panel(actor=actor, guest_id=guest.pk),
            **_profile_lists(actor, guest),
            "history": record_history(actor=actor, object_api_name="guest", record_id=guest.pk),
        },
    )


def _profile_lists(actor: Principal, guest: Guest) -> dict:
    """Contact details, preferences and consent (with who recorded each event) as the
    profile's forms show them, read fresh (the profile's prefetch may be older)."""
    from django.contrib.auth import get_user_model

    from crm.models import GuestConsent, GuestEmail, GuestPhone, GuestPreference

    history = list(GuestConsent.objects.filter(guest_id=guest.pk)[:50])
    current = sorted(
        guest_consents_current(guest=guest).values(), key=lambda c: (c.channel, c.purpose)
    )
    authors = dict(
        get_user_model()
        .objects.filter(pk__in={c.recorded_by_id for c in history + current if c.recorded_by_id})
        .values_list("pk", "email")
    )
    for consent in history + current:
        consent.recorded_by_email = authors.get(consent.recorded_by_id or 0, "")  # type: ignore[attr-defined]
    emails = list(GuestEmail.objects.filter(guest_id=guest.pk).order_by("-is_primary", "pk"))
    phones = list(GuestPhone.objects.filter(guest_id=guest.pk).order_by("-is_primary", "pk"))
    for row in emails:
        row.kind_label = CONTACT_KINDS.get(row.kind, row.kind)  # type: ignore[attr-defined]
    for phone in phones:
        phone.kind_label = CONTACT_KINDS.get(phone.kind, phone.kind)  # type: ignore[attr-defined]
    return {
        "emails": emails,
        "phones": phones,
        "preferences": GuestPreference.objects.filter(guest_id=guest.pk).select_related("property"),
        "consents": current,
        "consent_history": history,
        "channels": GuestConsent.Channel.choices,
        "purposes": GuestConsent.Purpose.choices,
        "preference_groups": PREFERENCE_GROUPS,
        "hotels": actor.scope("property", Property.objects.all()).order_by("name")
        if actor.can("guest", "edit")
        else [],
        "is_admin": actor.is_admin,
    }


CONTACT_KINDS = {
    "personal": gettext_lazy("Personal"),
    "work": gettext_lazy("Work"),
    "mobile": gettext_lazy("Mobile"),
    "home": gettext_lazy("Home"),
    "other": gettext_lazy("Other"),
}

# Common preference groups offered as suggestions (any group may be typed).
PREFERENCE_GROUPS = (
    ("PILLOW", gettext_lazy("Pillow")),
    ("FLOOR", gettext_lazy("Floor")),
    ("DIETARY", gettext_lazy("Dietary")),
    ("ROOM", gettext_lazy("Room")),
    ("BED", gettext_lazy("Bed")),
    ("NEWSPAPER", gettext_lazy("Newspaper")),
    ("AMENITY", gettext_lazy("Amenity")),
)


def _save(request, form: RecordForm, save):
    try:
        payload = form.payload()
        guest = save(payload)
    except (ValidationError, ApplicationError) as exc:
        if isinstance(exc, ApplicationError) and exc.status_code in (403, 404):
            raise
        form.add_errors(errors_by_field(exc))
        return None
    return guest


@login_required
def guest_create_view(request):
    Principal.from_request(request).require("guest", "create")
    form = RecordForm(
        object_api_name="guest",
        actor=Principal.from_request(request),
        data=request.POST if request.method == "POST" else None,
    )
    lookalikes: list = []
    if request.method == "POST":
        actor = Principal.from_request(request)

        def create(payload):
            nonlocal lookalikes
            if request.POST.get("create_anyway") != "1" and actor.can("guest", "view"):
                # Before a new profile: the desk sees who it may repeat, and opens that
                # one or confirms.
                lookalikes = guest_lookalikes(
                    actor=actor,
                    given_name=str(payload.get("given_name") or ""),
                    surname=str(payload.get("surname") or ""),
                    emails=list(payload.get("emails") or []),
                    phones=list(payload.get("phones") or []),
                    birth_date=payload.get("birth_date"),
                    nationality=str(payload.get("nationality") or ""),
                )
                if lookalikes:
                    return None
            return guest_create(
                actor=actor,
                given_name=payload.pop("given_name", ""),
                surname=payload.pop("surname", ""),
                **payload,
            )

        guest = _save(request, form, create)
        if guest is not None:
            messages.success(request, _("Guest profile created."))
            return redirect("guest_detail", guest_id=guest.pk)
    rules = {
        "email": _("same e-mail"),
        "phone": _("same phone"),
        "name_birth_date": _("similar name, same birth date"),
        "name": _("same name"),
    }
    return render(
        request,
        "crm/guest_form.html",
        {
            "form": form,
            "guest": None,
            "lookalikes": [(g, rules[rule]) for g, rule in lookalikes],
            **_choices(),
        },
        status=400 if form.has_errors else 200,
    )


@login_required
def guest_edit_view(request, guest_id: int):
    guest = _guest_for(Principal.from_request(request), guest_id, "edit")
    form = RecordForm(
        object_api_name="guest",
        actor=Principal.from_request(request),
        instance=guest,
        data=request.POST if request.method == "POST" else None,
    )
    if request.method == "POST":
        saved = _save(
            request,
            form,
            lambda payload: guest_update(
                guest=guest, actor=Principal.from_request(request), **payload
            ),
        )
        if saved is not None:
            messages.success(request, _("Changes saved."))
            return redirect("guest_detail", guest_id=guest.pk)
    return render(
        request,
        "crm/guest_form.html",
        {"form": form, "guest": guest, **_choices()},
        status=400 if form.has_errors else 200,
    )


@login_required
def duplicate_review(request):
    """Open duplicate suggestions: merge one profile into the other, or dismiss."""
    from crm.models import DuplicateSuggestion
    from crm.selectors.guests import duplicate_suggestions_open
    from crm.services.dedupe import duplicate_dismiss, duplicates_find, guest_merge

    actor = Principal.from_request(request)
    actor.require("guest", "edit")
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "find":
            found = duplicates_find()
            messages.success(request, _("%(count)s new possible duplicates.") % {"count": found})
            return redirect("guest_duplicates")
        suggestion = DuplicateSuggestion.objects.filter(
            pk=request.POST.get("suggestion") or 0, status=DuplicateSuggestion.Status.OPEN
        ).first()
        if suggestion is None:
            raise Http404(_("There is no such open suggestion."))
        pair = {suggestion.guest_a_id, suggestion.guest_b_id}
        for guest_id in pair:
            _guest_for(actor, guest_id)  # both within the user's hotels
        if action == "dismiss":
            duplicate_dismiss(suggestion=suggestion, actor=actor)
            messages.success(request, _("Marked as not a duplicate."))
        elif action == "merge":
            actor.require("guest", "delete")
            raw = request.POST.get("survivor") or ""
            survivor_id = int(raw) if raw.isdigit() else 0
            if survivor_id not in pair:
                raise Http404(_("There is no such guest."))
            (duplicate_id,) = pair - {survivor_id}
            try:
                guest_merge(
                    survivor=guest_get(guest_id=survivor_id),
                    duplicate=guest_get(guest_id=duplicate_id),
                    actor=actor,
                )
            except (ValidationError, ApplicationError) as exc:
                for text in (m for ms in errors_by_field(exc).values() for m in ms):
                    messages.error(request, text)
            else:
                messages.success(request, _("Profiles merged."))
                return redirect("guest_detail", guest_id=survivor_id)
        return redirect("guest_duplicates")
    suggestions = [
        s
        for s in duplicate_suggestions_open()[:200]
        if _scoped(actor).filter(pk__in=[s.guest_a_id, s.guest_b_id]).count() == 2
    ]
    is_admin = actor.is_admin
    return render(
        request,
        "crm/guest_duplicates.html",
        {
            "suggestions": suggestions,
            "can_merge": actor.can("guest", "delete"),
            "merges": [
                m
                for m in guest_merges_undoable(limit=50)
                if _scoped(actor).filter(pk=m.survivor_id).exists()
            ]
            if is_admin
            else [],
        },
    )


@login_required
@require_POST
def merge_undo_view(request, merge_id: int):
    """Undo a merge (administrators): both profiles and every moved row come back."""
    from crm.models import MergeLog
    from crm.services.dedupe import guest_merge_undo

    actor = Principal.from_request(request)
    if not actor.is_admin:
        raise AccessDenied(_("Only administrators undo merges."))
    log = MergeLog.objects.filter(pk=merge_id).first()
    if log is None:
        raise Http404(_("There is no such merge."))
    _guest_for(actor, log.survivor_id)
    try:
        guest = guest_merge_undo(merge_log=log, actor=actor)
    except (ValidationError, ApplicationError) as exc:
        if isinstance(exc, ApplicationError) and exc.status_code in (403, 404):
            raise
        for text in (m for ms in errors_by_field(exc).values() for m in ms):
            messages.error(request, text)
    else:
        messages.success(request, _("Merge undone: both profiles are back."))
        return redirect("guest_detail", guest_id=guest.pk)
    back = request.POST.get("next") or ""
    if back.startswith("/guests/"):
        return redirect(back)
    return redirect("guest_duplicates")


# --- activities on the profile --------------------------------------------------------


def _activity_arguments(request, kind: str) -> dict:
    """The POSTed note, call or task as activity_create's arguments. A task's due and
    reminder times are typed in the tenant's time zone."""
    post = request.POST
    arguments: dict = {
        "kind": kind,
        "subject": post.get("subject", "").strip(),
        "body": post.get("body", "").strip(),
    }
    problems: dict[str, str] = {}
    if kind == "note" and not arguments["body"]:
        problems["body"] = _("Write the note.")
    if kind == "call":
        arguments["direction"] = post.get("direction", "") or ""
        minutes = post.get("minutes", "").strip()
        if minutes:
            if not minutes.isdecimal() or int(minutes) > 1440:
                problems["duration_seconds"] = _("Give the call's length in whole minutes.")
            else:
                arguments["duration_seconds"] = int(minutes) * 60
    if kind == "task":
        owner = post.get("assignee", "")
        if owner:
            arguments["assignee"] = (
                users_list().filter(pk=int(owner), is_active=True).first()
                if owner.isdecimal() and int(owner) < 2**63
                else None
            )
            if arguments["assignee"] is None:
                problems["assignee"] = _("Choose an owner among active staff.")
        for name, argument, problem in (
            ("due", "due_at", _("Give the due time as a date and time.")),
            ("reminder", "reminder_at", _("Give the reminder time as a date and time.")),
        ):
            moment = local_moment(post.get(name, "").strip())
            if moment is False:
                problems[argument] = problem
            elif moment is not None:
                arguments[argument] = moment
    if problems:
        raise ValidationError(problems)
    return arguments


@login_required
@require_POST
def guest_activity_create_view(request, guest_id: int):
    """Add a note, log a call or create a task from the profile."""
    actor = Principal.from_request(request)
    guest = _guest_for(actor, guest_id, action="edit")
    kind = request.POST.get("kind", "")
    if kind not in ("note", "call", "task"):
        raise ValidationError({"kind": _("Choose a note, a call or a task.")})
    try:
        activity_create(
            actor=actor, object_api_name="guest", record_id=guest.pk,
            **_activity_arguments(request, kind),
        )  # fmt: skip
    except (ValidationError, ApplicationError) as exc:
        if isinstance(exc, ApplicationError) and exc.status_code in (403, 404):
            raise
        for texts in errors_by_field(exc).values():
            for text in texts:
                messages.error(request, text)
    else:
        messages.success(
            request,
            {
                "note": _("Note added."),
                "call": _("Call logged."),
                "task": _("Task created."),
            }[kind],
        )
    return redirect("guest_detail", guest_id=guest.pk)


@login_required
@require_POST
def guest_task_complete_view(request, guest_id: int, activity_id: int):
    actor = Principal.from_request(request)
    guest = _guest_for(actor, guest_id)
    activity = activity_for(actor=actor, activity_id=activity_id)
    if activity.object_api_name != "guest" or activity.record_id != str(guest.pk):
        raise Http404(_("There is no such task."))
    task_complete(activity=activity, actor=actor)
    messages.success(request, _("Task %(subject)s completed.") % {"subject": activity.subject})
    return redirect("guest_detail", guest_id=guest.pk)
