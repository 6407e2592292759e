"""Column mapping for imports: a file whose columns carry human names ("First name",
"E-mail address", "出生日期") is mapped to the importable fields before its dry run.

``import_upload_columns`` keeps the file and proposes a target for each column (the
field's own name, a common name for it in English or Chinese, or a custom field's label
in any language); the person corrects the proposal, and ``import_upload_map`` checks the
mapping (unknown targets, a target taken twice, required fields missing: 400 naming
``mapping``), keeps it with the upload and dry-runs the file with it. The real import
(``import_upload_start``) then reads the kept mapping."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.core.exceptions import ValidationError

from crm.services.imports import (
    COLUMNS,
    REQUIRED,
    _upload_store,
    import_file,
    import_rights_require,
    import_upload_get,
    mapping_clean,
)
from crm.services.tabular import file_errors_named, file_format_of, table_header
from tenants.access.errors import AccessDenied
from tenants.access.principal import Principal

# Common names of the importable fields (compared folded: case, spaces, punctuation).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "given_name": ("first name", "firstname", "forename", "given", "prénom", "名", "名字"),
    "surname": ("last name", "lastname", "family name", "nom", "姓", "姓氏"),
    "middle_name": ("middle", "middle names", "中间名"),
    "name_prefix": ("title", "salutation", "称谓", "稱謂"),
    "email": ("e-mail", "email address", "e-mail address", "mail", "邮箱", "电子邮件",
              "電子郵件", "郵箱"),
    "phone": ("telephone", "phone number", "mobile", "mobile phone", "cell", "tel", "电话",
              "手机", "電話", "手機"),
    "birth_date": ("date of birth", "dob", "birthday", "born", "生日", "出生日期"),
    "nationality": ("country", "citizenship", "国籍", "國籍"),
    "language": ("preferred language", "语言", "語言"),
    "gender": ("sex", "性别", "性別"),
    "vip_level": ("vip", "vip status"),
    "tags": ("labels", "标签", "標籤"),
    "customer_type": ("type", "guest type"),
    "address_city": ("city", "town", "城市"),
    "address_postal_code": ("postcode", "zip", "zip code", "postal code", "邮编", "郵遞區號"),
    "address_country": ("address country", "country of residence"),
    "external_id": ("id", "guest id", "pms id", "profile id"),
    "name": ("company", "company name", "公司", "公司名称"),
    "confirmation_number": ("confirmation", "booking number", "booking reference", "确认号"),
    "arrival": ("check in", "check-in", "arrival date", "入住日期", "到达日期"),
    "departure": ("check out", "check-out", "departure date", "离店日期", "退房日期"),
    "total_amount": ("total", "amount", "revenue", "金额", "金額"),
}  # fmt: skip


def _folded(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return re.sub(r"[\s_\-.:/()]+", "", text)


def _custom_labels(object_api_name: str) -> dict[str, str]:
    """Folded label (every language) -> ``custom.<api_name>`` of the object's fields."""
    from metadata.models import FieldDefinition

    out: dict[str, str] = {}
    for field in FieldDefinition.objects.filter(object__api_name=object_api_name):
        target = f"custom.{field.api_name}"
        out[_folded(field.api_name)] = target
        for name in ("label", "label_en", "label_zh_hans", "label_zh_hant"):
            value = getattr(field, name, "") or ""
            if value:
                out.setdefault(_folded(value), target)
    return out


def targets_for(object_api_name: str) -> list[str]:
    """What a column can be imported into: the object's importable fields and its
    custom fields."""
    if object_api_name not in COLUMNS:
        raise ValidationError({"object": f"{object_api_name} cannot be imported."})
    return list(COLUMNS[object_api_name]) + sorted(set(_custom_labels(object_api_name).values()))


def mapping_guess(object_api_name: str, header: list[str]) -> dict[str, str]:
    """Column -> the target it most likely means ("" when none); no target twice."""
    columns = COLUMNS[object_api_name]
    known: dict[str, str] = {}
    for target in columns:
        known.setdefault(_folded(target), target)
    for target, names in SYNONYMS.items():
        if target in columns:
            for name in names:
                known.setdefault(_folded(name), target)
    for folded, target in _custom_labels(object_api_name).items():
        known.setdefault(folded, target)
    taken: set[str] = set()
    out: dict[str, str] = {}
    for column in header:
        target = column if column.startswith("custom.") else known.get(_folded(column), "")
        if target in taken:
            target = ""
        if target:
            taken.add(target)
        out[column] = target
    return out


def import_upload_columns(
    *, object_api_name: str, file_name: str, content: bytes, actor: Principal
) -> dict[str, Any]:
    """Keep the file and read its columns: ``upload`` (the id to map and import it),
    ``header``, ``guess`` (column -> proposed target) and ``targets``."""
    import_rights_require(actor, object_api_name)
    targets = targets_for(object_api_name)
    upload = _upload_store(
        actor=actor, object_api_name=object_api_name, file_name=file_name, content=content
    )
    try:
        header = table_header(upload.path, file_format_of(file_name))
    except ValidationError as exc:
        upload.path.unlink(missing_ok=True)
        upload.delete()
        raise file_errors_named(exc, file_name) from None
    if not any(header):
        upload.path.unlink(missing_ok=True)
        upload.delete()
        raise ValidationError({"file": f"{file_name} has no column names in its first row."})
    return {
        "upload": str(upload.pk),
        "header": header,
        "guess": mapping_guess(object_api_name, header),
        "targets": targets,
        "required": list(REQUIRED[object_api_name]),
    }


def import_upload_map(*, upload_id: str, mapping: Any, actor: Principal) -> dict[str, Any]:
    """Check ``mapping`` (column -> target; "" leaves a column out) against the kept
    upload, keep it, and dry-run the file with it: the report plus ``upload``."""
    upload = import_upload_get(actor=actor, upload_id=upload_id)
    import_rights_require(actor, upload.object_api_name)
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise ValidationError({"mapping": "Map each column to a field name, or to nothing."})
    chosen = {column: target for column, target in mapping.items() if target}
    doubled = sorted({t for t in chosen.values() if list(chosen.values()).count(t) > 1})
    if doubled:
        raise ValidationError(
            {"mapping": f"Each field takes one column; more than one goes to {doubled[0]}."}
        )
    unknown = sorted(set(chosen.values()) - set(targets_for(upload.object_api_name)))
    if unknown:
        raise ValidationError({"mapping": f"{unknown[0]} is not a field of this import."})
    header = table_header(upload.path, upload.suffix.lstrip("."))
    mapping_clean(object_api_name=upload.object_api_name, header=header, mapping=chosen)
    upload.mapping = chosen
    upload.save(update_fields=["mapping"])
    try:
        report = import_file(
            object_api_name=upload.object_api_name,
            path=upload.path,
            mapping=chosen,
            dry_run=True,
            actor=actor,
        )
    except AccessDenied:
        # A column into a field the person may not change: refused (403 naming it), and
        # the file, which holds personal data, is not kept.
        upload.path.unlink(missing_ok=True)
        upload.delete()
        raise
    return {**report, "upload": str(upload.pk)}
