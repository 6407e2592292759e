"""Hostile and broken upload files, shared by the import service and wizard tests."""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook

HEADER = "given_name,surname,email\n"

# Entity declarations that expand a few bytes into billions (billion laughs)...
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
)
# ... or read a file of the server's into a cell.
EXTERNAL = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def workbook_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_entities(prolog: bytes, reference: bytes) -> bytes:
    """A real workbook whose sheet declares ``prolog``'s entities and uses one in a
    cell, as an attacker would build it."""
    source = zipfile.ZipFile(io.BytesIO(workbook_bytes([["given_name", "surname"], ["A", "X"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                if data.startswith(b"<?xml"):
                    data = data.split(b"?>", 1)[1]
                data = prolog + data.replace(
                    b'<c r="B2" t="inlineStr"><is><t>X</t></is></c>',
                    b'<c r="B2" t="inlineStr"><is><t>' + reference + b"</t></is></c>",
                )
                assert reference in data
            target.writestr(item, data)
    return out.getvalue()


BAD_FILES = {
    # name: (file name, content, what the message says)
    "not_a_workbook": (
        "guests.xlsx",
        HEADER.encode() + b"Ana,Lima,a@x.example\n",
        "not an Excel workbook",
    ),
    "damaged_workbook": ("guests.xlsx", workbook_bytes([["surname"], ["Lima"]])[:700], "cannot be"),
    "billion_laughs": ("guests.xlsx", with_entities(LAUGHS, b"&lol3;"), "XML entity declarations"),
    "external_entity": (
        "guests.xlsx",
        with_entities(EXTERNAL, b"&xxe;"),
        "XML entity declarations",
    ),
    "huge_cell": (
        "guests.csv",
        (HEADER + "Ana,Lima,a@x.example\n" + "Bo," + "x" * 140_000 + ",b@x.example\n").encode(),
        "line 3 has a cell longer than 131,072 characters",
    ),
    "utf16": ("guests.csv", (HEADER + "Ana,Lima,a@x.example\n").encode("utf-16"), "not UTF-8 text"),
    "nul": ("guests.csv", (HEADER + "Ana,Li\x00ma,a@x.example\n").encode(), "NUL character"),
}
