"""Export of any filtered list of records to CSV or XLSX. Columns default to the
import columns, so an exported file can be imported again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from crm.models import Company, Guest, GuestEmail, Reservation
from crm.services.imports import COLUMNS
from crm.services.tabular import table_write
from tenants.access.principal import Principal
from tenants.errors import NotFound


def _guest_value(guest: Guest, column: str):
    if column == "id_document_number":
        return guest.id_document_number_masked  # lists and exports never show it whole
    if column in ("external_source", "external_id", "external_property"):
        ext = next(iter(guest.external_ids.all()), None)
        if ext is None:
            return ""
        if column == "external_property":
            return ext.property.code if ext.property else ""
        return ext.source if column == "external_source" else ext.external_id
    if column in ("email2", "phone2"):
        rows = guest.emails.all() if column == "email2" else guest.phones.all()
        others = [r for r in rows if not r.is_primary]
        if not others:
            return ""
        first = others[0]
        return first.email if isinstance(first, GuestEmail) else first.number
    if column.startswith("address_"):
        address = next((a for a in guest.addresses.all() if a.is_primary), None)
        attr = {"address_city": "city", "address_country": "country"}.get(
            column, column.removeprefix("address_")
        )
        return getattr(address, attr, "") if address else ""
    return getattr(guest, column)


def _reservation_value(res: Reservation, column: str):
    if column == "property":
        return res.property.code
    if column in ("room_type", "rate_plan"):
        related = getattr(res, column)
        return related.code if related else ""
    if column in ("guest_source", "guest_external_id"):
        ext = next(iter(res.guest.external_ids.all()), None)
        if ext is None:
            return ""
        return ext.source if column == "guest_source" else ext.external_id
    if column == "booker_company_external_id":
        return res.booker_company.external_id if res.booker_company else ""
    return getattr(res, column)


def _prepared(object_api_name: str, queryset: QuerySet) -> QuerySet:
    if object_api_name == "guest":
        return queryset.prefetch_related("external_ids__property", "emails", "phones", "addresses")
    if object_api_name == "reservation":
        return queryset.select_related(
            "property", "room_type", "rate_plan", "booker_company", "guest"
        ).prefetch_related("guest__external_ids")
    return queryset


def records_export(
    *,
    object_api_name: str,
    queryset: QuerySet,
    file_format: str = "csv",
    columns: list[str] | None = None,
) -> bytes:
    """The rows of ``queryset`` (already filtered by the caller) as a CSV/XLSX file.
    ``custom.<api_name>`` columns export custom values."""
    models = {"guest": Guest, "company": Company, "reservation": Reservation}
    if object_api_name not in models or queryset.model is not models[object_api_name]:
        raise ValidationError({"object_api_name": f"{object_api_name} cannot be exported."})
    columns = columns or list(COLUMNS[object_api_name])
    unknown = [
        c for c in columns if c not in COLUMNS[object_api_name] and not c.startswith("custom.")
    ]
    if unknown:
        raise ValidationError({"columns": f"Unknown columns: {', '.join(unknown)}."})
    readers: dict[str, Callable[[Any, str], Any]] = {
        "guest": _guest_value,
        "reservation": _reservation_value,
        "company": lambda obj, column: getattr(obj, column) or "",
    }
    value_of = readers[object_api_name]

    def rows() -> Iterator[list]:
        for obj in _prepared(object_api_name, queryset).iterator(chunk_size=2000):
            yield [
                obj.custom.get(c[len("custom.") :], "")
                if c.startswith("custom.")
                else value_of(obj, c)
                for c in columns
            ]

    return table_write(columns, rows(), file_format)


@transaction.atomic
def records_export_for(
    *,
    actor: Principal,
    object_api_name: str,
    filters: list | None = None,
    order_by: list[str] | None = None,
    search: str = "",
    file_format: str = "csv",
) -> bytes:
    """The list the principal sees (same filters, ordering and search as the API's list,
    with its rights and hotel scope) as a file with only the columns they may read. The
    export right is checked and the export audited before a byte is produced."""
    from metadata.selectors.records import records_list
    from tenants.access.services import audit_export_log

    if object_api_name not in COLUMNS:
        raise NotFound(f"{object_api_name} records cannot be exported.", field="collection")
    if file_format not in ("csv", "xlsx"):
        raise ValidationError({"file_format": "Use csv or xlsx."})
    actor.require(object_api_name, "export")
    queryset = records_list(
        actor=actor,
        object_api_name=object_api_name,
        filters=filters or [],
        order_by=order_by or [],
        search=search,
    )
    columns = [
        c
        for c in COLUMNS[object_api_name]
        if actor.field_level(object_api_name, _policy_field(object_api_name, c)) != "hidden"
    ]
    audit_export_log(
        actor=actor,
        object_api_name=object_api_name,
        record_count=queryset.count(),
        fields=columns,
        export_format=file_format,
        filters={
            "filters": [[f, op, str(v)] for f, op, v in filters or []],
            "order_by": order_by or [],
            "q": search,
        },
    )
    return records_export(
        object_api_name=object_api_name, queryset=queryset, file_format=file_format, columns=columns
    )


def _policy_field(object_api_name: str, column: str) -> str:
    from crm.services.imports import import_fields

    return import_fields(object_api_name, {column: column})[0]
