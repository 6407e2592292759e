"""Broken and hostile upload files are refused by the reading helpers with a message
naming the file and the problem, and nothing is imported (hole 7)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from crm.models import Guest, ImportUpload
from crm.services import tabular
from crm.services.imports import import_file, import_upload_check
from tests.crm.services.uploads import BAD_FILES, HEADER, workbook_bytes
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db


def test_openpyxl_parses_through_defusedxml():
    # openpyxl picks defusedxml up by itself when installed; without it entity
    # declarations would be parsed (and expanded if the parser allowed).
    assert openpyxl.DEFUSEDXML is True


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_the_import_service_names_the_problem(tenant_a, tmp_path, case):
    file_name, content, problem = BAD_FILES[case]
    path = tmp_path / file_name
    path.write_bytes(content)
    with tenant_context(tenant_a):
        with pytest.raises(ValidationError) as info:
            import_file(object_api_name="guest", path=path, dry_run=False, actor=SYSTEM)
        assert problem in " ".join(info.value.message_dict["file"])
        assert not Guest.objects.exists()


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_the_upload_check_names_the_file_and_keeps_nothing(tenant_a, case, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    file_name, content, problem = BAD_FILES[case]
    with tenant_context(tenant_a):
        with pytest.raises(ValidationError) as info:
            import_upload_check(
                object_api_name="guest", file_name=file_name, content=content, actor=SYSTEM
            )
        [message] = info.value.message_dict["file"]
        assert message.startswith(f"{file_name}: ") and problem in message
        assert not Guest.objects.exists()
        assert not ImportUpload.objects.exists()
    assert [p for p in Path(tmp_path).rglob("*") if p.is_file()] == []  # the upload is gone


def test_a_bad_line_near_the_end_stops_the_import_before_the_first_row(tenant_a, tmp_path):
    rows = "".join(f"Given{i},Surname{i},g{i}@x.example\n" for i in range(2_500))
    path = tmp_path / "late.csv"
    path.write_text(HEADER + rows + "Late,Row,\x00\n", encoding="utf-8")
    with tenant_context(tenant_a):
        with pytest.raises(ValidationError) as info:
            import_file(object_api_name="guest", path=path, dry_run=False, actor=SYSTEM)
        assert "line 2502 contains a NUL character" in info.value.message_dict["file"][0]
        assert not Guest.objects.exists()  # the first 2,000-row chunk was not written


def test_a_workbook_that_unpacks_to_too_much_is_refused(tenant_a, tmp_path, monkeypatch):
    monkeypatch.setattr(tabular, "XLSX_MAX_UNPACKED", 1000)
    path = tmp_path / "big.xlsx"
    path.write_bytes(workbook_bytes([["surname"], ["Lima"]]))
    with tenant_context(tenant_a), pytest.raises(ValidationError) as info:
        import_file(object_api_name="guest", path=path, actor=SYSTEM)
    assert "unpacks to more than" in info.value.message_dict["file"][0]


def test_good_files_still_import(tenant_a, tmp_path):
    (tmp_path / "g.csv").write_text(HEADER + "Ana,Lima,ana@x.example\n", encoding="utf-8")
    (tmp_path / "g.xlsx").write_bytes(
        workbook_bytes([["given_name", "surname"], ["Bo", "Chen"], [None, None]])
    )
    with tenant_context(tenant_a):
        for name in ("g.csv", "g.xlsx"):
            report = import_file(
                object_api_name="guest", path=tmp_path / name, dry_run=False, actor=SYSTEM
            )
            assert (report["rows"], report["created"]) == (1, 1), report
        assert sorted(Guest.objects.values_list("surname", flat=True)) == ["Chen", "Lima"]
