"""Set-based upserts of guests and companies: many records per call, keyed by the id the
sending system gives them, with the same rules as one ``guest_create``/``guest_update``.

Every record is parsed and validated in Python first (the same value functions as the
single-record services; no query per constraint), the existing records are found with
one query per kind of key, and the valid records are written together: one INSERT of the
new rows and one UPDATE of the changed ones, their contact rows, external ids, audit rows
and record events in batches. A bad record fails alone, with its errors, before anything
is written. If the batch still meets a database error (another request created the same
external id a moment ago), the batch is rolled back and replayed record by record through
the single-record path, where the loser of that race finds the winner's row and updates
it.

The principal is asked once for the object rights and the field levels, then each record
for what it writes: created records need ``create``, updated ones ``edit`` and must lie
within the principal's hotels. The bulk API and the CSV/XLSX import both come here."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from crm.models import (
    Company,
    Guest,
    GuestAddress,
    GuestEmail,
    GuestExternalId,
    GuestPhone,
    Property,
    RecordChange,
)
from crm.services.audit import _shown, change_rows, record_values
from crm.services.bulk import copy_insert, copy_rows, ids_reserve
from crm.services.common import email_clean, phone_clean
from crm.services.custom import custom_clean
from crm.services.guests import GUEST_FIELDS, guest_fields_clean
from metadata import events
from tenants.access.errors import AccessDenied
from tenants.access.principal import Principal
from tenants.errors import ApplicationError

Result = dict[str, Any]
ADDRESS_KEYS = {"kind", "line1", "line2", "city", "region", "postal_code", "country"}


def _errors(exc: ValidationError | ApplicationError) -> list[dict]:
    if isinstance(exc, ApplicationError):
        return exc.as_errors()
    if hasattr(exc, "error_dict"):
        return [
            {"field": None if f == "__all__" else f, "code": e.code or "invalid", "message": m}
            for f, errors in exc.error_dict.items()
            for e in errors
            for m in e.messages
        ]
    return [
        {"field": None, "code": e.code or "invalid", "message": m}
        for e in exc.error_list
        for m in e.messages
    ]


@dataclass
class _Item:
    index: int
    key: tuple
    fields: dict[str, Any]
    custom: dict[str, Any] | None
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    addresses: list[dict] = field(default_factory=list)
    record: Any = None  # the model instance to write
    old: dict[str, Any] | None = None  # audited values before an update


def _custom_names(items: list) -> set[str]:
    """The custom field names a batch writes (a ``custom`` that is not an object is
    refused per record later, by name)."""
    return {
        str(k)
        for item in items
        if isinstance(item, dict) and isinstance(item.get("custom"), dict)
        for k in item["custom"]
    }


class _Rights:
    """The principal's rights on one object, asked once per batch."""

    def __init__(self, actor: Principal, object_api_name: str, names: Iterable[str]):
        self.actor = actor
        self.object_api_name = object_api_name
        try:
            actor.require(object_api_name, "create")
            self.create = True
        except AccessDenied:
            self.create = False
        try:
            actor.require(object_api_name, "edit")
            self.edit = True
        except AccessDenied:
            if not self.create:
                raise
            self.edit = False
        access = actor.field_access(object_api_name, fields=set(names))
        self.editable = {name for name, level in access.items() if level == "edit"}

    def check(self, names: Iterable[str], *, creating: bool) -> None:
        if creating and not self.create:
            self.actor.require(self.object_api_name, "create")
        if not creating and not self.edit:
            self.actor.require(self.object_api_name, "edit")
        for name in sorted(set(names)):
            if name not in self.editable:
                raise AccessDenied(
                    f"You may not change the field {name} of {self.object_api_name} records.",
                    field=name,
                )


def _announce(object_api_name: str, action: str, pk: int, old: dict, new: dict, user_id):
    events.record_event_emit(
        object_api_name=object_api_name,
        action=action,
        record_id=pk,
        old={k: _shown(k, v) for k, v in old.items()},
        new={k: _shown(k, v) for k, v in new.items()},
        user_id=user_id,
    )


def _audit_rows(
    object_api_name: str, pk: int, old: dict, new: dict, user_id, action: str
) -> list[RecordChange]:
    return change_rows(
        object_api_name=object_api_name,
        record_id=pk,
        old=old,
        new=new,
        user_id=user_id,
        action=action,
    )


def _audit_copy(rows: list[RecordChange], now) -> None:
    copy_insert(RecordChange, rows)  # ``changed_at`` is stamped by the copy


def _batch(
    items: list,
    *,
    prepare: Callable[[int, Any], _Item],
    write: Callable[[list[_Item]], None],
    one_by_one: Callable[[Any], tuple[str, int]],
    dry_run: bool,
) -> list[Result]:
    """Prepare every item (errors stay with their item), write the good ones together;
    on a database error replay them one by one, each in a savepoint of its own."""
    from metadata.definitions import snapshot_pinned

    with snapshot_pinned():  # one definitions snapshot for the batch, not one per record
        return _batch_pinned(
            items, prepare=prepare, write=write, one_by_one=one_by_one, dry_run=dry_run
        )


def _batch_pinned(
    items: list,
    *,
    prepare: Callable[[int, Any], _Item],
    write: Callable[[list[_Item]], None],
    one_by_one: Callable[[Any], tuple[str, int]],
    dry_run: bool,
) -> list[Result]:
    results: dict[int, Result] = {}
    good: list[_Item] = []
    for index, raw in enumerate(items):
        try:
            if not isinstance(raw, dict):
                raise ValidationError({"record": "Each record is a JSON object."})
            item = prepare(index, raw)
        except (ValidationError, ApplicationError) as exc:
            results[index] = {"index": index, "status": "error", "errors": _errors(exc)}
            continue
        good.append(item)
    if dry_run:
        for item in good:
            status = "would_create" if item.old is None else "would_update"
            results[item.index] = {"index": item.index, "status": status}
        return [results[i] for i in sorted(results)]
    try:
        with transaction.atomic():
            write(good)
    except (IntegrityError, DatabaseError, psycopg.Error):  # COPY raises psycopg's own
        for index in sorted(item.index for item in good):
            results[index] = _one(one_by_one, items[index], index)
        return [results[i] for i in sorted(results)]
    for item in good:
        status = "created" if item.old is None else "updated"
        results[item.index] = {"index": item.index, "status": status, "id": item.record.pk}
    return [results[i] for i in sorted(results)]


def _one(one_by_one: Callable[[Any], tuple[str, int]], raw: Any, index: int) -> Result:
    """One record through the single-record path, in a savepoint. A unique key taken by
    a concurrent writer in between is met once more: the second attempt finds that row
    and updates it (the loser of the race becomes an update)."""
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                status, pk = one_by_one(raw)
            return {"index": index, "status": status, "id": pk}
        except IntegrityError:
            if attempt == 2:
                return {
                    "index": index,
                    "status": "error",
                    "errors": [
                        {
                            "field": None,
                            "code": "conflict",
                            "message": "A concurrent request wrote the same record; send it again.",
                        }
                    ],
                }
        except (ValidationError, ApplicationError) as exc:
            return {"index": index, "status": "error", "errors": _errors(exc)}
    raise AssertionError("unreachable")


# --- guests --------------------------------------------------------------------------------


GUEST_ITEM_KEYS = {
    *GUEST_FIELDS,
    "external_id",
    "external_source",
    "external_property",
    "emails",
    "phones",
    "addresses",
    "custom",
}


def guests_upsert(
    *, actor: Principal, items: list[dict], dry_run: bool = False, default_source: str = "API"
) -> list[Result]:
    """Upsert guests keyed by (``external_source`` or ``default_source``, the hotel code
    in ``external_property`` or none, ``external_id``). New guests take ``emails``,
    ``phones`` and ``addresses`` (the first of each primary); updates leave those lists
    alone, so the same batch sent twice answers ``updated`` with nothing changed."""
    from crm.records import known, typed

    names = {k for item in items if isinstance(item, dict) for k in item}
    names |= _custom_names(items)
    rights = _Rights(actor, "guest", names | {"external_ids"})
    properties = {p.code: p.pk for p in Property.objects.all()}
    seen: dict[tuple, int] = {}
    parsed: list[tuple[int, dict, tuple] | None] = []

    def key_of(data: dict, index: int) -> tuple:
        ext = data.get("external_id")
        if not isinstance(ext, str) or not ext.strip() or len(ext) > 100:
            raise ValidationError(
                {"external_id": "Each record needs an external_id (text of 1-100 characters)."}
            )
        source = str(data.get("external_source") or default_source).strip().upper()[:40]
        code = data.get("external_property")
        prop = None
        if code:
            prop = properties.get(str(code).strip().upper())
            if prop is None:
                raise ValidationError({"external_property": f"No hotel with the code {code}."})
        key = (source, prop, ext.strip())
        if key in seen:
            raise ValidationError(
                {"external_id": f"{ext} appears twice in this request (first as #{seen[key]})."}
            )
        seen[key] = index
        return key

    # Keys first, so the existing guests are found with one query.
    for index, raw in enumerate(items):
        try:
            data = known(raw, GUEST_ITEM_KEYS, "guest")
            parsed.append((index, data, key_of(data, index)))
        except ValidationError:
            parsed.append(None)
    keys = [p[2] for p in parsed if p is not None]
    existing: dict[tuple, int] = {}
    if keys:
        rows = GuestExternalId.objects.filter(external_id__in={k[2] for k in keys}).values_list(
            "source", "property_id", "external_id", "guest_id"
        )
        wanted = set(keys)
        existing = {(s, p, e): g for s, p, e, g in rows if (s, p, e) in wanted}
    reachable = set(existing.values())
    if actor.property_ids() is not None and reachable:
        reachable = set(
            actor.scope("guest", Guest.objects.filter(pk__in=reachable)).values_list(
                "pk", flat=True
            )
        )
    guests = Guest.objects.in_bulk(list(reachable))

    def prepare(index: int, raw: Any) -> _Item:
        data = known(raw, GUEST_ITEM_KEYS, "guest")
        known_key = parsed[index]
        key = known_key[2] if known_key is not None else key_of(data, index)
        values = typed(Guest, data, _GUEST_SHAPES)
        for drop in ("external_id", "external_source", "external_property"):
            values.pop(drop, None)
        custom = values.pop("custom", None)
        emails = values.pop("emails", None) or []
        phones = values.pop("phones", None) or []
        addresses = values.pop("addresses", None) or []
        guest_id = existing.get(key)
        if guest_id is not None and guest_id not in guests:
            raise AccessDenied(
                "This guest belongs to hotels outside your scope.", field="external_id"
            )
        creating = guest_id is None
        written = [*values, *(custom or {})]
        if creating:
            written += [n for n, v in (("emails", emails), ("phones", phones),
                                       ("addresses", addresses)) if v]  # fmt: skip
            written.append("external_ids")
        rights.check(written, creating=creating)
        fields = guest_fields_clean(values)
        if creating:
            fields.setdefault("given_name", "")
            fields.setdefault("surname", "")
            guest = Guest(**fields)
            guest.custom = custom_clean(object_api_name="guest", values=custom or {})
            old = None
        else:
            guest = guests[guest_id]
            old = record_values(guest, [*fields, "custom"])
            for name, value in fields.items():
                setattr(guest, name, value)
            if custom is not None:
                guest.custom = custom_clean(
                    object_api_name="guest",
                    values=custom,
                    existing=guest.custom,
                    partial=True,
                    record_id=guest.pk,
                )
        _guest_check(guest, fields)
        item = _Item(index=index, key=key, fields=fields, custom=custom, record=guest, old=old)
        if creating:
            region = guest.nationality or None
            folded: dict[str, str] = {}
            for value in emails:
                address = email_clean(value, field="emails")
                if address:
                    folded.setdefault(address.lower(), address)
            item.emails = list(folded.values())
            item.phones = list(
                dict.fromkeys(phone_clean(p, region=region, field="phones") for p in phones if p)
            )
            item.addresses = [_address_clean(a) for a in addresses]
            guest.email = item.emails[0] if item.emails else ""
            guest.phone = item.phones[0] if item.phones else ""
        return item

    def write(batch: list[_Item]) -> None:
        now = timezone.now()
        new = [i for i in batch if i.old is None]
        changed = [i for i in batch if i.old is not None]
        # COPY with ids drawn from the sequence: several times cheaper than a multi-row
        # INSERT of thousands of parameters, and the child rows need the ids.
        for item, pk in zip(new, ids_reserve(Guest, len(new)), strict=True):
            item.record.pk = pk
            item.record.created = item.record.updated = now
        copy_insert(Guest, [i.record for i in new], with_pk=True)
        copy_rows(
            GuestEmail,
            [
                {"guest_id": i.record.pk, "email": e, "is_primary": n == 0}
                for i in new
                for n, e in enumerate(i.emails)
            ],
        )
        copy_rows(
            GuestPhone,
            [
                {"guest_id": i.record.pk, "number": p, "is_primary": n == 0}
                for i in new
                for n, p in enumerate(i.phones)
            ],
        )
        copy_rows(
            GuestAddress,
            [
                {"guest_id": i.record.pk, "is_primary": n == 0, **a}
                for i in new
                for n, a in enumerate(i.addresses)
            ],
        )
        copy_rows(
            GuestExternalId,
            [
                {
                    "guest_id": i.record.pk,
                    "source": i.key[0],
                    "property_id": i.key[1],
                    "external_id": i.key[2],
                }
                for i in new
            ],
        )
        columns = sorted({n for i in changed for n in i.fields} | {"custom", "updated"})
        for item in changed:
            item.record.updated = now
        if changed:
            Guest.objects.bulk_update([i.record for i in changed], columns)
        audit: list[RecordChange] = []
        for item in new:
            values = {
                **record_values(item.record, item.fields),
                "emails": item.emails,
                "phones": item.phones,
            }
            audit += _audit_rows(
                "guest", item.record.pk, {}, values, actor.user_id, RecordChange.Action.CREATE
            )
            item.fields = values
        for item in changed:
            after = record_values(item.record, [*item.fields, "custom"])
            audit += _audit_rows("guest", item.record.pk, item.old or {}, after, actor.user_id,
                                 RecordChange.Action.UPDATE)  # fmt: skip
            item.fields = after
        _audit_copy(audit, now)
        for item in new:
            _announce("guest", events.CREATED, item.record.pk, {}, item.fields, actor.user_id)
        for item in changed:
            _announce(
                "guest", events.UPDATED, item.record.pk, item.old or {}, item.fields,
                actor.user_id,
            )  # fmt: skip

    def one_by_one(raw: dict) -> tuple[str, int]:
        from metadata.services.records import records_bulk_upsert

        [result] = records_bulk_upsert(
            actor=actor, object_api_name="guest", items=[raw], set_based=False
        )
        if result["status"] == "error":
            raise ApplicationError(
                result["errors"][0]["message"],
                code=result["errors"][0]["code"],
                field=result["errors"][0]["field"],
            )
        return result["status"], result["id"]

    return _batch(items, prepare=prepare, write=write, one_by_one=one_by_one, dry_run=dry_run)


_GUEST_SHAPES = {
    "emails": (list, str),
    "phones": (list, str),
    "addresses": (list, dict),
    "custom": (dict, None),
    "external_source": (str, None),
    "external_property": (str, None),
}


def _guest_check(guest: Guest, written: Iterable[str]) -> None:
    """What ``full_clean`` checks, without its query per constraint, on the fields
    written (the others hold their defaults or what was stored, checked then)."""
    if not guest.given_name and not guest.surname:
        raise ValidationError({"surname": "A guest needs a surname or a given name."})
    if guest.id_document_number and not guest.id_document_type:
        raise ValidationError({"id_document_type": "Say which document the number is from."})
    if not 0 <= int(guest.vip_level or 0) <= 9:
        raise ValidationError({"vip_level": "A VIP level runs from 0 to 9."})
    written = set(written)
    guest.clean_fields(
        exclude=[
            f.name
            for f in Guest._meta.concrete_fields
            if f.name not in written and f.attname not in written
        ]
        + ["custom", "email", "phone", "given_name", "surname"]
    )


def _address_clean(raw: dict) -> dict:
    from crm.services.common import country_clean

    unknown = sorted(set(raw) - ADDRESS_KEYS)
    if unknown:
        raise ValidationError({"addresses": f"Unknown address fields: {', '.join(unknown)}."})
    clean = {k: v for k, v in raw.items() if k in ADDRESS_KEYS}
    if any(not isinstance(v, str) for v in clean.values()):
        raise ValidationError({"addresses": "Address parts are text."})
    clean["country"] = country_clean(clean.get("country", ""), field="addresses")
    address = GuestAddress(**clean)
    address.clean_fields(exclude=["guest"])
    return clean


# --- companies ---------------------------------------------------------------------------


def companies_upsert(*, actor: Principal, items: list[dict], dry_run: bool = False) -> list[Result]:
    """Upsert companies keyed by their ``external_id``, set-based like guests."""
    from crm.records import known, typed
    from crm.services.companies import COMPANY_FIELDS, company_fields_clean

    allowed = {*COMPANY_FIELDS, "custom"}
    names = {k for item in items if isinstance(item, dict) for k in item}
    names |= _custom_names(items)
    rights = _Rights(actor, "company", names)
    keys = [i.get("external_id") for i in items if isinstance(i, dict)]
    found = {
        c.external_id: c
        for c in Company.objects.filter(external_id__in=[k for k in keys if isinstance(k, str)])
    }
    seen: dict[str, int] = {}

    def prepare(index: int, raw: Any) -> _Item:
        data = typed(Company, known(raw, allowed, "company"), {"custom": (dict, None)})
        key = data.get("external_id")
        if not isinstance(key, str) or not key.strip():
            raise ValidationError({"external_id": "Each record needs an external_id (text)."})
        if key in seen:
            raise ValidationError({"external_id": f"{key} appears twice in this request."})
        seen[key] = index
        custom = data.pop("custom", None)
        company: Company | None = found.get(key)
        creating = company is None
        rights.check([*data, *(custom or {})], creating=creating)
        fields = company_fields_clean(data)
        if creating:
            if not fields.get("name"):
                raise ValidationError({"name": "name is required."})
            company = Company(**fields)
            company.custom = custom_clean(object_api_name="company", values=custom or {})
            old = None
        else:
            assert company is not None
            old = record_values(company, [*fields, "custom"])
            for name, value in fields.items():
                setattr(company, name, value)
            if custom is not None:
                company.custom = custom_clean(
                    object_api_name="company",
                    values=custom,
                    existing=company.custom,
                    partial=True,
                    record_id=company.pk,
                )
        company.clean_fields(exclude=["custom"])
        return _Item(index=index, key=(key,), fields=fields, custom=custom, record=company, old=old)

    def write(batch: list[_Item]) -> None:
        now = timezone.now()
        new = [i for i in batch if i.old is None]
        changed = [i for i in batch if i.old is not None]
        for item in new:
            item.record.created = item.record.updated = now
        Company.objects.bulk_create([i.record for i in new])
        for item in changed:
            item.record.updated = now
        if changed:
            columns = sorted({n for i in changed for n in i.fields} | {"custom", "updated"})
            Company.objects.bulk_update([i.record for i in changed], columns)
        audit: list[RecordChange] = []
        for item in new:
            item.fields = record_values(item.record, item.fields)
            audit += _audit_rows("company", item.record.pk, {}, item.fields, actor.user_id,
                                 RecordChange.Action.CREATE)  # fmt: skip
        for item in changed:
            after = record_values(item.record, [*item.fields, "custom"])
            audit += _audit_rows("company", item.record.pk, item.old or {}, after, actor.user_id,
                                 RecordChange.Action.UPDATE)  # fmt: skip
            item.fields = after
        _audit_copy(audit, now)
        for item in new:
            _announce("company", events.CREATED, item.record.pk, {}, item.fields, actor.user_id)
        for item in changed:
            _announce("company", events.UPDATED, item.record.pk, item.old or {}, item.fields,
                      actor.user_id)  # fmt: skip

    def one_by_one(raw: dict) -> tuple[str, int]:
        from metadata.services.records import records_bulk_upsert

        [result] = records_bulk_upsert(
            actor=actor, object_api_name="company", items=[raw], set_based=False
        )
        if result["status"] == "error":
            first = result["errors"][0]
            raise ApplicationError(first["message"], code=first["code"], field=first["field"])
        return result["status"], result["id"]

    return _batch(items, prepare=prepare, write=write, one_by_one=one_by_one, dry_run=dry_run)
