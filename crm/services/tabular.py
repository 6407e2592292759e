"""Reading and writing CSV/XLSX tables (header row + data rows)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from django.core.exceptions import ValidationError

FORMATS = ("csv", "xlsx")


def file_format_of(name: str) -> str:
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValidationError({"file": f"{name}: only .csv and .xlsx files can be imported."})
    return suffix


def table_count(path: Path, file_format: str) -> int:
    """Number of data rows (for progress)."""
    if file_format == "csv":
        with path.open(newline="", encoding="utf-8-sig") as fh:
            return max(sum(1 for _ in csv.reader(fh)) - 1, 0)
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        return max((workbook.worksheets[0].max_row or 1) - 1, 0)
    finally:
        workbook.close()


def table_rows(path: Path, file_format: str) -> Iterator[tuple[list[str], list]]:
    """Yield (header, row values) for every non-empty data row."""
    if file_format == "csv":
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            for row in reader:
                if any(cell.strip() for cell in row):
                    yield header, [text_unneutralise(cell) for cell in row]
        return
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        for row in rows:
            if any(cell not in (None, "") for cell in row):
                yield header, ["" if cell is None else text_unneutralise(cell) for cell in row]
    finally:
        workbook.close()


# A spreadsheet takes a cell starting with one of these for a formula (tab and carriage
# return because some programs strip them first): OWASP's list for CSV injection.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Text that is only a number ("-12.50", a phone number "+351912345678") computes nothing
# and keeps its exact value without the quote.
PLAIN_NUMBER_RE = re.compile(r"[+-]?\d+(\.\d+)?")


def text_neutralise(text: str) -> str:
    """Text a spreadsheet would run as a formula, with a leading ``'`` so it shows as
    text, as OWASP recommends (``=HYPERLINK(...)`` -> ``'=HYPERLINK(...)``)."""
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER_RE.fullmatch(text):
        return "'" + text
    return text


def text_unneutralise(value):
    """The reverse, for files read back: an exported file imports with its values as
    they were. Only a quote before a formula character is ours to remove."""
    if isinstance(value, str) and value[:1] == "'" and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def _plain(value):
    """What both formats write for a value that is not a number, date or text."""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):  # money custom values: {"amount": ..., "currency": ...}
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _csv_cell(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    value = _plain(value)
    if value is None:
        return ""
    return text_neutralise(value) if isinstance(value, str) else value


def _xlsx_cell(sheet, value):
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.isoformat()  # Excel has no time zones; the text keeps the offset
    value = _plain(value)
    if not isinstance(value, str):
        return WriteOnlyCell(sheet, value=value)
    # Control characters are not allowed in the file format; show that one was there.
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("\ufffd", value))
    # openpyxl stores text starting with "=" as a formula and "#N/A" as an error;
    # text is always text here, so it never runs when the file is opened.
    cell.data_type = "s"
    return cell


def table_write(header: list[str], rows: Iterator[list], file_format: str) -> bytes:
    """The table as a CSV file (UTF-8 with a byte order mark, so Excel reads accents
    and scripts right) or an XLSX workbook. Neither can carry a formula: CSV text that
    looks like one is quoted, XLSX text cells are strings. Numbers stay numbers."""
    if file_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([_csv_cell(h) for h in header])
        for row in rows:
            writer.writerow([_csv_cell(v) for v in row])
        return buffer.getvalue().encode("utf-8-sig")
    if file_format == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("export")
        sheet.append([_xlsx_cell(sheet, h) for h in header])
        for row in rows:
            sheet.append([_xlsx_cell(sheet, v) for v in row])
        binary = io.BytesIO()
        workbook.save(binary)
        return binary.getvalue()
    raise ValidationError({"file_format": f"{file_format} is not csv or xlsx."})
