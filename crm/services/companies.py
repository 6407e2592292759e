"""Writes of companies (accounts) and their contacts."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from crm.models import Company, CompanyContact, Guest, RecordChange
from crm.services.access import written
from crm.services.audit import changes_record, event_record, record_values
from crm.services.common import country_clean, email_clean, phone_clean
from crm.services.custom import custom_clean
from tenants.access.principal import Principal
from tenants.errors import Conflict

COMPANY_FIELDS = (
    "name",
    "kind",
    "external_id",
    "iata_number",
    "tax_id",
    "email",
    "phone",
    "website",
    "address_line1",
    "city",
    "postal_code",
    "country",
)


def company_fields_clean(fields: dict) -> dict:
    unknown = sorted(set(fields) - set(COMPANY_FIELDS))
    if unknown:
        raise ValidationError({n: f"{n} is not a company field you can set." for n in unknown})
    out = dict(fields)
    if "name" in out:
        out["name"] = (out["name"] or "").strip()
    if "country" in out:
        out["country"] = country_clean(out["country"])
    if "email" in out:
        out["email"] = email_clean(out["email"])
    if "phone" in out:
        out["phone"] = phone_clean(out["phone"], region=out.get("country") or None)
    if "external_id" in out:
        out["external_id"] = (str(out["external_id"] or "")).strip() or None
    return out


def _company_validate(company: Company) -> None:
    if not company.name:
        raise ValidationError({"name": "A company needs a name."})
    if (
        company.external_id
        and Company.objects.filter(external_id=company.external_id).exclude(pk=company.pk).exists()
    ):
        raise Conflict(
            f"External id {company.external_id} already belongs to another company.",
            code="external_id_taken",
            field="external_id",
        )
    company.full_clean(exclude=["custom"], validate_unique=False)


@transaction.atomic
def company_create(*, name: str, custom: dict | None = None, actor: Principal, **fields) -> Company:
    actor.require("company", "create")
    actor.require_editable("company", written({"name", *fields}, custom))
    fields = company_fields_clean({"name": name, **fields})
    company = Company(**fields)
    company.custom = custom_clean(object_api_name="company", values=custom or {})
    _company_validate(company)
    company.save()
    changes_record(
        object_api_name="company",
        record_id=company.pk,
        old={},
        new=record_values(company, fields),
        user_id=actor.user_id,
        action=RecordChange.Action.CREATE,
    )
    return company


@transaction.atomic
def company_update(
    *, company: Company, custom: dict | None = None, actor: Principal, **fields
) -> Company:
    actor.require("company", "edit")
    actor.require_editable("company", written(fields, custom))
    fields = company_fields_clean(fields)
    watched = [*fields, "custom"]
    old = record_values(company, watched)
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
    _company_validate(company)
    company.save()
    changes_record(
        object_api_name="company",
        record_id=company.pk,
        old=old,
        new=record_values(company, watched),
        user_id=actor.user_id,
    )
    return company


@transaction.atomic
def company_contact_add(
    *,
    company: Company,
    guest: Guest,
    role: str = CompanyContact.Role.CONTACT,
    title: str = "",
    primary: bool = False,
    actor: Principal,
) -> CompanyContact:
    actor.require("company", "edit")
    actor.require_editable("company", ["contacts"])
    if role not in CompanyContact.Role.values:
        raise ValidationError({"role": f"{role} is not a contact role."})
    if primary:
        company.contacts.filter(is_primary=True).update(is_primary=False)
    contact, _ = CompanyContact.objects.update_or_create(
        company=company, guest=guest, role=role, defaults={"title": title, "is_primary": primary}
    )
    event_record(
        object_api_name="company",
        record_id=company.pk,
        action=RecordChange.Action.UPDATE,
        field="contacts",
        new={"guest": guest.pk, "role": role, "title": title},
        user_id=actor.user_id,
    )
    return contact
