"""Reading and writing CSV/XLSX tables (header row + data rows).

Uploaded files are untrusted. Whatever is wrong with one (not a workbook, not UTF-8
text, a cell beyond the size limit, XML entity declarations, a damaged archive) comes out
of the reading functions as a ``ValidationError`` on ``file`` that names the problem,
before any row is handed over, never as a crash halfway through an import.
XLSX parts are parsed by openpyxl through defusedxml (openpyxl uses it whenever it is
installed), which refuses DTDs with entities: the billion-laughs expansion and external
entities that read the server's files.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from django.core.exceptions import ValidationError

FORMATS = ("csv", "xlsx")
# Python's csv limit (128 KiB per cell), kept: no import column needs more, and a
# larger cell is refused by name instead of being read into memory.
CELL_LIMIT = csv.field_size_limit()
# What a workbook may unpack to. XML is verbose (a 50 MB upload unpacks to a few hundred
# MB); a zip bomb unpacks to far more. zipfile stops each part at its declared size, so
# the declared sizes are a bound that holds.
XLSX_MAX_UNPACKED = 1024 * 1024 * 1024


def file_format_of(name: str) -> str:
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValidationError({"file": f"{name}: only .csv and .xlsx files can be imported."})
    return suffix


def _unreadable(problem: str, code: str = "unreadable") -> ValidationError:
    return ValidationError({"file": ValidationError(problem, code=code)})


def file_errors_named(exc: ValidationError, file_name: str) -> ValidationError:
    """The same errors with the uploader's file name before those about the file (the
    services read a stored copy under a name of their own)."""
    if not hasattr(exc, "error_dict") or "file" not in exc.error_dict:
        return exc
    errors = dict(exc.error_dict)
    errors["file"] = [
        ValidationError(f"{file_name}: {message}", code=error.code)
        for error in exc.error_dict["file"]
        for message in error.messages
    ]
    return ValidationError(errors)


# --- CSV ------------------------------------------------------------------------------


def _csv_records(path: Path) -> Iterator[list[str]]:
    """Every record of a CSV file, or the ValidationError that says what is wrong."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    if "field larger than field limit" in str(exc):
                        raise _unreadable(
                            f"line {reader.line_num} has a cell longer than {CELL_LIMIT:,} "
                            "characters.",
                            code="cell_too_long",
                        ) from None
                    raise _unreadable(f"line {reader.line_num} is not valid CSV: {exc}.") from None
                if any("\x00" in cell for cell in row):
                    # Never valid in text (PostgreSQL refuses it); a file full of them is
                    # UTF-16 or not text at all.
                    raise _unreadable(
                        f"line {reader.line_num} contains a NUL character; save the file as "
                        "CSV (UTF-8).",
                        code="not_text",
                    )
                yield row
    except UnicodeDecodeError:
        raise _unreadable(
            "this is not UTF-8 text; save the file as CSV (UTF-8).", code="not_text"
        ) from None


def _csv_check(path: Path) -> int:
    """Read the whole file once before any row is used, so a bad line near the end
    stops the import before the first rows were written. Returns the record count."""
    return sum(1 for _ in _csv_records(path))


# --- XLSX -----------------------------------------------------------------------------


def _xlsx_problem(exc: BaseException) -> ValidationError:
    """What a parsing failure means for the uploader. openpyxl wraps the parser's error
    in a ValueError of its own, so the chain of causes is searched."""
    from defusedxml import DefusedXmlException

    seen: BaseException | None = exc
    for _depth in range(10):  # a chain is short; never follow a cycle for ever
        if seen is None:
            break
        if isinstance(seen, DefusedXmlException):
            return _unreadable(
                "the workbook contains XML entity declarations, which are refused (they can "
                "expand without bound or read files); save it again from a spreadsheet "
                "program.",
                code="xml_entities",
            )
        if isinstance(seen, zipfile.BadZipFile | EOFError):
            return _unreadable("the workbook is damaged: its archive cannot be unpacked.")
        seen = seen.__cause__ or seen.__context__
    return _unreadable(
        "this Excel workbook cannot be read; save it again as .xlsx from a spreadsheet program."
    )


def _xlsx_open(path: Path):
    from openpyxl import load_workbook

    if not zipfile.is_zipfile(path):
        raise _unreadable(
            "this is not an Excel workbook (.xlsx); old .xls files and password-protected "
            "workbooks cannot be imported.",
            code="not_xlsx",
        )
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise _xlsx_problem(exc) from None
    if unpacked > XLSX_MAX_UNPACKED:
        raise _unreadable(
            f"the workbook unpacks to more than {XLSX_MAX_UNPACKED // 1024**2:,} MB.",
            code="too_large",
        )
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # any failure of the parser is the file's
        raise _xlsx_problem(exc) from None
    if not workbook.worksheets:
        workbook.close()
        raise _unreadable("the workbook has no worksheet.", code="empty")
    return workbook


def _xlsx_records(workbook) -> Iterator[tuple]:
    """The first sheet's rows; a parsing failure on the way is the file's problem."""
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # the sheet is parsed as it is read
            raise _xlsx_problem(exc) from None
        yield row


# --- reading --------------------------------------------------------------------------


def table_count(path: Path, file_format: str) -> int:
    """Number of data rows (for progress)."""
    if file_format == "csv":
        return max(_csv_check(path) - 1, 0)
    workbook = _xlsx_open(path)
    try:
        return max((workbook.worksheets[0].max_row or 1) - 1, 0)
    finally:
        workbook.close()


def table_header(path: Path, file_format: str) -> list[str]:
    """The first row's column names (the whole file is checked first for CSV)."""
    if file_format == "csv":
        _csv_check(path)
        return [h.strip() for h in next(_csv_records(path), [])]
    workbook = _xlsx_open(path)
    try:
        first = next(_xlsx_records(workbook), ())
        return [str(h).strip() if h is not None else "" for h in first]
    finally:
        workbook.close()


def table_rows(path: Path, file_format: str) -> Iterator[tuple[list[str], list]]:
    """Yield (header, row values) for every non-empty data row. Raises ValidationError
    on ``file`` for a file that cannot be read, before the first row for CSV."""
    if file_format == "csv":
        _csv_check(path)
        records = _csv_records(path)
        header = [h.strip() for h in next(records, [])]
        for row in records:
            if any(cell.strip() for cell in row):
                yield header, [text_unneutralise(cell) for cell in row]
        return
    workbook = _xlsx_open(path)
    try:
        rows = _xlsx_records(workbook)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        for values in rows:
            if any(cell not in (None, "") for cell in values):
                yield header, ["" if cell is None else text_unneutralise(cell) for cell in values]
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
