"""Tabular submission files (CSV and XLSX) as members of the sender's half-year ZIP bundle.

Choice: a tabular file travels in the same ``<half-year>_<sender>.zip`` bundle as the sender's XML,
one member per kind (``uitkomst_42100317_2025-H1.xlsx``), with the delivery day as the member's
timestamp. That keeps one submission per sender per half-year, as the XML already has, instead of
a hundred more small files for the inbox. A file delivered after the period's last half-year (a
productieverantwoording in March) opens a bundle for the half-year it is delivered in.

Each file holds exactly one kind with the columns of ``docs/aanlevering.md``. Rows are collected as
typed values (text, whole numbers, euro cents, day ordinals) and rendered only when the member is
written, in the sender's dialect: spooled to disk in batches, so a national run holds little.

Line numbers (``FIRST_DATA_LINE``): as a spreadsheet shows them, the header is line 1 and the first
data row line 2, in CSV and XLSX alike. The ground truth names defects by that number.
"""

from __future__ import annotations

import csv
import io
import pickle
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from outcome_monitor.generate.profiles import Format

FIRST_DATA_LINE = 2
_BATCH = 4000  # rows held per file before they are pickled to its spool

TEXT, INT, EURO, DATE = "text", "int", "euro", "date"

# Columns written per kind (name, type); a subset of docs/aanlevering.md in its order.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "toewijzing": (
        ("gemeente_code", TEXT), ("aanbieder_agb", TEXT), ("domein", TEXT), ("toewijzingnummer", TEXT),
        ("bsn", TEXT), ("productcategorie", TEXT), ("productcode", TEXT), ("toewijzingsdatum", DATE),
        ("ingangsdatum", DATE), ("einddatum", DATE), ("volume", INT), ("eenheid", TEXT), ("frequentie", TEXT),
    ),
    "levering": (
        ("gemeente_code", TEXT), ("aanbieder_agb", TEXT), ("domein", TEXT), ("soort", TEXT),
        ("toewijzingnummer", TEXT), ("bsn", TEXT), ("productcategorie", TEXT), ("productcode", TEXT),
        ("toewijzing_ingangsdatum", DATE), ("begindatum", DATE), ("einddatum", DATE),
        ("reden_beeindiging", TEXT), ("status_aanlevering", TEXT),
    ),
    "declaratie": (
        ("gemeente_code", TEXT), ("aanbieder_agb", TEXT), ("domein", TEXT), ("declaratienummer", TEXT),
        ("declaratie_begindatum", DATE), ("declaratie_einddatum", DATE), ("declaratie_dagtekening", DATE),
        ("referentienummer", TEXT), ("toewijzingnummer", TEXT), ("bsn", TEXT), ("productcategorie", TEXT),
        ("productcode", TEXT), ("productperiode_begindatum", DATE), ("productperiode_einddatum", DATE),
        ("volume", INT), ("eenheid", TEXT), ("tarief", EURO), ("bedrag", EURO), ("debet_credit", TEXT),
    ),
    "uitkomst": (
        ("gemeente_code", TEXT), ("aanbieder_agb", TEXT), ("domein", TEXT), ("toewijzingnummer", TEXT),
        ("bsn", TEXT), ("meetdatum", DATE), ("informant", TEXT), ("tevredenheid", INT),
        ("zonder_hulp_verder", TEXT), ("doelrealisatie", INT),
    ),
    "zrm": (
        ("gemeente_code", TEXT), ("aanbieder_agb", TEXT), ("domein", TEXT), ("bsn", TEXT), ("meetdatum", DATE),
        ("meetmoment", TEXT), ("zrm_domein", INT), ("score", INT),
    ),
    "clientervaring": (
        ("gemeente_code", TEXT), ("jaar", INT), ("wet", TEXT), ("respondent_id", TEXT), ("vraag_code", TEXT),
        ("antwoord", INT), ("aanbieder_agb", TEXT),
    ),
    "productieverantwoording": (
        ("aanbieder_agb", TEXT), ("jaar", INT), ("gemeente_code", TEXT), ("domein", TEXT), ("productcode", TEXT),
        ("volume", INT), ("bedrag", EURO), ("controleverklaring", TEXT), ("versie", TEXT),
    ),
    "afspraak": (
        ("indicator_code", TEXT), ("gemeente_code", TEXT), ("domein", TEXT), ("aanbieder_agb", TEXT),
        ("productcategorie", TEXT), ("periode", TEXT), ("baseline", "decimal"), ("streefwaarde", "decimal"),
        ("richting", TEXT), ("afgesproken_op", DATE),
    ),
    "contracttarief": (
        ("gemeente_code", TEXT), ("aanbieder_agb", TEXT), ("domein", TEXT), ("productcode", TEXT),
        ("eenheid", TEXT), ("tarief", EURO), ("ingangsdatum", DATE), ("einddatum", DATE),
    ),
}  # fmt: skip


class Raw(str):
    """A cell written literally, whatever the column type: how a planted defect looks in the file."""

    __slots__ = ()


def column_index(kind: str, name: str) -> int:
    return [c for c, _t in COLUMNS[kind]].index(name)


def euro_text(cents: int, decimal: str) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}{decimal}{cents % 100:02d}"


def date_text(ordinal: int, dmy: bool) -> str:
    iso = date.fromordinal(ordinal).isoformat()
    return f"{iso[8:10]}-{iso[5:7]}-{iso[:4]}" if dmy else iso


@dataclass(slots=True)
class TabularFile:
    """One tabular member being collected: its rows wait in ``rows`` and in a pickle spool."""

    kind: str
    member: str
    bundle_file: str
    fmt: Format
    delivered: int  # day ordinal: the member's timestamp
    spool: Path
    rows: list
    count: int = 0

    def add(self, row: list) -> int:
        """Append a row; return its line number in the file."""
        self.rows.append(row)
        self.count += 1
        if len(self.rows) >= _BATCH:
            self._flush()
        return self.count - 1 + FIRST_DATA_LINE

    def _flush(self) -> None:
        with open(self.spool, "ab") as fh:
            pickle.dump(self.rows, fh, protocol=pickle.HIGHEST_PROTOCOL)
        self.rows = []

    def all_rows(self) -> Iterator[list]:
        if self.spool.exists():
            with open(self.spool, "rb") as fh:
                while True:
                    try:
                        yield from pickle.load(fh)
                    except EOFError:
                        break
            self.spool.unlink()
        yield from self.rows
        self.rows = []

    # -- rendering ---------------------------------------------------------------------------

    def csv_chunks(self) -> Iterator[bytes]:
        """The CSV text in the sender's dialect, encoded, in chunks (BOM only at the start)."""
        dialect = self.fmt.dialect
        assert dialect is not None
        types = [t for _c, t in COLUMNS[self.kind]]
        body_encoding = "utf-8" if dialect.encoding == "utf-8-sig" else dialect.encoding
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=dialect.delimiter, lineterminator="\r\n")
        writer.writerow([c for c, _t in COLUMNS[self.kind]])
        first = True
        for n, row in enumerate(self.all_rows(), start=1):
            writer.writerow([_csv_cell(v, t, dialect.decimal, dialect.dmy) for v, t in zip(row, types, strict=True)])
            if n % 2000 == 0:
                yield buffer.getvalue().encode(dialect.encoding if first else body_encoding)
                first = False
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode(dialect.encoding if first else body_encoding)

    def write_xlsx(self, path: Path) -> None:
        """An Excel workbook with one sheet, typed cells, byte-identical for the same rows."""
        from openpyxl import Workbook
        from openpyxl.writer.excel import ExcelWriter

        fixed = datetime.fromordinal(self.delivered).replace(hour=12)
        wb = Workbook(write_only=True)
        wb.properties.creator = "outcome-monitor sample generator"
        wb.properties.created = fixed
        wb.properties.modified = fixed
        ws = wb.create_sheet(self.kind)
        types = [t for _c, t in COLUMNS[self.kind]]
        ws.append([c for c, _t in COLUMNS[self.kind]])
        for row in self.all_rows():
            ws.append([_xlsx_cell(v, t) for v, t in zip(row, types, strict=True)])
        with _FixedTimeZip(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            archive.fixed = fixed.timetuple()[:6]
            ExcelWriter(wb, archive).save()  # not openpyxl.save_workbook: that stamps the clock in


def _csv_cell(value: object, kind: str, decimal: str, dmy: bool) -> str:
    if value is None:
        return ""
    if type(value) is Raw:
        return str(value)
    if kind == DATE:
        return date_text(value, dmy)  # type: ignore[arg-type]
    if kind == EURO:
        return euro_text(value, decimal)  # type: ignore[arg-type]
    if kind == "decimal":
        return f"{value}".replace(".", decimal)
    return str(value)


def _xlsx_cell(value: object, kind: str) -> object:
    if value is None or type(value) is Raw:
        return None if value is None else str(value)
    if kind == DATE:
        return date.fromordinal(value)  # type: ignore[arg-type]
    if kind == EURO:
        return round(value / 100, 2)  # type: ignore[operator]
    return value


class _FixedTimeZip(zipfile.ZipFile):
    """A ZipFile that stamps every member with one fixed time instead of the clock or a file's mtime."""

    fixed: tuple[int, int, int, int, int, int] = (1980, 1, 1, 0, 0, 0)

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=self.fixed)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        return info

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):  # type: ignore[override]
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = self._info(zinfo_or_arcname)
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):  # type: ignore[override]
        # openpyxl's write-only sheets arrive as temporary files; copy them in streaming.
        with open(filename, "rb") as src, self.open(self._info(arcname or Path(filename).name), "w") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
