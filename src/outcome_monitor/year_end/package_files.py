"""Cells of the auditor's package: how a warehouse value becomes a workbook cell and a CSV field.

Amounts are euro cents in the warehouse; a cell gets ``Decimal(cents) / 100`` (exact, never a
float in between) with a euro number format, so it is a number the auditor can add up, never
text. Text goes through ``spreadsheet_safety.neutralise`` and is written as an explicit string
cell. CSV: UTF-8 with BOM, ``;`` between fields, decimal comma, no thousands separator, CRLF
(what Dutch Excel opens without an import dialog), the same values as the workbook.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from outcome_monitor.year_end.spreadsheet_safety import neutralise

EURO_FORMAT = "€ #,##0.00"
NUMBER_FORMAT = "#,##0.00##"
INTEGER_FORMAT = "0"
DATE_FORMAT = "dd-mm-yyyy"
TIMESTAMP_FORMAT = "dd-mm-yyyy hh:mm:ss"
NUMBER_FORMATS = {
    "euro": EURO_FORMAT,
    "integer": INTEGER_FORMAT,
    "number": NUMBER_FORMAT,
    "date": DATE_FORMAT,
    "timestamp": TIMESTAMP_FORMAT,
}
CSV_DIALECT: dict[str, Any] = {
    "delimiter": ";",
    "quotechar": '"',
    "lineterminator": "\r\n",
    "quoting": csv.QUOTE_MINIMAL,
}
CSV_ENCODING = "utf-8-sig"
# Characters XML 1.0 cannot carry (openpyxl refuses them); replaced so one bad byte cannot stop a package.
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
REPLACEMENT = "\ufffd"
_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}


@dataclass(frozen=True)
class Column:
    name: str  # in the warehouse
    kind: str  # euro | integer | number | boolean | date | timestamp | text

    @property
    def header(self) -> str:
        # The value is in euros, not cents: the header says so.
        return self.name.removesuffix("_cents") + "_euro" if self.kind == "euro" else self.name


def column_kind(name: str, duckdb_type: str) -> str:
    base = duckdb_type.upper()
    if base in _INTEGER_TYPES:
        return "euro" if name.endswith("_cents") else "integer"
    if base.startswith("DECIMAL") or base in {"DOUBLE", "FLOAT", "REAL"}:
        return "number"
    if base == "BOOLEAN":
        return "boolean"
    if base == "DATE":
        return "date"
    if base.startswith("TIMESTAMP"):
        return "timestamp"
    return "text"  # VARCHAR, lists (joined), anything else as its text


def euros(cents: int) -> Decimal:
    """Exact euros from whole cents."""
    return Decimal(int(cents)).scaleb(-2)


def safe_text(value: Any) -> str:
    """A value as spreadsheet text: lists joined, XML-illegal characters replaced, formulas neutralised."""
    if isinstance(value, list | tuple):
        value = ", ".join("" if v is None else str(v) for v in value)
    return neutralise(XML_ILLEGAL.sub(REPLACEMENT, str(value)))


def cell_value(kind: str, value: Any) -> Any:
    """The typed value of a cell: Decimal, int, date, naive UTC datetime, or safe text."""
    if value is None:
        return None
    if kind == "euro":
        return euros(value)
    if kind == "integer":
        return int(value)
    if kind == "number":
        return value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    if kind == "boolean":
        return "ja" if value else "nee"
    if kind == "timestamp" and isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
    if kind == "date" and isinstance(value, dt.date):
        return value
    return safe_text(value)


def csv_text(value: Any) -> str:
    """A typed cell value as Dutch CSV text: decimal comma, ISO dates."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", ",")
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class _StreamedCell(Cell):
    """A cell reused for every row of one column (see SheetWriter.append); a cheap repr because
    openpyxl formats one while checking each appended value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<cel>"


class SheetWriter:
    """One sheet of the write-only workbook (title line, header, rows) and the same rows as CSV."""

    def __init__(
        self, workbook: Any, csv_path: Path, title: str, banner: str, headers: Sequence[str], kinds: Sequence[str]
    ) -> None:
        self.sheet = workbook.create_sheet(title)
        for index, header in enumerate(headers, 1):  # widths must be set before the first row (write-only)
            self.sheet.column_dimensions[get_column_letter(index)].width = max(12, min(40, len(header) + 4))
        self.sheet.freeze_panes = "A3"
        bold = Font(bold=True)
        self.sheet.append([self._fresh_text(banner, bold)])
        self.sheet.append([self._fresh_text(safe_text(header), bold) for header in headers])
        self._csv_file = csv_path.open("w", encoding=CSV_ENCODING, newline="")
        self._csv = csv.writer(self._csv_file, **CSV_DIALECT)
        self._csv.writerow([safe_text(header) for header in headers])
        # Creating and styling a cell per value costs more than writing it: a write-only sheet writes
        # each row out before append() returns, so one text cell and one typed cell per column serve
        # every row (the read-back tests would see repeated values if that ever changed).
        self._text_cells = [_StreamedCell(self.sheet, column=1, row=1) for _ in kinds]
        self._typed_cells = []
        for kind in kinds:
            cell = _StreamedCell(self.sheet, column=1, row=1)
            if kind in NUMBER_FORMATS:
                cell.number_format = NUMBER_FORMATS[kind]
            self._typed_cells.append(cell)
        self.width = len(headers)
        self.rows = 0

    def _fresh_text(self, text: str, font: Font | None = None) -> Cell:
        cell = Cell(self.sheet, column=1, row=1)
        cell._value = text
        cell.data_type = "s"
        if font is not None:
            cell.font = font
        return cell

    def append(self, values: Sequence[Any], kinds: Sequence[str | None] | None = None) -> None:
        """One row of typed values (cell_value's output); `kinds` formats a row of mixed kinds."""
        if kinds is not None:
            self._append_mixed(values, kinds)
            return
        cells: list[Cell | None] = []
        fields: list[str] = []
        for index, value in enumerate(values):
            if value is None:
                cells.append(None)
                fields.append("")
                continue
            if isinstance(value, str):
                value = neutralise(value)  # a no-op for cell_value's text; here so no caller can forget it
                cell = self._text_cells[index]
                cell.data_type = "s"  # explicit: never a formula ('=...') or an error value ('#N/A')
            else:
                cell = self._typed_cells[index]
                cell.data_type = "d" if isinstance(value, dt.date) else "n"
            cell._value = value
            cells.append(cell)
            fields.append(csv_text(value))
        self.sheet.append(cells)
        self._csv.writerow(fields)
        self.rows += 1

    def _append_mixed(self, values: Sequence[Any], kinds: Sequence[str | None]) -> None:
        cells: list[Cell | None] = []
        for value, kind in zip(values, kinds, strict=True):
            if value is None or isinstance(value, str):
                cells.append(None if value is None else self._fresh_text(neutralise(value)))
                continue
            cell = Cell(self.sheet, column=1, row=1, value=value)
            if kind in NUMBER_FORMATS:
                cell.number_format = NUMBER_FORMATS[kind]
            cells.append(cell)
        self.sheet.append(cells)
        self._csv.writerow([csv_text(neutralise(v) if isinstance(v, str) else v) for v in values])
        self.rows += 1

    def close(self) -> None:
        if self.width:
            self.sheet.auto_filter.ref = f"A2:{get_column_letter(self.width)}{self.rows + 2}"
        self._csv_file.close()
