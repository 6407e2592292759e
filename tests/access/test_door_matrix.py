"""Every door of a hotel group's site, with every kind of principal: the answer equals the
access policy's decision for that principal.

* Doors: every route of the tenant URL conf (API and screens), each method it answers.
  A route missing from DOORS fails ``test_every_route_is_a_door_of_the_matrix``.
* Principals: the eight seeded roles, a custom role, a hotel-scoped user (signed in), API
  keys narrowed to a few scopes, and nobody.
* Decision: what ``Principal`` says for that principal (object right with the module
  on, the one administrator rule, hotel scope on a record, or merely signed in).
* A refusal is a 403 with a code (API) or the 403 page (screens) -- a 401 or the sign-in
  page for nobody -- and writes nothing (the tenant schema's fingerprint is unchanged);
  an allowed request is never refused (it may still be a 400 for its empty body).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenants.access.errors import AccessDenied
from tenants.access.models import Role
from tenants.access.principal import Principal
from tenants.access.services import (
    role_create,
    role_object_permission_set,
    temporary_grant_create,
    user_property_scope_set,
    user_roles_set,
)
from tenants.errors import ApplicationError
from tenants.integrations.services import api_key_create
from tenants.users.models import User
from tests.conftest import PASSWORD
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db

EMPTY = (None, "", [], {})
SEEDED = [
    "tenant_admin",
    "general_manager",
    "front_office",
    "reservations",
    "sales",
    "marketing",
    "service_agent",
    "read_only",
]


# --- requirements ----------------------------------------------------------------------


@dataclass(frozen=True)
class Need:
    """What a door needs. ``kind``: public, signed_in, object, any_of, admin, record."""

    kind: str
    object: str = ""
    actions: tuple[str, ...] = ()
    write: bool = False
    record: str = ""  # key of the record in the fixture (for hotel scope)


def public() -> Need:
    return Need("public")


def signed_in() -> Need:
    return Need("signed_in")


def obj(name: str, action: str) -> Need:
    return Need("object", name, (action,))


def any_of(name: str, *actions: str) -> Need:
    return Need("any_of", name, actions)


def admin(*, write: bool) -> Need:
    return Need("admin", write=write)


def record(name: str, action: str, key: str) -> Need:
    return Need("record", name, (action,), record=key)


@dataclass
class Door:
    method: str
    template: str
    need: Need
    body: Callable[[dict], dict] | None = None
    api: bool = True

    def path(self, ctx: dict) -> str:
        return self.template.format(**ctx)


@dataclass
class Who:
    label: str
    user: User | None
    scopes: tuple[str, ...] | None = None  # None: a browser session
    clients: dict = field(default_factory=dict)

    @property
    def principal(self) -> Principal:
        return Principal.of(self.user, scopes=self.scopes)


def _allowed(principal: Principal, name: str, action: str) -> bool:
    try:
        principal.require(name, action)
    except (AccessDenied, ApplicationError):
        return False
    return True


def decision(who: Who, need: Need, ctx: dict) -> str:
    """``allow``, ``deny`` (403), ``anonymous`` (401 / sign-in page) or ``hidden`` (404:
    the record is out of the principal's hotel scope)."""
    if need.kind == "public":
        return "allow"
    if who.user is None:
        return "anonymous"
    principal = who.principal
    if need.kind == "signed_in":
        return "allow"
    if need.kind == "admin":
        try:
            principal.require_admin("x", write=need.write)
        except AccessDenied:
            return "deny"
        return "allow"
    if need.kind == "any_of":
        return "allow" if any(_allowed(principal, need.object, a) for a in need.actions) else "deny"
    (action,) = need.actions
    if not _allowed(principal, need.object, action):
        return "deny"
    if need.kind == "record":
        from metadata.selectors.records import records_queryset

        queryset = records_queryset(object_api_name=need.object)
        visible = principal.scope(need.object, queryset).filter(pk=ctx[need.record]).exists()
        return "allow" if visible else "hidden"
    return "allow"


# --- the doors ---------------------------------------------------------------------------


def _c(path: str) -> str:
    """A path template, filled from the fixture's ids."""
    return path


COLLECTIONS = {
    # collection: (object, record key in ctx, exportable)
    "guests": ("guest", "guest_a", True),
    "companies": ("company", "company", True),
    "properties": ("property", "hotel_a", False),
    "room-types": ("room_type", "room_type", False),
    "rate-plans": ("rate_plan", "rate_plan", False),
    "reservations": ("reservation", "stay_a", True),
    "cases": ("case", "case_a", False),
}


def _collection_doors() -> dict[str, list[Door]]:
    doors: dict[str, list[Door]] = {
        "api_collection": [],
        "api_collection_export": [],
        "api_collection_bulk": [],
        "api_collection_item": [],
    }
    for collection, (name, key, exportable) in COLLECTIONS.items():
        base = f"/api/v1/{collection}/"
        doors["api_collection"] += [
            Door("get", _c(base), obj(name, "view")),
            Door("post", _c(base), obj(name, "create"), lambda ctx: {}),
        ]
        if exportable:
            doors["api_collection_export"].append(
                Door("get", _c(base + "export/"), obj(name, "export"))
            )
        doors["api_collection_bulk"].append(
            Door(
                "post",
                _c(base + "bulk/"),
                any_of(name, "create", "edit"),
                lambda ctx: {"records": [{}]},
            )
        )
        item = base + "{" + key + "}/"
        doors["api_collection_item"] += [
            Door("get", _c(item), record(name, "view", key)),
            Door("patch", _c(item), record(name, "edit", key), lambda ctx: {}),
            Door("delete", _c(item), record(name, "delete", key)),
        ]
    return doors


THING = "/api/v1/objects/mx_thing/records/"
LOY = "/api/v1/loyalty/"
ANA = "/api/v1/analytics/"
SVC = "/api/v1/"
MK = "/api/v1/marketing/"
OFF = "/api/v1/offers/"
WF = "/api/v1/workflows/"
MD = "/api/v1/metadata/objects/"

DOORS: dict[str, list[Door]] = {
    # Screens anyone may open.
    "login": [Door("get", _c("/login/"), public(), api=False)],
    "logout": [Door("post", _c("/logout/"), public(), lambda ctx: {}, api=False)],
    "password_reset": [Door("get", _c("/password/reset/"), public(), api=False)],
    "password_reset_done": [Door("get", _c("/password/reset/sent/"), public(), api=False)],
    "password_reset_confirm": [
        Door("get", _c("/password/reset/MQ/set-password/"), public(), api=False)
    ],
    "password_reset_complete": [Door("get", _c("/password/reset/done/"), public(), api=False)],
    "set_language": [Door("post", _c("/i18n/language/"), public(), lambda c: {}, api=False)],
    "unsubscribe": [Door("get", _c("/unsubscribe/not-a-token/"), public(), api=False)],
    "survey_answer": [Door("get", _c("/survey/not-a-token/"), public(), api=False)],
    # The mail provider's hook: shut (404) until the provider is set up, never a 403.
    "inbound_mail": [
        Door("post", _c("/webhooks/mail/mailgun/inbound/"), public(), lambda c: {}, api=False)
    ],
    # A marketing campaign's open pixel, click redirect and unsubscribe page.
    "marketing_open": [Door("get", _c("/m/o/not-a-token.gif"), public(), api=False)],
    "marketing_click": [Door("get", _c("/m/c/not-a-token/"), public(), api=False)],
    "marketing_segments": [
        Door("get", _c("/marketing/segments/"), obj("segment", "view"), api=False),
        Door("post", _c("/marketing/segments/"), obj("segment", "create"), api=False),
    ],
    "marketing_segment_count": [
        Door("post", _c("/marketing/segments/count/"), obj("segment", "view"), api=False)
    ],
    "marketing_templates": [
        Door("get", _c("/marketing/templates/"), obj("marketing_template", "view"), api=False)
    ],
    "marketing_template": [
        Door(
            "get",
            _c("/marketing/templates/{mtemplate}/"),
            obj("marketing_template", "view"),
            api=False,
        )
    ],  # fmt: skip
    "marketing_campaigns": [
        Door("get", _c("/marketing/campaigns/"), obj("campaign", "view"), api=False),
        Door("post", _c("/marketing/campaigns/"), obj("campaign", "create"), api=False),
    ],
    "marketing_campaign": [
        Door("get", _c("/marketing/campaigns/{campaign}/"), obj("campaign", "view"), api=False)
    ],
    "marketing_esp_tracking": [
        Door("post", _c("/webhooks/mail/mailgun/tracking/"), public(), api=False)
    ],
    "marketing_unsubscribe": [
        Door("get", _c("/m/u/not-a-token/"), public(), api=False),
        Door("post", _c("/m/u/not-a-token/"), public(), api=False),
    ],
    "service_queue": [Door("get", _c("/service/queue/"), obj("case", "view"), api=False)],
    "loyalty_programme": [Door("get", _c("/loyalty/"), obj("loyalty_account", "view"), api=False)],
    "loyalty_programme_action": [
        Door(
            "post",
            _c("/loyalty/action/"),
            obj("loyalty_account", "view"),
            lambda c: {"action": ""},
            api=False,
        )
    ],
    "loyalty_members": [
        Door("get", _c("/loyalty/members/"), obj("loyalty_account", "view"), api=False)
    ],
    "loyalty_member": [
        Door("get", _c("/loyalty/members/{member}/"), obj("loyalty_account", "view"), api=False)
    ],
    "loyalty_member_action": [
        Door(
            "post",
            _c("/loyalty/members/{member}/action/"),
            obj("loyalty_account", "view"),
            lambda c: {"action": ""},
            api=False,
        )
    ],
    "loyalty_guest_enrol": [
        Door(
            "post",
            _c("/guests/{guest_a}/enrol/"),
            obj("loyalty_account", "create"),
            lambda c: {},
            api=False,
        )
    ],  # fmt: skip
    "service_case": [
        Door("get", _c("/service/cases/{case_a}/"), record("case", "view", "case_a"), api=False)
    ],
    "service_case_action": [
        Door(
            "post",
            _c("/service/cases/{case_a}/action/"),
            record("case", "edit", "case_a"),
            lambda c: {"action": "note", "body": "Matrix note"},
            api=False,
        )
    ],
    "service_case_new": [
        Door("get", _c("/service/cases/new/"), obj("case", "create"), api=False)
    ],  # fmt: skip
    "analytics_reports": [
        Door("get", _c("/analytics/"), obj("analytics_report", "view"), api=False)
    ],
    "analytics_warnings": [
        Door("get", _c("/analytics/warnings/"), obj("analytics_report", "view"), api=False),
        Door("post", _c("/analytics/warnings/"), admin(write=True), lambda c: {}, api=False),
    ],
    "analytics_churn": [
        Door("get", _c("/analytics/churn-model/"), obj("churn_model", "view"), api=False),
        Door("post", _c("/analytics/churn-model/"), admin(write=True), lambda c: {}, api=False),
    ],
    "service_satisfaction": [
        Door("get", _c("/service/satisfaction/"), obj("survey_response", "view"), api=False)
    ],
    # Screens for anyone signed in.
    "home": [Door("get", _c("/"), signed_in(), api=False)],
    "two_factor_verify": [Door("get", _c("/login/verify/"), signed_in(), api=False)],
    "two_factor_enrol": [Door("get", _c("/account/two-factor/"), signed_in(), api=False)],
    "password_change": [Door("get", _c("/account/password/"), signed_in(), api=False)],
    "import_wizard": [
        Door("get", _c("/imports/"), signed_in(), api=False),
        Door(
            "post",
            _c("/imports/"),
            any_of("guest", "create"),
            lambda c: {"object": "guest"},
            api=False,
        ),  # fmt: skip
    ],
    "import_job": [Door("get", _c("/imports/jobs/{job}/"), signed_in(), api=False)],
    # Records on screen.
    "guest_list": [Door("get", _c("/guests/"), obj("guest", "view"), api=False)],
    "guest_create": [
        Door("get", _c("/guests/new/"), obj("guest", "create"), api=False),
        Door("post", _c("/guests/new/"), obj("guest", "create"), lambda c: {}, api=False),
    ],
    "guest_duplicates": [Door("get", _c("/guests/duplicates/"), obj("guest", "edit"), api=False)],
    "guest_detail": [
        Door("get", _c("/guests/{guest_a}/"), record("guest", "view", "guest_a"), api=False)
    ],
    "guest_edit": [
        Door("get", _c("/guests/{guest_a}/edit/"), record("guest", "edit", "guest_a"), api=False),
        Door(
            "post",
            _c("/guests/{guest_a}/edit/"),
            record("guest", "edit", "guest_a"),
            lambda c: {},
            api=False,
        ),  # fmt: skip
    ],
    "guest_merge_undo": [
        Door(
            "post", _c("/guests/merges/999999/undo/"), admin(write=True), lambda c: {}, api=False
        )  # fmt: skip
    ],
    "reservation_list": [Door("get", _c("/reservations/"), obj("reservation", "view"), api=False)],
    "reservation_detail": [
        Door(
            "get", _c("/reservations/{stay_a}/"), record("reservation", "view", "stay_a"), api=False
        )  # fmt: skip
    ],
    # Status actions on screen: the edit right first, then the booking within the
    # user's hotels; an empty form is a message, no write.
    "reservation_status": [
        Door(
            "post",
            _c("/reservations/{stay_a}/status/"),
            record("reservation", "edit", "stay_a"),
            lambda c: {},
            api=False,
        )
    ],
    "reservation_folio": [
        Door(
            "post",
            _c("/reservations/{stay_a}/folio/"),
            record("reservation", "edit", "stay_a"),
            lambda c: {},
            api=False,
        )
    ],
    "company_list": [Door("get", _c("/companies/"), obj("company", "view"), api=False)],
    "custom_record_list": [
        Door("get", _c("/records/mx_thing/"), obj("mx_thing", "view"), api=False)
    ],
    "custom_record_create": [
        Door("get", _c("/records/mx_thing/new/"), obj("mx_thing", "create"), api=False),
        Door(
            "post", _c("/records/mx_thing/new/"), obj("mx_thing", "create"), lambda c: {}, api=False
        ),  # fmt: skip
    ],
    "custom_record_detail": [
        Door("get", _c("/records/mx_thing/{thing}/"), obj("mx_thing", "view"), api=False)
    ],
    "custom_record_edit": [
        Door("get", _c("/records/mx_thing/{thing}/edit/"), obj("mx_thing", "edit"), api=False)
    ],
    "custom_record_delete": [
        Door(
            "get", _c("/records/mx_thing/{thing}/delete/"), obj("mx_thing", "delete"), api=False
        )  # fmt: skip
    ],
    "audit_log": [Door("get", _c("/access/audit/"), obj("audit_event", "view"), api=False)],
    # Settings (administration).
    **{
        name: [Door("get", _c(path), admin(write=False), api=False)]
        for name, path in (
            ("settings_home", "/settings/"),
            ("settings_modules", "/settings/modules/"),
            ("settings_api_keys", "/settings/api-keys/"),
            ("settings_users", "/settings/users/"),
            ("settings_webhooks", "/settings/webhooks/"),
            ("settings_webhook", "/settings/webhooks/{endpoint}/"),
            ("settings_workspace", "/settings/workspace/"),
            ("settings_exchange_rates", "/settings/exchange-rates/"),
            ("settings_templates", "/settings/templates/"),
            ("settings_workflows", "/settings/workflows/"),
            ("settings_workflow_create", "/settings/workflows/new/"),
            ("settings_workflow", "/settings/workflows/{workflow}/"),
            ("settings_workflow_edit", "/settings/workflows/{workflow}/edit/"),
            ("settings_objects", "/settings/objects/"),
            ("settings_fields", "/settings/objects/guest/fields/"),
            ("settings_field_create", "/settings/objects/guest/fields/new/"),
            ("settings_field_choice_row", "/settings/objects/guest/fields/choice-row/"),
            ("settings_field_edit", "/settings/objects/guest/fields/mx_note/"),
            ("settings_field_type_change", "/settings/objects/guest/fields/mx_note/type/"),
            ("billing", "/billing/"),
        )
    },
    "settings_api_key_revoke": [
        Door(
            "post",
            _c("/settings/api-keys/999999/revoke/"),
            admin(write=True),
            lambda c: {},
            api=False,
        )  # fmt: skip
    ],
    "settings_user_roles": [
        Door(
            "post",
            _c("/settings/users/{victim}/roles/"),
            admin(write=True),
            lambda c: {"roles": ["tenant_admin"]},
            api=False,
        )  # fmt: skip
    ],
    "settings_roles": [
        Door("get", _c("/settings/roles/"), admin(write=False), api=False),
        Door("post", _c("/settings/roles/"), admin(write=True), lambda c: {}, api=False),
    ],
    "settings_role": [
        Door("get", _c("/settings/roles/read_only/"), admin(write=False), api=False),
        Door(
            "post", _c("/settings/roles/read_only/"), admin(write=True), lambda c: {}, api=False
        ),  # fmt: skip
    ],
    "settings_role_delete": [
        Door(
            "post",
            _c("/settings/roles/mx_no_such_role/delete/"),
            admin(write=True),
            lambda c: {},
            api=False,
        )  # fmt: skip
    ],
    "settings_role_fields": [
        Door("get", _c("/settings/roles/read_only/objects/guest/"), admin(write=False), api=False),
        Door(
            "post",
            _c("/settings/roles/read_only/objects/mx_thing/"),
            admin(write=True),
            lambda c: {},
            api=False,
        ),  # fmt: skip
    ],
    "settings_user": [
        Door("get", _c("/settings/users/{victim}/"), admin(write=False), api=False),
        Door(
            "post",
            _c("/settings/users/{victim}/"),
            admin(write=True),
            lambda c: {"scope": "all"},
            api=False,
        ),  # fmt: skip
    ],
    "settings_user_deactivate": [
        Door(
            "post",
            _c("/settings/users/{victim}/deactivate/"),
            admin(write=True),
            lambda c: {},
            api=False,
        )  # fmt: skip
    ],
    "settings_grants": [
        Door("get", _c("/settings/grants/"), admin(write=False), api=False),
        Door("post", _c("/settings/grants/"), admin(write=True), lambda c: {}, api=False),
    ],
    "settings_grant_revoke": [
        Door(
            "post",
            _c("/settings/grants/999999/revoke/"),
            admin(write=True),
            lambda c: {},
            api=False,
        )  # fmt: skip
    ],
    "guest_activity_create": [
        Door(
            "post",
            _c("/guests/{guest_a}/activities/"),
            record("guest", "edit", "guest_a"),
            lambda c: {"kind": "note", "body": "Matrix note"},
            api=False,
        )  # fmt: skip
    ],
    "guest_task_complete": [
        Door(
            "post",
            _c("/guests/{guest_a}/activities/{task}/complete/"),
            record("guest", "edit", "guest_a"),
            lambda c: {},
            api=False,
        )  # fmt: skip
    ],
    # The profile's own forms: edit on the guest (within the user's hotels); the privacy
    # tools for administrators. Empty bodies: an allowed user gets a message, no write.
    **{
        name: [
            Door(
                "post",
                _c(f"/guests/{{guest_a}}/{part}/"),
                record("guest", "edit", "guest_a"),
                lambda c: {},
                api=False,
            )
        ]
        for name, part in (
            ("guest_contacts", "contacts"),
            ("guest_preferences", "preferences"),
            ("guest_consent", "consents"),
        )
    },
    "guest_export": [Door("get", _c("/guests/{guest_a}/export/"), admin(write=True), api=False)],
    "guest_erase": [
        Door("post", _c("/guests/{guest_a}/erase/"), admin(write=True), lambda c: {}, api=False)
    ],
    "settings_field_archive": [
        Door(
            "post",
            _c("/settings/objects/guest/fields/mx_note/archive/"),
            admin(write=True),
            lambda c: {},
            api=False,
        )  # fmt: skip
    ],
    "job_diagnostic_start": [
        Door("post", _c("/jobs/diagnostic/"), admin(write=True), lambda c: {}, api=False)
    ],
    "billing_checkout": [
        Door("post", _c("/billing/checkout/"), admin(write=True), lambda c: {}, api=False)
    ],
    "billing_portal": [
        Door("post", _c("/billing/portal/"), admin(write=True), lambda c: {}, api=False)
    ],
    # The API: the caller's own, and the schema.
    "api_schema": [Door("get", _c("/api/v1/schema/"), signed_in())],
    "api_docs": [Door("get", _c("/api/v1/docs/"), signed_in())],
    "api_redoc": [Door("get", _c("/api/v1/redoc/"), signed_in())],
    "api_me": [Door("get", _c("/api/v1/me/"), signed_in())],
    "api_access_me": [Door("get", _c("/api/v1/access/me/"), signed_in())],
    "api_access_audit": [Door("get", _c("/api/v1/access/audit/"), obj("audit_event", "view"))],
    # Administration through the API.
    "api_users": [
        Door("get", _c("/api/v1/users/"), admin(write=False)),
        Door("post", _c("/api/v1/users/"), admin(write=True), lambda c: {}),
    ],
    "api_user": [
        Door("get", _c("/api/v1/users/{victim}/"), admin(write=False)),
        Door(
            "patch",
            _c("/api/v1/users/{victim}/"),
            admin(write=True),
            lambda c: {"roles": ["tenant_admin"]},
        ),  # fmt: skip
    ],
    "api_roles": [
        Door("get", _c("/api/v1/roles/"), admin(write=False)),
        Door("post", _c("/api/v1/roles/"), admin(write=True), lambda c: {}),
    ],
    "api_role": [
        Door("get", _c("/api/v1/roles/read_only/"), admin(write=False)),
        Door("patch", _c("/api/v1/roles/read_only/"), admin(write=True), lambda c: {}),
        Door("delete", _c("/api/v1/roles/mx_no_such_role/"), admin(write=True)),
    ],
    "api_grants": [
        Door("get", _c("/api/v1/grants/"), admin(write=False)),
        Door("post", _c("/api/v1/grants/"), admin(write=True), lambda c: {}),
    ],
    "api_grant": [
        Door("get", _c("/api/v1/grants/{grant}/"), admin(write=False)),
        Door("delete", _c("/api/v1/grants/{grant}/"), admin(write=True)),
    ],
    "api_activities": [
        Door(
            "get",
            _c("/api/v1/activities/?object=guest&record_id={guest_a}"),
            record("guest", "view", "guest_a"),
        ),
        Door(
            "post",
            _c("/api/v1/activities/"),
            record("guest", "edit", "guest_a"),
            lambda c: {"object": "guest", "record_id": c["guest_a"], "kind": "note", "body": "M"},
        ),
    ],
    "api_activity": [
        Door("get", _c("/api/v1/activities/{activity}/"), record("guest", "view", "guest_a"))
    ],
    "api_activity_complete": [
        Door(
            "post",
            _c("/api/v1/activities/{task}/complete/"),
            record("guest", "edit", "guest_a"),
            lambda c: {},
        )  # fmt: skip
    ],
    # A guest's lists (view to read, edit to change) and the privacy tools (administrators
    # with admin:write: every field, sensitive ones included). Items 999999 do not exist:
    # an allowed caller gets a 404 after the guest's checks, a refused one a 403.
    **{
        name: [
            Door(
                "get", _c(f"/api/v1/guests/{{guest_a}}/{part}/"), record("guest", "view", "guest_a")
            ),
            Door(
                "post",
                _c(f"/api/v1/guests/{{guest_a}}/{part}/"),
                record("guest", "edit", "guest_a"),
                lambda c: {},
            ),
        ]
        for name, part in (
            ("api_guest_consents", "consents"),
            ("api_guest_preferences", "preferences"),
            ("api_guest_emails", "emails"),
            ("api_guest_phones", "phones"),
            ("api_guest_addresses", "addresses"),
        )
    },
    **{
        name: [Door("delete", _c(path), record("guest", "edit", "guest_a"))]
        for name, path in (
            ("api_guest_preference", "/api/v1/guests/{guest_a}/preferences/999999/"),
            ("api_guest_email", "/api/v1/guests/{guest_a}/emails/999999/"),
            ("api_guest_phone", "/api/v1/guests/{guest_a}/phones/999999/"),
        )
    },
    **{
        name: [Door("post", _c(path), record("guest", "edit", "guest_a"), lambda c: {})]
        for name, path in (
            ("api_guest_email_primary", "/api/v1/guests/{guest_a}/emails/999999/primary/"),
            ("api_guest_phone_primary", "/api/v1/guests/{guest_a}/phones/999999/primary/"),
        )
    },
    "api_guest_export": [Door("get", _c("/api/v1/guests/{guest_a}/export/"), admin(write=True))],
    # Without {"confirm": true} an allowed caller gets a 400: the matrix erases no one.
    "api_guest_erase": [
        Door("post", _c("/api/v1/guests/{guest_a}/erase/"), admin(write=True), lambda c: {})
    ],
    # A reservation's folio, payments and status actions: view to read, edit to write,
    # within the user's hotels. Empty bodies: an allowed caller gets a 400, no write.
    **{
        name: [
            Door(
                "get",
                _c(f"/api/v1/reservations/{{stay_a}}/{part}/"),
                record("reservation", "view", "stay_a"),
            ),
            Door(
                "post",
                _c(f"/api/v1/reservations/{{stay_a}}/{part}/"),
                record("reservation", "edit", "stay_a"),
                lambda c: {},
            ),
        ]  # fmt: skip
        for name, part in (
            ("api_reservation_folio", "folio"),
            ("api_reservation_payments", "payments"),
        )
    },
    "api_reservation_status": [
        Door(
            "post",
            _c("/api/v1/reservations/{stay_a}/status/"),
            record("reservation", "edit", "stay_a"),
            lambda c: {},
        )
    ],
    "api_tasks_open": [Door("get", _c("/api/v1/tasks/open/"), signed_in())],
    "api_jobs": [
        Door("get", _c("/api/v1/jobs/"), signed_in()),
        Door("post", _c("/api/v1/jobs/"), admin(write=True), lambda c: {"kind": "diagnostic"}),
    ],
    "api_job_detail": [Door("get", _c("/api/v1/jobs/{job}/"), signed_in())],
    "api_webhook_event_types": [
        Door("get", _c("/api/v1/webhooks/event-types/"), admin(write=False))
    ],  # fmt: skip
    "api_webhook_endpoints": [
        Door("get", _c("/api/v1/webhooks/endpoints/"), admin(write=False)),
        Door("post", _c("/api/v1/webhooks/endpoints/"), admin(write=True), lambda c: {}),
    ],
    "api_webhook_endpoint": [
        Door("get", _c("/api/v1/webhooks/endpoints/{endpoint}/"), admin(write=False)),
        Door(
            "patch",
            _c("/api/v1/webhooks/endpoints/{endpoint}/"),
            admin(write=True),
            lambda c: {"enabled": False},
        ),  # fmt: skip
        Door("delete", _c("/api/v1/webhooks/endpoints/{endpoint}/"), admin(write=True)),
    ],
    "api_webhook_deliveries": [
        Door("get", _c("/api/v1/webhooks/endpoints/{endpoint}/deliveries/"), admin(write=False))
    ],
    "api_webhook_redeliver": [
        Door(
            "post",
            _c("/api/v1/webhooks/deliveries/999999/redeliver/"),
            admin(write=True),
            lambda c: {},
        )  # fmt: skip
    ],
    "api_md_objects": [
        Door("get", _c(MD), signed_in()),
        Door("post", _c(MD), admin(write=True), lambda c: {}),
    ],
    "api_md_object": [Door("get", _c(MD + "guest/"), obj("guest", "view"))],
    "api_md_fields": [Door("post", _c(MD + "guest/fields/"), admin(write=True), lambda c: {})],
    "api_md_field": [
        Door(
            "patch",
            _c(MD + "guest/fields/mx_note/"),
            admin(write=True),
            lambda c: {"label": "Renamed"},
        )  # fmt: skip
    ],
    "api_md_field_archive": [
        Door("post", _c(MD + "guest/fields/mx_note/archive/"), admin(write=True), lambda c: {})
    ],
    "api_md_field_type_change": [
        Door(
            "post",
            _c(MD + "guest/fields/mx_note/type-change/"),
            admin(write=True),
            lambda c: {"type": "long_text"},
        )  # fmt: skip
    ],
    "api_workflows": [
        Door("get", _c(WF), admin(write=False)),
        Door("post", _c(WF), admin(write=True), lambda c: {}),
    ],
    "api_workflow_actions": [Door("get", _c(WF + "actions/"), admin(write=False))],
    "api_workflow_templates": [Door("get", _c(WF + "templates/"), admin(write=False))],
    "api_workflow_template_import": [
        Door("post", _c(WF + "templates/vip_arrival/import/"), admin(write=True), lambda c: {})
    ],
    "api_workflow_run": [Door("get", _c(WF + "runs/{run}/"), admin(write=False))],
    "api_workflow": [
        Door("get", _c(WF + "mx_flow/"), admin(write=False)),
        Door("patch", _c(WF + "mx_flow/"), admin(write=True), lambda c: {"enabled": False}),
    ],
    "api_workflow_dry_run": [
        Door(
            "post",
            _c(WF + "mx_flow/dry-run/"),
            admin(write=True),
            lambda c: {"record_id": c["guest_a"]},
        )  # fmt: skip
    ],
    "api_workflow_run_now": [
        Door("post", _c(WF + "mx_flow/run/"), admin(write=True), lambda c: {"record_ids": []})
    ],
    "api_workflow_runs": [Door("get", _c(WF + "mx_flow/runs/"), admin(write=False))],
    "api_reservations_ota": [
        Door(
            "post",
            _c("/api/v1/reservations/ota"),
            obj("reservation", "create"),
            lambda c: {"HotelReservations": []},
        )  # fmt: skip
    ],
    # The service desk module (on in the world below).
    "api_service_levels": [
        Door("get", _c(SVC + "service-levels/"), obj("service_level", "view")),
        Door("post", _c(SVC + "service-levels/"), obj("service_level", "create"), lambda c: {}),
    ],
    "api_service_level": [
        Door("get", _c(SVC + "service-levels/{level}/"), obj("service_level", "view")),
        Door(
            "patch", _c(SVC + "service-levels/{level}/"), obj("service_level", "edit"), lambda c: {}
        ),
    ],
    "api_service_calendars": [
        Door("get", _c(SVC + "service-calendars/"), obj("service_level", "view")),
        Door("post", _c(SVC + "service-calendars/"), obj("service_level", "edit"), lambda c: {}),
    ],
    "api_case_sla": [
        Door("get", _c(SVC + "cases/{case_a}/sla/"), record("case", "view", "case_a"))
    ],
    "api_case_sla_pause": [
        Door(
            "post",
            _c(SVC + "cases/{case_a}/sla/pause/"),
            record("case", "edit", "case_a"),
            lambda c: {},
        )
    ],
    "api_case_sla_resume": [
        Door(
            "post",
            _c(SVC + "cases/{case_a}/sla/resume/"),
            record("case", "edit", "case_a"),
            lambda c: {},
        )
    ],
    "api_service_measures": [
        Door(
            "get",
            _c(SVC + "service-measures/?start=2026-01-01&end=2026-12-31"),
            obj("case", "view"),
        )
    ],
    "api_case_messages": [
        Door("get", _c(SVC + "cases/{case_a}/messages/"), record("case", "view", "case_a")),
        Door(
            "post",
            _c(SVC + "cases/{case_a}/messages/"),
            record("case", "edit", "case_a"),
            lambda c: {},
        ),
    ],
    "api_case_assign": [
        Door(
            "post",
            _c(SVC + "cases/{case_a}/assign/"),
            record("case", "edit", "case_a"),
            lambda c: {},
        )
    ],
    "api_case_merge": [
        Door(
            "post",
            _c(SVC + "cases/{case_a}/merge/"),
            record("case", "edit", "case_a"),
            lambda c: {},
        )
    ],
    "api_case_compensations": [
        Door("get", _c(SVC + "cases/{case_a}/compensations/"), obj("case_compensation", "view")),
        Door(
            "post",
            _c(SVC + "cases/{case_a}/compensations/"),
            obj("case_compensation", "create"),
            lambda c: {},
        ),
    ],
    "api_compensation_decide": [
        Door(
            "post",
            _c(SVC + "compensations/{compensation}/decide/"),
            obj("case_compensation", "edit"),
            lambda c: {},
        )
    ],
    "api_case_assignment_rules": [
        Door("get", _c(SVC + "case-assignment-rules/"), obj("case_assignment_rule", "view")),
        Door(
            "post",
            _c(SVC + "case-assignment-rules/"),
            obj("case_assignment_rule", "create"),
            lambda c: {},
        ),
    ],
    "api_case_assignment_rule": [
        Door("get", _c(SVC + "case-assignment-rules/{rule}/"), obj("case_assignment_rule", "view")),
        Door(
            "patch",
            _c(SVC + "case-assignment-rules/{rule}/"),
            obj("case_assignment_rule", "edit"),
            lambda c: {},
        ),
        Door(
            "delete",
            _c(SVC + "case-assignment-rules/{rule}/"),
            obj("case_assignment_rule", "delete"),
        ),
    ],  # fmt: skip
    "api_case_inbound_email": [
        Door("post", _c(SVC + "cases/inbound-email/"), obj("case", "edit"), lambda c: {})
    ],
    "api_surveys": [
        Door("get", _c(SVC + "surveys/"), obj("survey", "view")),
        Door("post", _c(SVC + "surveys/"), obj("survey", "create"), lambda c: {}),
    ],
    "api_survey": [
        Door("get", _c(SVC + "surveys/{survey}/"), obj("survey", "view")),
        Door("patch", _c(SVC + "surveys/{survey}/"), obj("survey", "edit"), lambda c: {}),
    ],
    "api_survey_invitations": [
        Door(
            "post",
            _c(SVC + "surveys/{survey}/invitations/"),
            obj("survey_response", "create"),
            lambda c: {},
        )
    ],
    "api_survey_responses": [
        Door("get", _c(SVC + "survey-responses/"), obj("survey_response", "view"))
    ],
    "api_survey_response": [
        Door("get", _c(SVC + "survey-responses/{survey_response}/"), obj("survey_response", "view"))
    ],
    "api_survey_measures": [
        Door(
            "get",
            _c(SVC + "survey-measures/?start=2026-01-01&end=2026-12-31"),
            obj("survey_response", "view"),
        )
    ],
    # The marketing module (switched on in the world below).
    "api_offers": [
        Door("get", _c(OFF), obj("offer", "view")),
        Door("post", _c(OFF), obj("offer", "create"), lambda c: {}),
    ],
    "api_offer": [Door("get", _c(OFF + "{offer}/"), obj("offer", "view"))],
    "api_offer_codes": [
        Door("get", _c(OFF + "{offer}/codes/"), obj("offer", "view")),
        Door("post", _c(OFF + "{offer}/codes/"), obj("offer", "edit"), lambda c: {}),
    ],
    "api_offer_validate": [
        Door("post", _c(OFF + "validate/"), obj("offer", "view"), lambda c: {"code": "MXCODE"})
    ],
    "api_offer_redeem": [Door("post", _c(OFF + "redeem/"), obj("offer", "edit"), lambda c: {})],
    "api_marketing_segments": [
        Door("get", _c(MK + "segments/"), obj("segment", "view")),
        Door("post", _c(MK + "segments/"), obj("segment", "create"), lambda c: {}),
    ],
    "api_marketing_segment_count": [
        Door(
            "post",
            _c(MK + "segments/count/"),
            obj("segment", "view"),
            lambda c: {"definition": {}},
        )
    ],  # fmt: skip
    "api_marketing_segment": [
        Door("get", _c(MK + "segments/{segment}/"), obj("segment", "view")),
        Door("patch", _c(MK + "segments/{segment}/"), obj("segment", "edit"), lambda c: {}),
        # The campaign uses it: an allowed delete is a 409, so the world stays.
        Door("delete", _c(MK + "segments/{segment}/"), obj("segment", "delete")),
    ],
    "api_marketing_segment_members": [
        Door("get", _c(MK + "segments/{segment}/members/"), obj("segment", "view")),
        Door("post", _c(MK + "segments/{segment}/members/"), obj("segment", "edit"), lambda c: {}),
    ],  # fmt: skip
    "api_marketing_segment_snapshot": [
        Door(
            "post",
            _c(MK + "segments/{segment}/snapshot/"),
            obj("segment", "create"),
            lambda c: {},
        )
    ],  # fmt: skip
    "api_marketing_templates": [
        Door("get", _c(MK + "templates/"), obj("marketing_template", "view")),
        Door("post", _c(MK + "templates/"), obj("marketing_template", "create"), lambda c: {}),
    ],
    "api_marketing_template": [
        Door("get", _c(MK + "templates/{mtemplate}/"), obj("marketing_template", "view")),
        Door(
            "patch",
            _c(MK + "templates/{mtemplate}/"),
            obj("marketing_template", "edit"),
            lambda c: {"name": "Matrix"},
        ),
    ],  # fmt: skip
    "api_marketing_template_preview": [
        Door(
            "post",
            _c(MK + "templates/{mtemplate}/preview/"),
            obj("marketing_template", "view"),
            lambda c: {"language": "en"},
        )
    ],  # fmt: skip
    "api_marketing_template_test": [
        Door(
            "post",
            _c(MK + "templates/{mtemplate}/test/"),
            obj("marketing_template", "edit"),
            lambda c: {},
        )
    ],  # fmt: skip
    "api_marketing_campaigns": [
        Door("get", _c(MK + "campaigns/"), obj("campaign", "view")),
        Door("post", _c(MK + "campaigns/"), obj("campaign", "create"), lambda c: {}),
    ],
    "api_marketing_campaign": [
        Door("get", _c(MK + "campaigns/{campaign}/"), obj("campaign", "view"))
    ],
    "api_marketing_campaign_schedule": [
        Door(
            "post",
            _c(MK + "campaigns/{campaign}/schedule/"),
            obj("campaign", "edit"),
            lambda c: {"at": "2030-01-01T00:00:00Z"},
        )
    ],  # fmt: skip
    "api_marketing_campaign_pause": [
        Door("post", _c(MK + "campaigns/{campaign}/pause/"), obj("campaign", "edit"), lambda c: {})
    ],
    "api_marketing_campaign_resume": [
        Door("post", _c(MK + "campaigns/{campaign}/resume/"), obj("campaign", "edit"), lambda c: {})
    ],
    "api_marketing_campaign_cancel": [
        # Asked last in the matrix's order is not guaranteed: a cancelled campaign answers
        # 409 to the other changes, which is still not a refusal.
        Door("post", _c(MK + "campaigns/{campaign}/cancel/"), obj("campaign", "edit"), lambda c: {})
    ],
    "api_marketing_campaign_report": [
        Door("get", _c(MK + "campaigns/{campaign}/report/"), obj("campaign", "view"))
    ],
    "api_marketing_suppressions": [
        Door("get", _c(MK + "suppressions/"), obj("campaign", "view")),
        Door("post", _c(MK + "suppressions/"), obj("campaign", "edit"), lambda c: {}),
    ],
    "api_marketing_campaign_recipients": [
        Door("get", _c(MK + "campaigns/{campaign}/recipients/"), obj("campaign", "view"))
    ],
    # The loyalty module (switched on in the world below).
    "api_loyalty_programme": [
        Door("get", _c(LOY + "programme/"), obj("loyalty_account", "view")),
        Door(
            "patch", _c(LOY + "programme/"), admin(write=True), lambda c: {"expiry_months": 36}
        ),  # fmt: skip
    ],
    "api_loyalty_tiers": [Door("post", _c(LOY + "tiers/"), admin(write=True), lambda c: {})],
    "api_loyalty_tier": [
        Door("patch", _c(LOY + "tiers/mx-tier/"), admin(write=True), lambda c: {"name": "Mx"})
    ],
    "api_loyalty_members": [
        Door("get", _c(LOY + "members/"), obj("loyalty_account", "view")),
        Door("post", _c(LOY + "members/"), obj("loyalty_account", "create"), lambda c: {}),
    ],
    "api_loyalty_member": [
        Door("get", _c(LOY + "members/{member}/"), obj("loyalty_account", "view"))
    ],
    "api_loyalty_member_statement": [
        Door(
            "get",
            _c(LOY + "members/{member}/statement/?start=2026-01-01&end=2026-12-31"),
            obj("loyalty_ledger", "view"),
        )  # fmt: skip
    ],
    "api_loyalty_ledger": [
        Door("get", _c(LOY + "ledger/"), obj("loyalty_ledger", "view")),
        # A manual adjustment: administrators only among the seeded roles.
        Door(
            "post",
            _c(LOY + "ledger/"),
            obj("loyalty_ledger", "create"),
            lambda c: {"member": c["member"], "points": 5, "reason": "matrix"},
        ),  # fmt: skip
    ],
    "api_loyalty_rewards": [
        Door("get", _c(LOY + "rewards/"), obj("loyalty_reward", "view")),
        Door("post", _c(LOY + "rewards/"), obj("loyalty_reward", "create"), lambda c: {}),
    ],
    "api_loyalty_redemptions": [
        Door("get", _c(LOY + "redemptions/"), obj("loyalty_redemption", "view")),
        Door(
            "post",
            _c(LOY + "redemptions/"),
            obj("loyalty_redemption", "create"),
            lambda c: {"member": c["member"], "reward": c["reward"]},
        ),  # fmt: skip
    ],
    "api_loyalty_redemption": [
        Door("get", _c(LOY + "redemptions/{redemption}/"), obj("loyalty_redemption", "view"))
    ],
    "api_loyalty_redemption_confirm": [
        Door(
            "post",
            _c(LOY + "redemptions/{redemption}/confirm/"),
            obj("loyalty_redemption", "edit"),
            lambda c: {},
        )  # fmt: skip
    ],
    "api_loyalty_redemption_cancel": [
        Door(
            "post",
            _c(LOY + "redemptions/{redemption}/cancel/"),
            obj("loyalty_redemption", "edit"),
            lambda c: {},
        )  # fmt: skip
    ],
    # The analytics module (switched on in the world below).
    "api_analytics_scores": [Door("get", _c(ANA + "scores/"), obj("guest_score", "view"))],
    "api_analytics_score": [
        Door("get", _c(ANA + "scores/{scored_guest}/"), obj("guest_score", "view"))
    ],
    "api_analytics_churn_model": [
        Door("get", _c(ANA + "churn-model/"), obj("churn_model", "view")),
        Door(
            "patch",
            _c(ANA + "churn-model/"),
            admin(write=True),
            lambda c: {"churn_horizon_months": 9},
        ),  # fmt: skip
    ],
    "api_analytics_refresh": [Door("post", _c(ANA + "refresh/"), admin(write=True), lambda c: {})],
    "api_analytics_warnings": [
        Door("get", _c(ANA + "warnings/"), obj("analytics_report", "view")),
        Door("post", _c(ANA + "warnings/"), admin(write=True), lambda c: {}),
    ],
    "api_analytics_report": [
        Door("get", _c(ANA + "reports/cancellations/"), obj("analytics_report", "view")),
        Door(
            "get",
            _c(ANA + "reports/bookings_by_month/?format=csv"),
            obj("analytics_report", "export"),
        ),  # fmt: skip
    ],
    # Tenant-defined objects.
    "api_records": [
        Door("get", _c(THING), obj("mx_thing", "view")),
        Door("post", _c(THING), obj("mx_thing", "create"), lambda c: {}),
    ],
    "api_records_bulk": [
        Door(
            "post",
            _c(THING + "bulk/"),
            any_of("mx_thing", "create", "edit"),
            lambda c: {"records": [{}]},
        )  # fmt: skip
    ],
    "api_record": [
        Door("get", _c(THING + "{thing}/"), obj("mx_thing", "view")),
        Door("patch", _c(THING + "{thing}/"), obj("mx_thing", "edit"), lambda c: {}),
        Door("delete", _c(THING + "{extra_thing}/"), obj("mx_thing", "delete")),
    ],
    **_collection_doors(),
}
# The same view on a second pattern (OTA with a trailing slash).
UNNAMED = {"api/v1/reservations/ota/": "api_reservations_ota"}


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name


def test_every_route_is_a_door_of_the_matrix():
    from saas.urls.tenant import urlpatterns

    missing = []
    for route, name in _routes(urlpatterns):
        key = name or UNNAMED.get(route)
        if key not in DOORS:
            missing.append(route)
    assert missing == [], (
        "Routes that the access matrix does not drive; add them to DOORS with what they "
        f"need: {missing}"
    )


# --- the fixture -------------------------------------------------------------------------


def _fingerprint() -> int:
    """Rows this transaction has inserted, updated or deleted in the tenant schema so
    far (PostgreSQL's per-transaction table statistics; sessions and sign-in attempts
    aside): a refused request must not move it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) "
            "FROM pg_stat_xact_user_tables WHERE schemaname = current_schema() "
            "AND relname NOT IN ('django_session', 'axes_accessattempt', 'axes_accesslog', "
            "'axes_accessfailurelog')"
        )
        return int(cursor.fetchone()[0])


def _world(tenant) -> dict:
    from crm.loyalty.services.ledger import points_adjust
    from crm.loyalty.services.members import member_enrol
    from crm.loyalty.services.programme import tier_create
    from crm.loyalty.services.redemptions import redemption_reserve, reward_create
    from crm.service.services.levels import service_level_create
    from crm.service.services.surveys import invitation_create, survey_answer, survey_create
    from crm.services.activities import activity_create
    from crm.services.cases import case_create
    from crm.services.companies import company_create
    from crm.services.properties import rate_plan_create, room_type_create
    from metadata.services.definitions import custom_field_create, object_definition_create
    from metadata.services.modules import module_set_enabled
    from metadata.services.records import record_create
    from metadata.services.workflows import workflow_create
    from metadata.workflows.engine import workflow_run_manual
    from tenants.integrations.models import WebhookEndpoint
    from tenants.integrations.webhooks import secret_generate
    from tenants.jobs.services import job_enqueue
    from tests.crm.factories import make_guest, make_property, make_reservation

    for module in ("sales", "service", "loyalty", "analytics", "marketing"):
        module_set_enabled(key=module, enabled=True, actor=SYSTEM)
    hotel_a, hotel_b = make_property(code="MXA"), make_property(code="MXB")
    guest_a = make_guest(surname="Alpha", birth_date=date(1980, 5, 17))
    guest_b = make_guest(surname="Bravo")
    stay_a = make_reservation(property=hotel_a, guest=guest_a)
    make_reservation(property=hotel_b, guest=guest_b)
    object_definition_create(
        api_name="mx_thing", label="Thing", label_plural="Things", module="guests", actor=SYSTEM
    )
    custom_field_create(
        object_api_name="guest", api_name="mx_note", label="Note", type="text", actor=SYSTEM
    )
    workflow = workflow_create(
        key="mx_flow",
        name="Matrix",
        object_api_name="guest",
        trigger={"type": "manual"},
        actions=[{"type": "add_tag", "tag": "mx"}],
        actor=SYSTEM,
    )
    [run] = workflow_run_manual(workflow=workflow, record_ids=[guest_a.pk], actor=SYSTEM)
    admin = User.objects.get(email=f"admin@{tenant.slug}.test")
    victim = User.objects.create_user(email="victim@alpha.test", password=PASSWORD)
    tier_create(key="mx-tier", name="Tier", rank=0, actor=SYSTEM)
    member = member_enrol(guest=guest_b, actor=SYSTEM)
    points_adjust(member=member, points=100_000, reason="matrix", actor=SYSTEM)
    reward = reward_create(key="mx-reward", name="Reward", points=10, actor=SYSTEM)
    survey = survey_create(
        key="mx-survey",
        title="Survey",
        questions=[{"key": "nps", "kind": "nps", "text": "Recommend?"}],
        actor=SYSTEM,
    )
    answer = survey_answer(
        invitation=invitation_create(
            survey=survey, guest=guest_a, reservation=stay_a, actor=SYSTEM
        ),
        answers={"nps": 9},
    )
    from crm.analytics.services.scores import scores_refresh
    from crm.service.services.desk import assignment_rule_create, compensation_request

    troubled = case_create(subject="Matrix compensation", property=hotel_a, actor=SYSTEM)
    some_agent = User.objects.filter(is_active=True).order_by("pk").first()
    scores_refresh(actor=SYSTEM)  # every guest has a score row (guest B's: hotel B's)
    from crm.marketing.services.campaigns import campaign_create
    from crm.marketing.services.offers import code_create_shared, offer_create
    from crm.marketing.services.segments import segment_create
    from crm.marketing.services.templates import template_create

    offer = offer_create(
        key="mx-offer", name="Offer", discount_kind="percent", discount_value=10, actor=SYSTEM
    )
    code_create_shared(offer=offer, code="MXCODE", max_uses=None, actor=SYSTEM)
    segment = segment_create(name="Matrix", actor=SYSTEM)
    mtemplate = template_create(
        key="mx-template",
        name="Matrix",
        contents={"en": {"subject": "Hello", "body": "Dear {{ guest.first_name }}"}},
        actor=SYSTEM,
    )
    campaign = campaign_create(name="Matrix", segment=segment, template=mtemplate, actor=SYSTEM)
    return {
        "compensation": compensation_request(
            case=troubled, kind="voucher", amount="10", actor=SYSTEM
        ).pk,
        "rule": assignment_rule_create(
            values={"name": "Matrix", "agents": [some_agent.pk]}, actor=SYSTEM
        ).pk,
        "scored_guest": guest_b.pk,
        "offer": offer.pk,
        "segment": segment.pk,
        "mtemplate": mtemplate.pk,
        "campaign": campaign.pk,
        "level": service_level_create(
            priority="low", first_response_minutes=60, resolution_minutes=600, actor=SYSTEM
        ).pk,
        "survey": survey.pk,
        "survey_response": answer.pk,
        "member": member.pk,
        "reward": reward.pk,
        "redemption": redemption_reserve(member=member, reward=reward, actor=SYSTEM).pk,
        "hotel_a": hotel_a.pk,
        "hotel_b": hotel_b.pk,
        "guest_a": guest_a.pk,
        "stay_a": stay_a.pk,
        "company": company_create(name="Matrix Travel", actor=SYSTEM).pk,
        "room_type": room_type_create(property=hotel_a, code="MXR", name="Room", actor=SYSTEM).pk,
        "rate_plan": rate_plan_create(property=hotel_a, code="MXP", name="Rate", actor=SYSTEM).pk,
        "case_a": case_create(subject="Matrix", property=hotel_a, actor=SYSTEM).pk,
        "thing": record_create(object_api_name="mx_thing", name="T", data={}, actor=SYSTEM).pk,
        "extra_thing": 0,  # made fresh before each delete
        "workflow": workflow.pk,
        "run": run.pk,
        "job": job_enqueue(kind="diagnostic", created_by=admin).pk,
        "endpoint": WebhookEndpoint.objects.create(
            url="https://hooks.example.com/in", event_types=["*"], secret=secret_generate()
        ).pk,
        "victim": victim.pk,
        "activity": activity_create(
            object_api_name="guest", record_id=guest_a.pk, kind="note", body="N", actor=SYSTEM
        ).pk,
        "task": activity_create(
            object_api_name="guest", record_id=guest_a.pk, kind="task", subject="T", actor=SYSTEM
        ).pk,
        "grant": temporary_grant_create(
            user=victim,
            object_api_name="guest",
            action="export",
            expires_at=timezone.now() + timedelta(days=1),
            reason="matrix",
            actor=SYSTEM,
        ).pk,
    }


def _principals(tenant, ctx: dict) -> list[Who]:
    people = []
    for key in SEEDED:
        user = User.objects.create_user(email=f"mx-{key}@alpha.test", password=PASSWORD)
        user_roles_set(user=user, roles=Role.objects.filter(key=key), actor=SYSTEM)
        people.append(Who(key, user))
    custom = role_create(key="mx_reader", name="Guest reader", actor=SYSTEM)
    role_object_permission_set(
        role=custom, target="guest", actions=["view"], field_default="read", actor=SYSTEM
    )
    user = User.objects.create_user(email="mx-custom@alpha.test", password=PASSWORD)
    user_roles_set(user=user, roles=[custom], actor=SYSTEM)
    people.append(Who("custom role", user))
    scoped = User.objects.create_user(email="mx-hotel-b@alpha.test", password=PASSWORD)
    user_roles_set(
        user=scoped, roles=Role.objects.filter(key__in=["front_office", "service_agent"]),
        actor=SYSTEM,
    )  # fmt: skip
    user_property_scope_set(user=scoped, property_ids=[ctx["hotel_b"]], actor=SYSTEM)
    people.append(Who("hotel B front office", scoped))
    admin = User.objects.get(email=f"admin@{tenant.slug}.test")
    for scopes in (("guests:read",), ("reservations:write",), ("admin:read",)):
        people.append(Who(f"admin key {','.join(scopes)}", admin, scopes))
    people.append(Who("nobody", None))
    return [
        Who(w.label, User.objects.get(pk=w.user.pk) if w.user else None, w.scopes) for w in people
    ]


def _client(tenant, who: Who, *, api: bool) -> Client | None:
    host = f"{tenant.slug}.test"
    if who.scopes is not None:
        if not api:
            return None  # keys open no screen
        token = api_key_create(
            name="matrix", user=who.user, scopes=list(who.scopes), actor=SYSTEM
        ).plaintext
        return Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {token}")
    client = Client(HTTP_HOST=host)
    if who.user is not None:
        response = client.post("/login/", {"username": who.user.email, "password": PASSWORD})
        assert response.status_code == 302, (who.label, response.content[:200])
    return client


def _call(client: Client, door: Door, ctx: dict):
    path = door.path(ctx)
    if door.method in ("get", "delete"):
        return getattr(client, door.method)(path)
    body = door.body(ctx) if door.body else {}
    if door.api:
        return getattr(client, door.method)(path, json.dumps(body), content_type="application/json")
    return client.post(path, body)


def _refused(response, door: Door, expected: str) -> bool:
    if expected == "anonymous":
        if door.api:
            return response.status_code in (401, 403)
        return response.status_code == 302 and "/login/" in response["Location"]
    if response.status_code != 403:
        return False
    if door.api:
        code = response.json()["errors"][0]["code"]
        return code in ("permission_denied", "module_disabled", "not_authenticated")
    return True


def _mask_problem(who: Who, object_api_name: str, response) -> str | None:
    """Records returned carry only fields the policy lets this principal read, and a
    sensitive field returned left an audit row."""
    from tenants.access import registry
    from tenants.access.models import AuditEvent

    if response.status_code != 200 or "json" not in response.get("Content-Type", ""):
        return None
    body = response.json()
    rows = body.get("results") if isinstance(body.get("results"), list) else [body]
    spec = registry.object_spec(object_api_name)
    for row in rows:
        if not isinstance(row, dict) or "id" not in row:
            continue
        names = [k for k in row if k not in ("id", "custom")] + list(row.get("custom") or {})
        visible = who.principal.fields_visible(object_api_name, fields=names)
        leaked = sorted(set(names) - visible)
        if leaked:
            return f"returned fields the policy hides: {leaked}"
        values = {**row, **(row.get("custom") or {})}
        # A sensitive field read with a value in it is audited (an empty one tells nothing).
        sensitive = [n for n in names if spec.is_sensitive(n) and values.get(n) not in EMPTY]
        if (
            sensitive
            and not AuditEvent.objects.filter(
                action="sensitive_read", actor=who.user, object_api_name=object_api_name
            ).exists()
        ):
            return f"sensitive fields {sensitive} read without an audit row"
    return None


def test_every_door_decides_as_the_policy_does(tenant_a, settings):
    settings.ATRIUM_WORKFLOWS_INLINE = False
    with tenant_context(tenant_a):
        ctx = _world(tenant_a)
        people = _principals(tenant_a, ctx)
        # The detector of writes detects writes (in a savepoint rolled back, too).
        from crm.models import Guest

        before = _fingerprint()
        Guest.objects.filter(pk=ctx["guest_a"]).update(vip_level=1)
        assert _fingerprint() > before
    failures = []
    checked = 0
    for who in people:
        clients = {api: _client(tenant_a, who, api=api) for api in (True, False)}
        for name, doors in DOORS.items():
            for door in doors:
                client = clients[door.api]
                if client is None:
                    continue
                if door.path(ctx).startswith("/logout/") and who.user is not None:
                    continue  # signing out would end this principal's session
                with tenant_context(tenant_a):
                    if "{extra_thing}" in door.template:
                        from metadata.services.records import record_create

                        ctx["extra_thing"] = record_create(
                            object_api_name="mx_thing", name="X", data={}, actor=SYSTEM
                        ).pk
                    expected = decision(who, door.need, ctx)
                    before = _fingerprint() if expected in ("deny", "anonymous") else None
                client.raise_request_exception = False
                response = _call(client, door, ctx)
                checked += 1
                where = (who.label, name, door.method.upper(), door.path(ctx))
                if expected == "allow":
                    # A public door may send anyone to the sign-in page (signing out does).
                    refused = response.status_code in (401, 403) or (
                        door.need.kind != "public"
                        and response.status_code == 302
                        and "/login/" in response.get("Location", "")
                    )
                    if refused or response.status_code >= 500:
                        failures.append((*where, "allowed by policy", response.status_code))
                    elif door.api and door.method == "get" and door.need.object:
                        with tenant_context(tenant_a):
                            problem = _mask_problem(who, door.need.object, response)
                        if problem:
                            failures.append((*where, problem, response.status_code))
                elif expected == "hidden":
                    if response.status_code != 404:
                        failures.append((*where, "out of hotel scope", response.status_code))
                else:
                    if not _refused(response, door, expected):
                        failures.append((*where, f"policy says {expected}", response.status_code))
                    with tenant_context(tenant_a):
                        if _fingerprint() != before:
                            failures.append((*where, "refused but wrote", response.status_code))
    assert checked > 1000
    assert failures == [], "\n".join(map(str, failures))
