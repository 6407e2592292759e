"""Forms generated from metadata: a record's standard fields plus its custom fields in
their sections and order, limited to what the access policy lets the user see or change.

Parsing only turns browser text into the JSON types the services take (the API's
types); every rule is checked by the services themselves, so a form shows the very
messages the API returns, next to the input they concern."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from babel import Locale, UnknownLocaleError
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.functional import Promise
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext_lazy as _

from crm.models import CustomerType, Guest
from metadata.selectors.definitions import object_describe
from metadata.types import country_codes
from tenants.access.principal import Principal
from tenants.context import current_tenant

CUSTOM_PREFIX = "custom."
# CLDR regions that are not countries (unknown, European Union, United Nations...).
PSEUDO_REGIONS = frozenset({"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"})


@dataclass(frozen=True)
class Standard:
    """A built-in field as the form shows it."""

    name: str
    label: str | Promise
    widget: str  # text, email, tel, date, number, select, country, language, tags
    section: str | Promise
    choices: tuple[tuple[str, Any], ...] = ()
    required: bool = False
    create_only: bool = False  # e-mail and phone have their own services after creation
    error_keys: tuple[str, ...] = ()


IDENTITY, CONTACT, PROFILE, DOCUMENT = (
    _("Name"),
    _("Contact"),
    _("Profile"),
    _("Identity document"),
)

GUEST_FIELDS: tuple[Standard, ...] = (
    Standard("name_prefix", _("Title"), "text", IDENTITY),
    Standard("given_name", _("Given name"), "text", IDENTITY, required=True),
    Standard("surname", _("Surname"), "text", IDENTITY, required=True),
    Standard("email", _("E-mail"), "email", CONTACT, create_only=True, error_keys=("emails",)),
    Standard("phone", _("Phone"), "tel", CONTACT, create_only=True, error_keys=("phones",)),
    Standard("birth_date", _("Birth date"), "date", PROFILE),
    Standard(
        "gender",
        _("Gender"),
        "select",
        PROFILE,
        choices=(
            ("", _("Unknown")),
            ("female", _("Female")),
            ("male", _("Male")),
            ("other", _("Other")),
        ),
    ),
    Standard("nationality", _("Nationality"), "country", PROFILE),
    Standard("language", _("Preferred language"), "language", PROFILE),
    Standard(
        "customer_type",
        _("Customer type"),
        "select",
        PROFILE,
        choices=(
            (CustomerType.INDIVIDUAL, _("Individual (FIT)")),
            (CustomerType.GROUP, _("Group")),
            (CustomerType.CORPORATE, _("Corporate")),
            (CustomerType.MICE, _("MICE")),
            (CustomerType.TRAVEL_AGENT, _("Travel agent")),
        ),
    ),
    Standard("vip_level", _("VIP level (0-9)"), "number", PROFILE),
    Standard("tags", _("Tags (comma separated)"), "tags", PROFILE),
    Standard(
        "id_document_type",
        _("Document type"),
        "select",
        DOCUMENT,
        choices=(
            ("", _("None")),
            (Guest.IdDocumentType.PASSPORT, _("Passport")),
            (Guest.IdDocumentType.NATIONAL_ID, _("National identity card")),
            (Guest.IdDocumentType.DRIVING_LICENCE, _("Driving licence")),
            (Guest.IdDocumentType.RESIDENCE_PERMIT, _("Residence permit")),
            (Guest.IdDocumentType.OTHER, _("Other")),
        ),
    ),
    Standard("id_document_number", _("Identity number"), "text", DOCUMENT),
    Standard("id_document_expiry", _("Document expiry"), "date", DOCUMENT),
    Standard("id_document_country", _("Issuing country"), "country", DOCUMENT),
)
STANDARD_BY_OBJECT = {"guest": GUEST_FIELDS}

RECORD_SECTION = _("Record")
# The standard columns of a tenant-defined object's records (metadata's generic table).
CUSTOM_RECORD_FIELDS: tuple[Standard, ...] = (
    Standard("name", _("Name"), "text", RECORD_SECTION),
    Standard("external_id", _("External id"), "text", RECORD_SECTION),
)


@dataclass
class Input:
    name: str  # the POST name: "surname" or "custom.pillow_type"
    key: str  # the name errors use: "surname" or "pillow_type"
    label: str
    widget: str
    value: Any = None
    help_text: str = ""
    required: bool = False
    editable: bool = True
    choices: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_keys: tuple[str, ...] = ()
    custom: dict | None = None  # the described custom field

    @property
    def html_id(self) -> str:
        return "id_" + self.name.replace(".", "_")


@dataclass
class Section:
    title: str
    inputs: list[Input]


def _locale() -> Locale:
    try:
        return Locale.parse(to_locale(get_language() or "en"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def country_choices() -> list[tuple[str, str]]:
    """ISO 3166 codes with their names in the reader's language, sorted by name."""
    names = _locale().territories
    codes = country_codes() - PSEUDO_REGIONS
    return sorted(((c, names.get(c, c)) for c in codes), key=lambda item: item[1])


def language_choices() -> list[tuple[str, str]]:
    names = _locale().languages
    codes = {"en", "zh", "ja", "ko", "fr", "de", "es", "it", "pt", "ru", "ar", "th", "vi", "id"}
    out = [(code, names.get(code, code)) for code in codes]
    out += [
        ("zh-hans", f"{names.get('zh', 'zh')} (Hans)"),
        ("zh-hant", f"{names.get('zh', 'zh')} (Hant)"),
    ]
    return sorted(out, key=lambda item: item[1])


CUSTOM_WIDGETS = {
    "text": "text",
    "long_text": "textarea",
    "integer": "number",
    "decimal": "decimal",
    "percent": "decimal",
    "money": "money",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
    "choice": "select",
    "multi_choice": "multiselect",
    "email": "email",
    "phone": "tel",
    "url": "url",
    "country": "country",
    "language": "language",
    "reference": "number",
}


class RecordForm:
    """The form of one record (of a built-in or a tenant-defined object) for one user.

    ``sections`` is what the template renders; ``payload()`` is what the service gets
    (standard keys plus ``custom``), holding only fields the user may change."""

    def __init__(
        self,
        *,
        object_api_name: str,
        actor: Principal,
        instance=None,
        data: QueryDict | None = None,
        standard: tuple[Standard, ...] | None = None,
    ):
        self.object_api_name = object_api_name
        self.actor = actor
        self.instance = instance
        self.data = data
        self.describe = object_describe(object_api_name, get_language())
        custom_fields = list(self.describe["fields"])
        if standard is None:
            standard = STANDARD_BY_OBJECT.get(object_api_name, ())
        access = actor.field_access(
            object_api_name,
            fields=[*(s.name for s in standard), *(f["api_name"] for f in custom_fields)],
        )
        self.non_field_errors: list[str] = []
        self.inputs: list[Input] = []
        sections: dict[str, list[Input]] = {}
        for spec in standard:
            level = access.get(spec.name)
            if level is None or (spec.create_only and instance is not None):
                continue
            item = Input(
                name=spec.name,
                key=spec.name,
                label=str(spec.label),
                widget=spec.widget,
                value=self._standard_value(spec),
                required=spec.required,
                editable=level == "edit",
                choices=[(str(v), str(label)) for v, label in spec.choices],
                error_keys=spec.error_keys,
            )
            self.inputs.append(item)
            sections.setdefault(str(spec.section), []).append(item)
        currencies = list(getattr(current_tenant(), "enabled_currencies", None) or [])
        other = str(_("Additional information"))
        for described in sorted(custom_fields, key=lambda f: (f["section"], f["position"])):
            level = access.get(described["api_name"])
            if level is None:
                continue
            widget = CUSTOM_WIDGETS.get(described["type"], "text")
            choices = [(c["value"], c["label"]) for c in described["choices"]]
            if widget == "money":
                choices = [(c, c) for c in currencies]
            item = Input(
                name=CUSTOM_PREFIX + described["api_name"],
                key=described["api_name"],
                label=described["label"],
                help_text=described["help_text"],
                widget=widget,
                value=self._custom_value(described),
                required=described["required"],
                editable=level == "edit",
                choices=choices,
                custom=described,
            )
            self.inputs.append(item)
            sections.setdefault(described["section"] or other, []).append(item)
        self.sections = [Section(title, items) for title, items in sections.items()]

    # --- values shown -----------------------------------------------------------------

    def _standard_value(self, spec: Standard):
        if self.data is not None:
            return self.data.get(spec.name, "")
        if self.instance is None:
            return "individual" if spec.name == "customer_type" else ""
        value = getattr(self.instance, spec.name, "")
        if spec.widget == "tags":
            return ", ".join(value or [])
        if isinstance(value, date):
            return value.isoformat()
        return "" if value is None else value

    def _custom_value(self, described: dict):
        name = CUSTOM_PREFIX + described["api_name"]
        if self.data is not None:
            if described["type"] == "multi_choice":
                return self.data.getlist(name)
            if described["type"] == "money":
                return {
                    "amount": self.data.get(name + ".amount", ""),
                    "currency": self.data.get(name + ".currency", ""),
                }
            return self.data.get(name, "")
        stored = self._stored_custom()
        value = stored.get(described["api_name"])
        if value is None:
            value = described["default"]
        if described["type"] == "boolean" and value is not None:
            return "true" if value else "false"
        if described["type"] == "datetime" and isinstance(value, str):
            return value.replace("Z", "")[:16]
        return value if value is not None else ""

    def _stored_custom(self) -> dict:
        """The instance's custom values: ``custom`` on built-in models, ``data`` on the
        generic records of tenant-defined objects."""
        if self.instance is None:
            return {}
        values = getattr(self.instance, "custom", None)
        if values is None:
            values = getattr(self.instance, "data", None)
        return dict(values or {})

    # --- the payload ------------------------------------------------------------------

    def payload(self) -> dict:
        """What the service takes. Raises ValidationError (keyed by field) when a value
        cannot even be given the JSON type of its field; the API says the same then."""
        assert self.data is not None
        data: dict[str, Any] = {}
        custom: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for item in self.inputs:
            if not item.editable:
                continue
            if item.custom is not None:
                if item.widget in ("multiselect", "money") or item.name in self.data:
                    custom[item.key] = self._custom_payload(item)
                continue
            if item.name not in self.data:
                continue  # not sent: left as it is (a browser sends every input it shows)
            raw = (self.data.get(item.name) or "").strip()
            if item.widget == "date":
                if not raw:
                    data[item.key] = None
                    continue
                try:
                    date.fromisoformat(raw)
                except ValueError:
                    errors[item.key] = f"{item.key} must be a date as YYYY-MM-DD."
                    continue
                data[item.key] = date.fromisoformat(raw)
            elif item.widget == "number":
                if not raw:
                    continue
                try:
                    data[item.key] = int(raw)
                except ValueError:
                    errors[item.key] = f"{item.key} must be a whole number."
            elif item.key == "email":
                data["emails"] = [raw] if raw else []
            elif item.key == "phone":
                data["phones"] = [raw] if raw else []
            else:
                data[item.key] = raw
        if errors:
            raise ValidationError(errors)
        if custom:
            data["custom"] = custom
        return data

    def _custom_payload(self, item: Input):
        assert self.data is not None
        kind = item.custom["type"] if item.custom else "text"
        if kind == "multi_choice":
            return self.data.getlist(item.name) or None
        if kind == "money":
            amount = (self.data.get(item.name + ".amount") or "").strip()
            if not amount:
                return None
            return {"amount": amount, "currency": self.data.get(item.name + ".currency") or None}
        raw = self.data.get(item.name)
        if raw is None or raw.strip() == "":
            return None
        return raw if kind == "long_text" else raw.strip()

    # --- errors -----------------------------------------------------------------------

    def add_errors(self, errors: dict[str, list[str]]) -> None:
        placed = set()
        for item in self.inputs:
            for key in (item.key, *item.error_keys):
                if key in errors:
                    item.errors.extend(errors[key])
                    placed.add(key)
        from saas.ui.errors import unplaced

        self.non_field_errors = unplaced(errors, placed)

    @property
    def has_errors(self) -> bool:
        return bool(self.non_field_errors) or any(i.errors for i in self.inputs)
