"""Bulk import of guests, companies and reservations from CSV/XLSX.

Rows are read in chunks; every row is parsed and validated in Python against data
preloaded once per chunk (properties, existing external ids), then each chunk is
written with a handful of set-based statements (INSERT ... ON CONFLICT DO UPDATE for
upserts). A dry run does everything but the writes. Invalid rows are reported with
every error they have and skipped; valid rows are imported."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from crm.models import (
    Company,
    CustomerType,
    Guest,
    GuestAddress,
    GuestEmail,
    GuestExternalId,
    GuestPhone,
    ImportUpload,
    Property,
    RatePlan,
    RecordChange,
    Reservation,
    ReservationGuest,
    RoomType,
)
from crm.services.audit import SENSITIVE_FIELDS
from crm.services.bulk import copy_insert, ids_reserve
from crm.services.common import json_safe, money_round
from crm.services.custom import custom_clean
from crm.services.guests import guest_statistics_refresh
from crm.services.tabular import file_errors_named, file_format_of, table_count, table_rows
from metadata.types import country_codes
from tenants.access import registry
from tenants.access.errors import AccessDenied
from tenants.access.principal import Principal
from tenants.validators import active_currencies

CHUNK = 2000
JOB_KIND = "crm.import"
IMPORT_OBJECTS = ("guest", "company", "reservation")


class CellError(Exception):
    pass


# --- cell parsers: take the raw cell (str, or a typed XLSX value), return the value ----


def _text(limit: int) -> Callable:
    def parse(value) -> str:
        text = str(value).strip()
        if len(text) > limit:
            raise CellError(f"is longer than {limit} characters")
        return text

    return parse


def _upper_text(limit: int) -> Callable:
    inner = _text(limit)
    return lambda value: inner(value).upper()


def _date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10] if len(text) > 10 and text[10] in "T " else text)
    except ValueError:
        raise CellError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


def _int(low: int, high: int) -> Callable:
    def parse(value) -> int | None:
        text = str(value).strip()
        if not text:
            return None
        try:
            number = int(float(text)) if isinstance(value, float) else int(text)
        except ValueError:
            raise CellError(f"{text!r} is not a whole number") from None
        if not low <= number <= high:
            raise CellError(f"{number} is not between {low} and {high}")
        return number

    return parse


def _decimal(value) -> Decimal | None:
    text = str(value).strip().replace(",", "")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise CellError(f"{text!r} is not an amount") from None
    if number < 0 or not number.is_finite():
        raise CellError(f"{text} must be zero or more")
    return number


def _choice(choices: Iterable[str]) -> Callable:
    allowed = {c.lower(): c for c in choices}

    def parse(value) -> str:
        text = str(value).strip().lower().replace("-", "_").replace(" ", "_")
        if not text:
            return ""
        if text not in allowed:
            raise CellError(f"{value!r} is not one of {', '.join(sorted(allowed))}")
        return allowed[text]

    return parse


def _email(value) -> str:
    text = str(value).strip()
    if not text:
        return ""
    try:
        validate_email(text)
    except ValidationError:
        raise CellError(f"{text!r} is not a valid e-mail address") from None
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


def _country(value) -> str:
    code = str(value).strip().upper()
    if code and code not in country_codes():
        raise CellError(f"{value!r} is not an ISO 3166 country code")
    return code


def _currency(value) -> str:
    code = str(value).strip().upper()
    if code and code not in active_currencies():
        raise CellError(f"{value!r} is not an ISO 4217 currency code")
    return code


def _language(value) -> str:
    from crm.services.common import LANGUAGE_RE

    code = str(value).strip().lower().replace("_", "-")
    if code and not LANGUAGE_RE.fullmatch(code):
        raise CellError(f"{value!r} is not a language code")
    return code


def _tags(value) -> list[str]:
    return sorted({t.strip().lower() for t in str(value).split(",") if t.strip()})


def _phone(value, region: str | None) -> str:
    text = str(value).strip()
    if not text:
        return ""
    try:
        parsed = phonenumbers.parse(text, region or None)
    except phonenumbers.NumberParseException:
        raise CellError(f"{text!r} is not a phone number (use +country code)") from None
    if not phonenumbers.is_possible_number(parsed):
        raise CellError(f"{text!r} is not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# --- per-object specifications -------------------------------------------------------

GUEST_COLUMNS: dict[str, Callable] = {
    "external_source": _upper_text(40),
    "external_id": _text(100),
    "external_property": _upper_text(20),
    "name_prefix": _text(20),
    "given_name": _text(100),
    "middle_name": _text(100),
    "surname": _text(100),
    "name_suffix": _text(20),
    "birth_date": _date,
    "gender": _choice(["female", "male", "other"]),
    "nationality": _country,
    "language": _language,
    "email": _email,
    "email2": _email,
    "phone": str,
    "phone2": str,
    "customer_type": _choice(CustomerType.values),
    "vip_level": _int(0, 9),
    "tags": _tags,
    "id_document_type": _choice(
        ["passport", "national_id", "driving_licence", "residence_permit", "other"]
    ),
    "id_document_number": _upper_text(60),
    "id_document_expiry": _date,
    "id_document_country": _country,
    "address_line1": _text(200),
    "address_city": _text(100),
    "address_postal_code": _text(20),
    "address_country": _country,
}
GUEST_MODEL_FIELDS = (
    "name_prefix",
    "given_name",
    "middle_name",
    "surname",
    "name_suffix",
    "birth_date",
    "gender",
    "nationality",
    "language",
    "customer_type",
    "vip_level",
    "tags",
    "id_document_type",
    "id_document_number",
    "id_document_expiry",
    "id_document_country",
)
COMPANY_COLUMNS: dict[str, Callable] = {
    "external_id": _text(100),
    "name": _text(200),
    "kind": _choice(Company.Kind.values),
    "iata_number": _text(20),
    "tax_id": _text(40),
    "email": _email,
    "phone": str,
    "website": _text(200),
    "address_line1": _text(200),
    "city": _text(100),
    "postal_code": _text(20),
    "country": _country,
}
RESERVATION_COLUMNS: dict[str, Callable] = {
    "property": _upper_text(20),
    "confirmation_number": _text(40),
    "status": _choice(Reservation.Status.values),
    "channel": _text(40),
    "market_code": _text(20),
    "source_of_business": _text(40),
    "arrival": _date,
    "departure": _date,
    "room_type": _upper_text(20),
    "rate_plan": _upper_text(20),
    "adults": _int(1, 99),
    "children": _int(0, 99),
    "total_amount": _decimal,
    "currency": _currency,
    "guest_source": _upper_text(40),
    "guest_external_id": _text(100),
    "booker_company_external_id": _text(100),
}
COLUMNS = {"guest": GUEST_COLUMNS, "company": COMPANY_COLUMNS, "reservation": RESERVATION_COLUMNS}
REQUIRED = {
    "guest": ("surname",),
    "company": ("name",),
    "reservation": (
        "property",
        "confirmation_number",
        "arrival",
        "departure",
        "total_amount",
        "guest_external_id",
    ),
}

# Cells that must not be empty (a guest needs a surname *or* a given name: checked later).
ROW_REQUIRED = {**REQUIRED, "guest": ()}


@dataclass
class Report:
    object_api_name: str
    dry_run: bool
    rows: int = 0
    valid: int = 0
    invalid: int = 0
    created: int = 0
    updated: int = 0
    errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "object": self.object_api_name,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "valid": self.valid,
            "invalid": self.invalid,
            ("would_create" if self.dry_run else "created"): self.created,
            ("would_update" if self.dry_run else "updated"): self.updated,
            "errors": self.errors,
        }


def mapping_clean(*, object_api_name: str, header: list[str], mapping: dict | None) -> dict:
    """Column header -> target (an importable field or ``custom.<api_name>``). Without a
    mapping, headers that name a field map to it. Unknown targets are refused."""
    if object_api_name not in COLUMNS:
        raise ValidationError(
            {"object_api_name": f"{object_api_name} cannot be imported ({', '.join(COLUMNS)})."}
        )
    columns = COLUMNS[object_api_name]
    if mapping is None:
        mapping = {h: h for h in header if h in columns or h.startswith("custom.")}
    missing = [h for h in mapping if h not in header]
    unknown = [t for t in mapping.values() if t not in columns and not t.startswith("custom.")]
    errors = {}
    if missing:
        errors["mapping"] = f"Columns not in the file: {', '.join(missing)}."
    if unknown:
        errors["mapping"] = f"Unknown target fields: {', '.join(unknown)}."
    lacking = [r for r in REQUIRED[object_api_name] if r not in mapping.values()]
    if lacking:
        errors["mapping"] = f"Required fields not mapped: {', '.join(lacking)}."
    if errors:
        raise ValidationError(errors)
    return mapping


def _parse(object_api_name: str, raw: dict) -> tuple[dict, dict, list[dict]]:
    """Returns (values, custom values, errors) for one row of target -> raw cell."""
    columns = COLUMNS[object_api_name]
    values: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    errors: list = []
    for target, cell in raw.items():
        if target.startswith("custom."):
            if cell not in ("", None):
                custom[target[len("custom.") :]] = cell
            continue
        if columns[target] is str:
            values[target] = str(cell).strip()
            continue
        try:
            values[target] = columns[target](cell) if cell not in ("", None) else None
        except CellError as exc:
            errors.append({"field": target, "message": f"{target}: {exc}"})
    for name in ROW_REQUIRED[object_api_name]:
        if (
            name in raw
            and values.get(name) in (None, "")
            and not any(e["field"] == name for e in errors)
        ):
            errors.append({"field": name, "message": f"{name} is required"})
    if custom:
        try:
            custom = custom_clean(object_api_name=object_api_name, values=custom, partial=True)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.extend({"field": f"custom.{name}", "message": m} for m in messages)
    return values, custom, errors


class _Importer:
    object_api_name = ""

    def __init__(self, *, dry_run: bool, actor: Principal, report: Report):
        self.dry_run, self.actor, self.report = dry_run, actor, report
        self.user_id = actor.user_id
        self.seen: dict[tuple, int] = {}
        self.properties = {p.code: p for p in Property.objects.all()}
        # Hotels the importing principal may write to (None: every hotel).
        self.property_ids = actor.property_ids()

    def out_of_scope(self, found: dict[tuple, int]) -> set[tuple]:
        """Keys of existing records the principal's hotel scope does not reach: such
        rows are refused (an import cannot change what its author cannot see)."""
        if self.property_ids is None or not found:
            return set()
        model = {"guest": Guest, "company": Company, "reservation": Reservation}[
            self.object_api_name
        ]
        ids = set(found.values())
        visible = set(
            self.actor.scope(
                self.object_api_name, model._default_manager.filter(pk__in=ids)
            ).values_list("pk", flat=True)
        )
        return {key for key, pk in found.items() if pk not in visible}

    def key(self, values: dict) -> tuple | None:  # the upsert key of a row
        return None

    def check(self, values: dict, errors: list[dict]) -> None:  # cross-field rules
        pass

    def existing(self, keys: list[tuple]) -> dict[tuple, int]:
        return {}

    def write(self, rows: list[tuple[int, dict, dict, tuple | None]], found: dict) -> None:
        raise NotImplementedError

    def chunk(self, rows: list[tuple[int, dict]]) -> None:
        good = []
        for number, raw in rows:
            values, custom, errors = _parse(self.object_api_name, raw)
            if not errors:
                self.check(values, errors)
            key = self.key(values) if not errors else None
            if key is not None:
                if key in self.seen:
                    errors.append(
                        {
                            "field": "external_id",
                            "message": f"duplicate external id in file (first at row "
                            f"{self.seen[key]})",
                        }
                    )
                else:
                    self.seen[key] = number
            if errors:
                self.report.invalid += 1
                self.report.errors.append({"row": number, "errors": errors})
                continue
            self.report.valid += 1
            good.append((number, values, custom, key))
        found = self.existing([k for _, _, _, k in good if k is not None])
        good = self.scope_check(good, found)
        good = self.new_records_check(good, found)
        updates = sum(1 for _, _, _, k in good if k is not None and k in found)
        self.report.updated += updates
        self.report.created += len(good) - updates
        if good and not self.dry_run:
            with transaction.atomic():
                self.write(good, found)

    def scope_check(self, good: list, found: dict) -> list:
        refused = self.out_of_scope(found)
        if not refused:
            return good
        kept = []
        for number, values, custom, key in good:
            if key in refused:
                self.report.valid -= 1
                self.report.invalid += 1
                self.report.errors.append(
                    {
                        "row": number,
                        "errors": [
                            {
                                "field": "external_id",
                                "message": "this record belongs to a hotel outside your scope",
                            }
                        ],
                    }
                )
                continue
            kept.append((number, values, custom, key))
        return kept

    def new_records_check(self, good: list, found: dict) -> list:
        """Rows that create a record must satisfy the custom fields as a whole (e.g.
        required ones), not only value by value."""
        kept = []
        for number, values, custom, key in good:
            if key is None or key not in found:
                try:
                    custom = custom_clean(
                        object_api_name=self.object_api_name, values=custom, partial=False
                    )
                except ValidationError as exc:
                    self.report.valid -= 1
                    self.report.invalid += 1
                    self.report.errors.append(
                        {
                            "row": number,
                            "errors": [
                                {"field": f"custom.{name}", "message": message}
                                for name, messages in exc.message_dict.items()
                                for message in messages
                            ],
                        }
                    )
                    continue
            kept.append((number, values, custom, key))
        return kept

    def audit(self, created: list[int], changes: list[RecordChange]) -> None:
        """The audit rows of a chunk, and its record events: every imported record is
        announced like a single write (``<object>.created``/``updated``), so webhooks and
        workflows hear of imports too. Values travel as the audit trail shows them
        (sensitive ones as ``[encrypted]``)."""
        rows = [
            RecordChange(
                object_api_name=self.object_api_name,
                record_id=str(pk),
                action=RecordChange.Action.IMPORT,
                user_id=self.user_id,
            )
            for pk in created
        ]
        copy_insert(RecordChange, rows + changes)
        from crm.services.audit import _shown
        from metadata import events

        model = {"guest": Guest, "company": Company, "reservation": Reservation}[
            self.object_api_name
        ]
        columns = [
            f.attname
            for f in model._meta.concrete_fields
            if not f.primary_key and f.name not in ("created", "updated", "erased_at")
        ]
        for row in model._default_manager.filter(pk__in=created).values("pk", *columns):
            pk = row.pop("pk")
            events.record_event_emit(
                object_api_name=self.object_api_name,
                action=events.CREATED,
                record_id=pk,
                new={name: _shown(name, value) for name, value in row.items()},
                user_id=self.user_id,
            )
        updated: dict[str, tuple[dict, dict]] = {}
        for change in changes:
            old, new = updated.setdefault(change.record_id, ({}, {}))
            old[change.field], new[change.field] = change.old, change.new
        for record_id, (old, new) in updated.items():
            events.record_event_emit(
                object_api_name=self.object_api_name,
                action=events.UPDATED,
                record_id=record_id,
                old=old,
                new=new,
                user_id=self.user_id,
            )

    def diff(self, pk: int, old: dict, new: dict, fields: Iterable[str]) -> list[RecordChange]:
        out = []
        for name in fields:
            before, after = json_safe(old.get(name)), json_safe(new.get(name))
            if before != after:
                masked = name in SENSITIVE_FIELDS
                out.append(
                    RecordChange(
                        object_api_name=self.object_api_name,
                        record_id=str(pk),
                        action=RecordChange.Action.UPDATE,
                        field=name,
                        old="[encrypted]" if masked and before else before,
                        new="[encrypted]" if masked and after else after,
                        user_id=self.user_id,
                    )
                )
        return out


class GuestImporter(_Importer):
    object_api_name = "guest"

    def check(self, values, errors):
        prop_code = values.get("external_property")
        if prop_code and prop_code not in self.properties:
            errors.append(
                {"field": "external_property", "message": f"unknown property {prop_code!r}"}
            )
        region = values.get("nationality") or None
        for name in ("phone", "phone2"):
            if values.get(name):
                try:
                    values[name] = _phone(values[name], region)
                except CellError as exc:
                    errors.append({"field": name, "message": f"{name}: {exc}"})
        if values.get("id_document_number") and not values.get("id_document_type"):
            errors.append(
                {
                    "field": "id_document_type",
                    "message": "id_document_type is required with a number",
                }
            )
        if not values.get("surname") and not values.get("given_name"):
            errors.append({"field": "surname", "message": "surname is required"})

    def key(self, values):
        if not values.get("external_id"):
            return None
        prop = self.properties.get(values.get("external_property") or "")
        return (
            values.get("external_source") or "IMPORT",
            prop.pk if prop else None,
            values["external_id"],
        )

    def existing(self, keys):
        if not keys:
            return {}
        ids = {k[2] for k in keys}
        wanted = set(keys)
        return {
            (s, p, e): g
            for s, p, e, g in GuestExternalId.objects.filter(external_id__in=ids).values_list(
                "source", "property_id", "external_id", "guest_id"
            )
            if (s, p, e) in wanted
        }

    def write(self, rows, found):
        mapped = {name for _, values, _, _ in rows for name in values}
        model_fields = [f for f in GUEST_MODEL_FIELDS if f in mapped]
        new_rows = [r for r in rows if r[3] is None or r[3] not in found]
        old_rows = [r for r in rows if r[3] is not None and r[3] in found]

        def guest_of(values: dict, custom: dict, base: Guest | None = None) -> Guest:
            guest = base or Guest()
            for name in model_fields:
                value = values.get(name)
                if value is None:
                    value = [] if name == "tags" else (0 if name == "vip_level" else "")
                    if name in ("birth_date", "id_document_expiry"):
                        value = None
                    if name == "customer_type":
                        value = CustomerType.INDIVIDUAL
                setattr(guest, name, value)
            if values.get("email"):
                guest.email = values["email"]
            if values.get("phone"):
                guest.phone = values["phone"]
            if custom:
                guest.custom = {**(guest.custom or {}), **custom}
            return guest

        created = [guest_of(v, c) for _, v, c, _ in new_rows]
        for guest, pk in zip(created, ids_reserve(Guest, len(created)), strict=True):
            guest.pk = guest.id = pk
        copy_insert(Guest, created, with_pk=True)
        ids_of_new = {g.pk for g in created}

        changes: list[RecordChange] = []
        if old_rows:
            watched = [*model_fields, "email", "phone", "custom"]
            existing = Guest.objects.in_bulk([found[k] for _, _, _, k in old_rows])
            updated = []
            for _, values, custom, key in old_rows:
                guest = existing[found[key]]
                before = {name: getattr(guest, name) for name in watched}
                before["custom"] = dict(guest.custom)
                guest_of(values, custom, guest)
                after = {name: getattr(guest, name) for name in watched}
                changes.extend(self.diff(guest.pk, before, after, watched))
                updated.append(guest)
            Guest.objects.bulk_create(
                updated,
                update_conflicts=True,
                unique_fields=["id"],
                update_fields=[*watched, "updated"],
            )

        everyone = [(g.pk, v, k) for g, (_, v, _, k) in zip(created, new_rows, strict=True)]
        everyone += [(found[k], v, k) for _, v, _, k in old_rows]
        if old_rows:
            # The file's e-mail / phone become the primary ones of updated guests.
            GuestEmail.objects.filter(
                guest_id__in=[found[k] for _, v, _, k in old_rows if v.get("email")]
            ).update(is_primary=False)
            GuestPhone.objects.filter(
                guest_id__in=[found[k] for _, v, _, k in old_rows if v.get("phone")]
            ).update(is_primary=False)
        emails, phones, addresses, external = [], [], [], []
        for pk, values, key in everyone:
            for name, primary in (("email", True), ("email2", False)):
                if values.get(name) and not (not primary and values[name] == values.get("email")):
                    emails.append(GuestEmail(guest_id=pk, email=values[name], is_primary=primary))
            for name, primary in (("phone", True), ("phone2", False)):
                if values.get(name) and not (not primary and values[name] == values.get("phone")):
                    phones.append(GuestPhone(guest_id=pk, number=values[name], is_primary=primary))
            if pk in ids_of_new and any(
                values.get(n) for n in ("address_line1", "address_city", "address_country")
            ):
                addresses.append(
                    GuestAddress(
                        guest_id=pk,
                        line1=values.get("address_line1") or "",
                        city=values.get("address_city") or "",
                        postal_code=values.get("address_postal_code") or "",
                        country=values.get("address_country") or "",
                        is_primary=True,
                    )
                )
            if key is not None and pk in ids_of_new:
                external.append(
                    GuestExternalId(
                        guest_id=pk, source=key[0], property_id=key[1], external_id=key[2]
                    )
                )
        # Rows of new guests cannot clash: COPY them; the others upsert.
        copy_insert(GuestEmail, [e for e in emails if e.guest_id in ids_of_new])
        copy_insert(GuestPhone, [p for p in phones if p.guest_id in ids_of_new])
        emails = [e for e in emails if e.guest_id not in ids_of_new]
        phones = [p for p in phones if p.guest_id not in ids_of_new]
        GuestEmail.objects.bulk_create(
            emails,
            update_conflicts=True,
            unique_fields=["guest", "email"],
            update_fields=["is_primary"],
        )
        GuestPhone.objects.bulk_create(
            phones,
            update_conflicts=True,
            unique_fields=["guest", "number"],
            update_fields=["is_primary"],
        )
        copy_insert(GuestAddress, addresses)
        copy_insert(GuestExternalId, external)
        self.audit([g.pk for g in created], changes)


class CompanyImporter(_Importer):
    object_api_name = "company"
    FIELDS = tuple(n for n in COMPANY_COLUMNS if n != "external_id")

    def check(self, values, errors):
        if values.get("phone"):
            try:
                values["phone"] = _phone(values["phone"], values.get("country") or None)
            except CellError as exc:
                errors.append({"field": "phone", "message": f"phone: {exc}"})

    def key(self, values):
        return (values["external_id"],) if values.get("external_id") else None

    def existing(self, keys):
        return {
            (e,): pk
            for e, pk in Company.objects.filter(external_id__in=[k[0] for k in keys]).values_list(
                "external_id", "pk"
            )
        }

    def write(self, rows, found):
        mapped = [n for n in self.FIELDS if any(n in v for _, v, _, _ in rows)]
        existing = Company.objects.in_bulk([found[k] for _, _, _, k in rows if k in found])
        objs: list[Company] = []
        changes: list[RecordChange] = []
        new: list[Company] = []
        for _, values, custom, key in rows:
            company = existing.get(found.get(key)) if key else None
            before = {n: getattr(company, n) for n in [*mapped, "custom"]} if company else None
            company = company or Company(external_id=key[0] if key else None)
            for name in mapped:
                value = values.get(name)
                setattr(
                    company,
                    name,
                    value if value is not None else ("corporate" if name == "kind" else ""),
                )
            if custom:
                company.custom = {**company.custom, **custom}
            if before is not None:
                changes.extend(
                    self.diff(company.pk, before, {n: getattr(company, n) for n in before}, before)
                )
            (objs if company.pk else new).append(company)
        created = Company.objects.bulk_create(new)
        if objs:
            Company.objects.bulk_create(
                objs,
                update_conflicts=True,
                unique_fields=["id"],
                update_fields=[*mapped, "custom", "updated"],
            )
        self.audit([c.pk for c in created], changes)


class ReservationImporter(_Importer):
    """Reservations as the PMS has them: status is taken as given (the PMS is the
    source of truth, so no transition rule applies), keyed by property + confirmation
    number. The guest is found by its external id."""

    object_api_name = "reservation"
    FIELDS = (
        "status",
        "channel",
        "market_code",
        "source_of_business",
        "arrival",
        "departure",
        "adults",
        "children",
        "total_amount",
        "currency",
    )

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.room_types = {(r.property_id, r.code): r.pk for r in RoomType.objects.all()}
        self.rate_plans = {(r.property_id, r.code): r.pk for r in RatePlan.objects.all()}
        self.guest_ids: dict[tuple, int] = {}
        self.company_ids: dict[str, int] = {}

    def check(self, values, errors):
        prop = self.properties.get(values.get("property") or "")
        if prop is None:
            errors.append(
                {"field": "property", "message": f"unknown property {values.get('property')!r}"}
            )
            return
        if self.property_ids is not None and prop.pk not in self.property_ids:
            errors.append(
                {"field": "property", "message": f"{prop.code} is outside the hotels you work with"}
            )
            return
        values["property_id"] = prop.pk
        if values["departure"] <= values["arrival"]:
            errors.append({"field": "departure", "message": "departure must be after arrival"})
        for name, table in (("room_type", self.room_types), ("rate_plan", self.rate_plans)):
            code = values.get(name)
            if code:
                if (prop.pk, code) not in table:
                    errors.append(
                        {"field": name, "message": f"unknown {name} {code!r} at {prop.code}"}
                    )
                else:
                    values[f"{name}_id"] = table[(prop.pk, code)]
        values["currency"] = values.get("currency") or prop.currency

    def key(self, values):
        return (values["property_id"], values["confirmation_number"])

    def _resolve(self, good_rows: list) -> None:
        wanted = {
            (v.get("guest_source") or "IMPORT", v["guest_external_id"]) for _, v, _, _ in good_rows
        }
        for s, p, e, g in GuestExternalId.objects.filter(
            external_id__in={w[1] for w in wanted}
        ).values_list("source", "property_id", "external_id", "guest_id"):
            if (s, e) in wanted:
                self.guest_ids[(s, p, e)] = g
        ext = {
            v["booker_company_external_id"]
            for _, v, _, _ in good_rows
            if v.get("booker_company_external_id")
        }
        if ext:
            self.company_ids.update(
                (str(external_id), pk)
                for external_id, pk in Company.objects.filter(external_id__in=ext).values_list(
                    "external_id", "pk"
                )
            )

    def existing(self, keys):
        if not keys:
            return {}
        wanted = set(keys)
        return {
            (p, c): pk
            for p, c, pk in Reservation.objects.filter(
                confirmation_number__in={k[1] for k in keys}
            ).values_list("property_id", "confirmation_number", "pk")
            if (p, c) in wanted
        }

    def write(self, rows, found):
        existing = Reservation.objects.in_bulk([found[k] for _, _, _, k in rows if k in found])
        watched = [
            *self.FIELDS,
            "guest_id",
            "room_type_id",
            "rate_plan_id",
            "booker_company_id",
            "cancelled_at",
            "custom",
        ]
        objs, changes, touched = [], [], set()
        now = timezone.now()
        for _, values, custom, key in rows:
            res = existing.get(found.get(key)) if key in found else None
            before = {n: getattr(res, n) for n in watched} if res else None
            if res is None:
                res = Reservation(
                    property_id=values["property_id"],
                    confirmation_number=values["confirmation_number"],
                )
            else:
                touched.add(res.guest_id)
            for name in self.FIELDS:
                if name in values and values[name] is not None:
                    setattr(res, name, values[name])
            res.total_amount = money_round(res.total_amount, res.currency)
            res.guest_id = values["guest_id"]
            res.room_type_id = values.get("room_type_id", res.room_type_id)
            res.rate_plan_id = values.get("rate_plan_id", res.rate_plan_id)
            if "booker_company_id" in values:
                res.booker_company_id = values["booker_company_id"]
            if res.status == Reservation.Status.CANCELLED and not res.cancelled_at:
                res.cancelled_at = now
            elif res.status != Reservation.Status.CANCELLED:
                res.cancelled_at = None
            if custom:
                res.custom = {**res.custom, **custom}
            if before is not None:
                changes.extend(
                    self.diff(res.pk, before, {n: getattr(res, n) for n in watched}, watched)
                )
            touched.add(res.guest_id)
            objs.append(res)
        was = set(found.values())
        saved = Reservation.objects.bulk_create(
            objs,
            update_conflicts=True,
            unique_fields=["property", "confirmation_number"],
            update_fields=[*watched, "updated"],
        )
        ReservationGuest.objects.bulk_create(
            [
                ReservationGuest(reservation_id=r.pk, guest_id=r.guest_id, is_primary=True)
                for r in saved
            ],
            ignore_conflicts=True,
        )
        # A changed primary guest: the old one stays a companion unless the file says
        # otherwise; primacy follows Reservation.guest.
        ReservationGuest.objects.filter(reservation_id__in=[r.pk for r in saved]).exclude(
            guest_id__in=[r.guest_id for r in saved]
        ).update(is_primary=False)
        guest_statistics_refresh(guest_ids=touched)
        self.audit([r.pk for r in saved if r.pk not in was], changes)


IMPORTERS = {"guest": GuestImporter, "company": CompanyImporter, "reservation": ReservationImporter}


def _reservation_check_refs(importer: ReservationImporter, values: dict, errors: list) -> None:
    source = values.get("guest_source") or "IMPORT"
    ext = values["guest_external_id"]
    gid = importer.guest_ids.get((source, values["property_id"], ext)) or importer.guest_ids.get(
        (source, None, ext)
    )
    if gid is None:
        errors.append({"field": "guest_external_id", "message": f"unknown guest {source} {ext!r}"})
    else:
        values["guest_id"] = gid
    booker = values.get("booker_company_external_id")
    if booker:
        if booker not in importer.company_ids:
            errors.append(
                {"field": "booker_company_external_id", "message": f"unknown company {booker!r}"}
            )
        else:
            values["booker_company_id"] = importer.company_ids[booker]


def import_file(
    *,
    object_api_name: str,
    path: Path | str,
    mapping: dict | None = None,
    dry_run: bool = True,
    actor: Principal,
    progress: Callable[[int], None] | None = None,
    checkpoint: Callable[[dict, int], None] | None = None,
    resume: dict | None = None,
) -> dict:
    """Import (or with ``dry_run`` only check) a CSV/XLSX file. Returns the report:
    counts and every invalid row's errors (row numbers as a spreadsheet shows them,
    the header being row 1). The principal needs create and edit on the object (an
    import upserts) and the edit level of every mapped field; rows of hotels outside
    their scope are refused.

    A real import commits chunk by chunk. ``checkpoint(state, percent)`` is called inside
    each chunk's transaction once its rows are written, with ``state`` the last row
    number committed and the report so far; if it raises, the chunk rolls back. Given
    such a ``state`` as ``resume``, an import of the same file carries on after that row:
    every row is written once however often the import is interrupted. The rows before
    it are read again only so that a later duplicate of one of them is still refused;
    they are neither counted again nor written."""
    import_rights_require(actor, object_api_name)
    path = Path(path)
    file_format = file_format_of(path.name)
    report = Report(object_api_name=object_api_name, dry_run=dry_run)
    importer = IMPORTERS[object_api_name](dry_run=dry_run, actor=actor, report=report)
    total = table_count(path, file_format) if progress or checkpoint else 0
    committed = 1  # the header row
    if resume and not dry_run:
        committed = int(resume["row"])
        _report_restore(report, resume["report"])
    targets: list[tuple[int, str]] | None = None
    batch: list[tuple[int, dict]] = []
    replay: list[tuple[int, dict]] = []

    def percent() -> int:
        return min(99, int(report.rows * 100 / total)) if total else 0

    def run_chunk(rows: list[tuple[int, dict]]) -> None:
        # Outside a request nothing caches the rights and definitions versions, and every
        # row read them twice (custom values, workflows): once per chunk, as a request
        # reads them once. Changes made meanwhile apply from the next chunk.
        with registry.catalogue_cached():
            if isinstance(importer, ReservationImporter):
                _flush_reservations(importer, rows)
            else:
                importer.chunk(rows)

    def flush() -> None:
        if checkpoint is not None and not dry_run:
            with transaction.atomic():
                run_chunk(batch)
                checkpoint({"row": batch[-1][0], "report": _report_state(report)}, percent())
        else:
            run_chunk(batch)
        batch.clear()
        if progress and total:
            progress(percent())

    def replay_flush() -> None:
        _replay(importer, replay, run_chunk)
        replay.clear()

    for number, (header, row) in enumerate(table_rows(path, file_format), start=2):
        if targets is None:
            mapping = mapping_clean(object_api_name=object_api_name, header=header, mapping=mapping)
            actor.require_editable(object_api_name, import_fields(object_api_name, mapping))
            index = {h: i for i, h in enumerate(header)}
            targets = [(index[h], t) for h, t in mapping.items()]
        cells = {t: (row[i] if i < len(row) else "") for i, t in targets}
        if number <= committed:
            replay.append((number, cells))
            if len(replay) >= CHUNK:
                replay_flush()
            continue
        if replay:
            replay_flush()
        report.rows += 1
        batch.append((number, cells))
        if len(batch) >= CHUNK:
            flush()
    if replay:
        replay_flush()
    if batch:
        flush()
    report.errors.sort(key=lambda e: e["row"])
    return report.as_dict()


def _report_state(report: Report) -> dict:
    return {
        "rows": report.rows,
        "valid": report.valid,
        "invalid": report.invalid,
        "created": report.created,
        "updated": report.updated,
        "errors": report.errors,
    }


def _report_restore(report: Report, state: dict) -> None:
    for name in ("rows", "valid", "invalid", "created", "updated"):
        setattr(report, name, int(state[name]))
    report.errors = list(state["errors"])


def _replay(importer: _Importer, rows: list, run_chunk: Callable[[list], None]) -> None:
    """Rows an interrupted run already committed: through the dry-run path so that the
    importer learns their keys (a later duplicate is refused as before), into a report
    that is thrown away. Nothing is written."""
    real, dry_run = importer.report, importer.dry_run
    importer.report = Report(object_api_name=real.object_api_name, dry_run=True)
    importer.dry_run = True
    try:
        run_chunk(rows)
    finally:
        importer.report, importer.dry_run = real, dry_run


def _flush_reservations(importer: ReservationImporter, batch: list) -> None:
    """Reservations need their guests and companies resolved between parsing and the
    duplicate check, so they run the steps of _Importer.chunk with that in between."""
    parsed = []
    for number, raw in batch:
        values, custom, errors = _parse("reservation", raw)
        if not errors:
            importer.check(values, errors)
        parsed.append((number, values, custom, errors))
    importer._resolve([(n, v, c, None) for n, v, c, e in parsed if not e])
    good = []
    for number, values, custom, errors in parsed:
        if not errors:
            _reservation_check_refs(importer, values, errors)
        key = importer.key(values) if not errors else None
        if key is not None:
            if key in importer.seen:
                errors.append(
                    {
                        "field": "confirmation_number",
                        "message": "duplicate confirmation number in file (first at row "
                        f"{importer.seen[key]})",
                    }
                )
            else:
                importer.seen[key] = number
        if errors:
            importer.report.invalid += 1
            importer.report.errors.append({"row": number, "errors": errors})
        else:
            importer.report.valid += 1
            good.append((number, values, custom, key))
    found = importer.existing([k for *_, k in good])
    good = importer.scope_check(good, found)
    good = importer.new_records_check(good, found)
    updates = sum(1 for *_, k in good if k in found)
    importer.report.updated += updates
    importer.report.created += len(good) - updates
    if good and not importer.dry_run:
        with transaction.atomic():
            importer.write(good, found)


# --- rights -------------------------------------------------------------------------

# Import columns that write a related collection or a link, as the policy names them.
COLUMN_FIELDS = {
    "external_source": "external_ids",
    "external_id": "external_ids",
    "external_property": "external_ids",
    "email": "emails",
    "email2": "emails",
    "phone": "phones",
    "phone2": "phones",
    "address_line1": "addresses",
    "address_city": "addresses",
    "address_postal_code": "addresses",
    "address_country": "addresses",
    "guest_source": "guest",
    "guest_external_id": "guest",
    "booker_company_external_id": "booker_company",
}


def import_fields(object_api_name: str, mapping: dict) -> list[str]:
    """The fields a mapping writes, as the access policy names them (custom fields by
    api name). Companies keep their own external id as a plain field."""
    names = set()
    for target in mapping.values():
        if target.startswith("custom."):
            names.add(target[len("custom.") :])
        elif object_api_name == "company":
            names.add(target)
        else:
            names.add(COLUMN_FIELDS.get(target, target))
    return sorted(names)


def import_rights_require(actor: Principal, object_api_name: str) -> None:
    if object_api_name not in IMPORT_OBJECTS:
        known = ", ".join(IMPORT_OBJECTS)
        raise ValidationError(
            {"object_api_name": f"{object_api_name} cannot be imported ({known})."}
        )
    actor.require(object_api_name, "create")
    actor.require(object_api_name, "edit")


# --- uploads and the background job ---------------------------------------------------


def _upload_store(
    *, actor: Principal, object_api_name: str, file_name: str, content: bytes, mapping=None
) -> ImportUpload:
    suffix = "." + file_format_of(file_name)
    if not content:
        raise ValidationError({"file": "The file is empty."})
    upload = ImportUpload.objects.create(
        object_api_name=object_api_name,
        file_name=Path(file_name).name[:255],
        suffix=suffix,
        size=len(content),
        mapping=mapping,
        created_by_id=actor.user_id,
    )
    upload.folder().mkdir(parents=True, exist_ok=True)
    upload.path.write_bytes(content)
    return upload


def import_upload_get(*, actor: Principal, upload_id: str) -> ImportUpload:
    """An upload of this tenant that the principal made (administrators: any), or 400
    naming ``upload``. Malformed ids and other people's uploads look the same."""
    try:
        key = uuid.UUID(str(upload_id))
    except ValueError:
        key = None
    upload = ImportUpload.objects.filter(pk=key).first() if key else None
    if upload is not None and not (actor.is_admin or upload.created_by_id == actor.user_id):
        upload = None
    if upload is None or not upload.path.is_file():
        raise ValidationError({"upload": "That upload is gone; upload the file again."})
    return upload


def _job_for(*, actor: Principal, upload: ImportUpload, dry_run: bool):
    from tenants.jobs.services import job_enqueue

    # The job runs as its creator, narrowed by the same scopes: both come from the
    # principal here, never from a request body.
    return job_enqueue(
        kind=JOB_KIND,
        payload={
            "upload": str(upload.pk),
            "object_api_name": upload.object_api_name,
            "file_name": upload.file_name,
            "dry_run": dry_run,
            "scopes": None if actor.scopes is None else sorted(actor.scopes),
        },
        created_by=actor.user if actor.user_id else None,
    )


@transaction.atomic
def import_start(
    *,
    object_api_name: str,
    file_name: str,
    content: bytes,
    mapping: dict | None = None,
    dry_run: bool = True,
    actor: Principal,
):
    """Store the uploaded file and queue the import job; returns the Job (its
    ``progress`` and, when finished, ``result`` hold the report)."""
    import_rights_require(actor, object_api_name)
    upload = _upload_store(
        actor=actor,
        object_api_name=object_api_name,
        file_name=file_name,
        content=content,
        mapping=mapping,
    )
    return _job_for(actor=actor, upload=upload, dry_run=dry_run)


def import_job_handle(job) -> dict:
    """Job handler (kind ``crm.import``): runs import_file as the job's creator and
    records progress. The upload is named by id in the tenant's own table.

    A real import keeps a checkpoint on the job, in the transaction of each chunk: run
    again after its worker died, it resumes after the last committed row, and once the
    whole file is in, the checkpoint holds the report, so a run after that only tidies."""
    from tenants.jobs.models import Job
    from tenants.jobs.services import LeaseLost, job_checkpoint

    payload = job.payload
    dry_run = payload.get("dry_run", True)
    state = job.checkpoint or {}
    if not dry_run and state.get("done"):
        _import_upload_discard(payload.get("upload"))
        return state["result"]
    try:
        upload_id = uuid.UUID(str(payload.get("upload")))
    except ValueError:
        upload_id = None
    upload = ImportUpload.objects.filter(pk=upload_id).first() if upload_id else None
    if upload is None or upload.created_by_id != job.created_by_id:
        raise ValidationError({"upload": "The upload of this job is gone."})
    creator = job.created_by
    if creator is None or not creator.is_active:
        raise AccessDenied("The user who started this import is no longer active.")
    actor = Principal.of(creator, scopes=payload.get("scopes"))

    def progress(percent: int) -> None:
        Job.objects.filter(pk=job.pk).update(progress=percent)

    def checkpoint(chunk_state: dict, percent: int) -> None:
        job_checkpoint(job=job, checkpoint=chunk_state, progress=percent)

    try:
        report = import_file(
            object_api_name=upload.object_api_name,
            path=upload.path,
            mapping=upload.mapping,
            dry_run=dry_run,
            actor=actor,
            progress=progress if dry_run else None,
            checkpoint=None if dry_run else checkpoint,
            resume=None if dry_run else (state or None),
        )
    except LeaseLost:
        raise  # another worker carries on with this upload
    except Exception:
        if not dry_run:
            # A failed import is not resumed: its file goes, as after success.
            _import_upload_discard(upload.pk)
        raise
    report["file_name"] = upload.file_name
    if not dry_run:
        job_checkpoint(job=job, checkpoint={"done": True, "result": report})
        # Uploaded files hold personal data: keep them no longer than the import.
        _import_upload_discard(upload.pk)
    return report


def _import_upload_discard(upload_id) -> None:
    try:
        key = uuid.UUID(str(upload_id))
    except ValueError:
        return
    upload = ImportUpload.objects.filter(pk=key).first()
    if upload is not None:
        upload.path.unlink(missing_ok=True)
        upload.delete()


def import_job_abandoned(job) -> None:
    """The import's workers kept dying (jobs sweeper gave up): its file goes, as after a
    failure. A dry run's upload stays for the real import, as after a dry run."""
    if not job.payload.get("dry_run", True):
        _import_upload_discard(job.payload.get("upload"))


# --- the wizard: check an upload, then import it ------------------------------------


def import_upload_check(
    *,
    object_api_name: str,
    file_name: str,
    content: bytes,
    actor: Principal,
    mapping: dict | None = None,
) -> dict:
    """Keep an uploaded file and dry-run it now: the report of every row (nothing is
    written) plus ``upload``, the id to start the real import with later."""
    import_rights_require(actor, object_api_name)
    upload = _upload_store(
        actor=actor,
        object_api_name=object_api_name,
        file_name=file_name,
        content=content,
        mapping=mapping,
    )
    try:
        report = import_file(
            object_api_name=object_api_name,
            path=upload.path,
            mapping=mapping,
            dry_run=True,
            actor=actor,
        )
    except (ValueError, UnicodeDecodeError) as exc:
        upload.path.unlink(missing_ok=True)
        upload.delete()
        raise ValidationError({"file": f"{file_name} cannot be read: {exc}"}) from None
    except ValidationError as exc:
        upload.path.unlink(missing_ok=True)
        upload.delete()
        raise file_errors_named(exc, file_name) from None
    except AccessDenied:
        upload.path.unlink(missing_ok=True)
        upload.delete()
        raise
    return {**report, "upload": str(upload.pk)}


def import_upload_start(*, upload: str, actor: Principal):
    """Queue the real import of a file kept by ``import_upload_check``."""
    found = import_upload_get(actor=actor, upload_id=upload)
    import_rights_require(actor, found.object_api_name)
    return _job_for(actor=actor, upload=found, dry_run=False)
