"""Exports cannot carry a spreadsheet formula (hole 8): CSV text that a spreadsheet
would run is quoted the OWASP way, XLSX text cells are strings; numbers stay numbers,
CSV starts with a byte order mark for Excel, and an exported file imports back with its
values as they were."""

from __future__ import annotations

import csv
import io

import pytest
from django_tenants.utils import tenant_context
from openpyxl import load_workbook

from crm.models import Guest
from crm.services.exports import records_export
from crm.services.imports import import_file
from crm.services.tabular import text_neutralise, text_unneutralise
from metadata.services.definitions import custom_field_create
from tests.api.test_records_api import api
from tests.crm.factories import make_guest
from tests.principals import SYSTEM

pytestmark = pytest.mark.django_db

LINK = '=HYPERLINK("http://x","y")'
SUM = "-2+3"


def export_guests(file_format: str) -> tuple[list[str], list[list]]:
    content = records_export(
        object_api_name="guest",
        queryset=Guest.objects.order_by("pk"),
        file_format=file_format,
        columns=[
            "external_id",
            "given_name",
            "surname",
            "phone",
            "vip_level",
            "custom.points",
            "custom.spend",
        ],
    )
    if file_format == "csv":
        assert content.startswith(b"\xef\xbb\xbf")  # Excel then reads UTF-8 as UTF-8
        table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        return table[0], table[1:]
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    rows = list(sheet.iter_rows())
    return [c.value for c in rows[0]], rows[1:]


@pytest.fixture
def risky_guests(tenant_a):
    with tenant_context(tenant_a):
        for api_name, kind in (("points", "integer"), ("spend", "money")):
            custom_field_create(
                object_api_name="guest", api_name=api_name, label=api_name, type=kind, actor=SYSTEM
            )
        make_guest(
            given_name=LINK,
            surname=SUM,
            phones=["+351912345678"],
            vip_level=3,
            external_ids=[{"source": "PMS", "external_id": "R1"}],
            custom={"points": -5, "spend": {"amount": "12.50", "currency": "EUR"}},
        )
        make_guest(
            given_name="@SUM(1+1)",
            surname="+Plus",
            external_ids=[{"source": "PMS", "external_id": "R2"}],
        )
        yield tenant_a


def test_csv_quotes_what_would_run_and_leaves_numbers(risky_guests):
    with tenant_context(risky_guests):
        header, body = export_guests("csv")
    first, second = (dict(zip(header, row, strict=True)) for row in body)
    assert first["given_name"] == "'" + LINK
    assert first["surname"] == "'" + SUM
    assert second["given_name"] == "'@SUM(1+1)" and second["surname"] == "'+Plus"
    # Numbers, and text that is only a number, are written as they are.
    assert first["phone"] == "+351912345678"
    assert first["vip_level"] == "3" and first["custom.points"] == "-5"


def test_xlsx_text_is_never_a_formula(risky_guests):
    with tenant_context(risky_guests):
        header, body = export_guests("xlsx")
    cells = [dict(zip(header, row, strict=True)) for row in body]
    assert all(c.data_type != "f" for row in body for c in row)
    assert cells[0]["given_name"].value == LINK and cells[0]["given_name"].data_type == "s"
    assert cells[0]["surname"].value == SUM and cells[0]["surname"].data_type == "s"
    assert cells[1]["given_name"].value == "@SUM(1+1)"
    assert cells[0]["vip_level"].value == 3 and cells[0]["vip_level"].data_type == "n"
    assert cells[0]["custom.points"].value == -5 and cells[0]["custom.points"].data_type == "n"
    assert '"amount": "12.50"' in cells[0]["custom.spend"].value


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_an_exported_file_imports_back_unchanged(risky_guests, tmp_path, file_format):
    with tenant_context(risky_guests):
        content = records_export(
            object_api_name="guest",
            queryset=Guest.objects.order_by("pk"),
            file_format=file_format,
            columns=["external_source", "external_id", "given_name", "surname", "phone"],
        )
        path = tmp_path / f"guests.{file_format}"
        path.write_bytes(content)
        report = import_file(object_api_name="guest", path=path, dry_run=False, actor=SYSTEM)
        assert (report["invalid"], report["updated"]) == (0, 2), report
        names = list(Guest.objects.order_by("pk").values_list("given_name", "surname", "phone"))
    assert names == [(LINK, SUM, "+351912345678"), ("@SUM(1+1)", "+Plus", "")]


def test_the_api_export_is_neutralised_too(risky_guests):
    client = api(risky_guests)
    as_csv = client.get("/api/v1/guests/export/?file_format=csv")
    assert as_csv.status_code == 200
    text = as_csv.content.decode("utf-8-sig")
    assert f"'{LINK}".replace('"', '""') in text and f",'{SUM}," in text
    as_xlsx = client.get("/api/v1/guests/export/?file_format=xlsx")
    assert as_xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).worksheets[0]
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]


@pytest.mark.parametrize(
    "text, written",
    [
        ("=1+1", "'=1+1"),
        ("+Plus", "'+Plus"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("-12.50", "-12.50"),
        ("+351912345678", "+351912345678"),
        ("Ana", "Ana"),
        ("'quoted", "'quoted"),
    ],
)
def test_which_text_is_quoted_and_read_back(text, written):
    assert text_neutralise(text) == written
    assert text_unneutralise(written) == text
