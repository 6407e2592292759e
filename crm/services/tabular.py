"""Reading and writing CSV/XLSX tables (header row + data rows)."""

from __future__ import annotations

import csv
import io
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
                    yield header, row
        return
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        for row in rows:
            if any(cell not in (None, "") for cell in row):
                yield header, ["" if cell is None else cell for cell in row]
    finally:
        workbook.close()


def _cell(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return "" if value is None else value


def table_write(header: list[str], rows: Iterator[list], file_format: str) -> bytes:
    if file_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        for row in rows:
            writer.writerow([_cell(v) for v in row])
        return buffer.getvalue().encode("utf-8")
    if file_format == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("export")
        sheet.append(header)
        for row in rows:
            sheet.append([_cell(v) if isinstance(v, list) else v for v in row])
        binary = io.BytesIO()
        workbook.save(binary)
        return binary.getvalue()
    raise ValidationError({"file_format": f"{file_format} is not csv or xlsx."})
