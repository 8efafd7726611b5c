"""Reading CSV, XLSX and JSON into batches of text cells, column by column, with the lines a provider sees.

Each reader recognises the kind from the header (kinds.recognise) and yields `Batch`es: per header
position the column's cell texts, the line number of every row, and the cells the reader itself
refuses (an Excel formula without value, a JSON list) or that have no column.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from outcome_monitor.ingest.bundle import Limits
from outcome_monitor.ingest.kinds import HeaderMatch, normalise_name, recognise
from outcome_monitor.ingest.rejection import MessageRejected

BATCH_ROWS = 50_000


@dataclass(frozen=True)
class TabularLimits:
    max_file_bytes: int = 512 * 1024 * 1024
    max_rows: int = 5_000_000
    # The XLSX container: member count, total uncompressed size and compression ratio, as for bundles.
    xlsx: Limits = Limits(max_total_bytes=1024 * 1024 * 1024)


@dataclass
class Batch:
    # The line number a provider sees (CSV line, Excel row, JSON position), per row: a list, or an Arrow
    # array when the columns are Arrow text arrays (the CSV fast path).
    lines: Any
    columns: list[Any]  # per header position the cell texts (a sequence or Arrow array); None for unnamed ones
    # Cells the reader refuses: row index -> [(header position, reason)]
    refused: dict[int, list[tuple[int, str]]] = field(default_factory=dict)
    # Values without a column (under an empty header cell, or right of the last one): row index -> [(pos, text)]
    strays: dict[int, list[tuple[int, str]]] = field(default_factory=dict)


def _from_records(lines: list[int], records: list[list[str]], match: HeaderMatch, refused=None) -> Batch:
    """A batch from row-wise records (the Python CSV path, XLSX and JSON)."""
    width, named = match.width, set(match.positions.values())
    strays: dict[int, list[tuple[int, str]]] = {}
    if len(named) < width or any(len(record) != width for record in records):
        for index, record in enumerate(records):
            extra = [(pos, text.strip()) for pos, text in enumerate(record) if pos not in named and text.strip()]
            if extra:
                strays[index] = extra
        records = [record + [""] * (width - len(record)) if len(record) < width else record for record in records]
    transposed = list(zip(*records, strict=False)) if records else [()] * width
    columns: list[Sequence[str] | None] = [transposed[pos] if pos in named else None for pos in range(width)]
    return Batch(lines, columns, refused or {}, strays)


# --- text and CSV ------------------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, bytes]:
    """The text and its UTF-8 bytes: UTF-8 (with or without BOM) when valid, else Windows-1252, else refused."""
    if b"\x00" in data:
        raise MessageRejected(
            "OM007",
            "Het bestand bevat NUL-tekens (UTF-16?); sla het op als CSV UTF-8 of CSV (puntkomma).",
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), data
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as error:
        raise MessageRejected(
            "OM007",
            "De tekenset van het bestand is onleesbaar: lever UTF-8 of Windows-1252 aan.",
            f"byte {data[error.start]:#04x} op positie {error.start}",
        ) from None
    return text, text.encode("utf-8")


def read_csv(data: bytes, kind: str | None, limits: TabularLimits) -> tuple[HeaderMatch, Iterator[Batch]]:
    text, utf8 = decode(data)
    header_lines, start = 0, 0
    while True:  # the header is the first line that is not blank
        end = text.find("\n", start)
        header_line = text[start:] if end < 0 else text[start : end + 1]
        header_lines += 1
        if header_line.strip() or end < 0:
            break
        start = end + 1
    separator, match = _sniff(header_line.rstrip("\r\n"), kind)
    table = _arrow_table(utf8, separator, header_lines, match.width)
    if table is not None:
        return match, _arrow_batches(table, header_lines, match)
    stream = io.StringIO(text, newline="")
    for _ in range(header_lines):
        stream.readline()
    reader = csv.reader(stream, delimiter=separator, quotechar='"', strict=True)
    return match, _csv_batches(reader, header_lines, match)


def _sniff(header_line: str, kind: str | None) -> tuple[str, HeaderMatch]:
    """The separator that makes the header a known kind: ';' first (Dutch Excel), then ','."""
    failures = []
    for separator in (";", ","):
        names = next(csv.reader([header_line], delimiter=separator), [])
        try:
            return separator, recognise(names, kind)
        except MessageRejected as problem:
            failures.append((sum(1 for name in names if normalise_name(name)), problem))
    # Explain with the separator that split the header into the most names.
    raise max(failures, key=lambda failure: failure[0])[1]


def _arrow_table(utf8: bytes, separator: str, header_lines: int, width: int):
    """The fast path: pyarrow reads every cell as text. None when the file needs the careful Python reader:
    a row of another width, a quoted line break (line numbers would shift), or anything else pyarrow minds."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [f"c{position}" for position in range(width)]
    try:
        table = pacsv.read_csv(
            io.BytesIO(utf8),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=header_lines),
            parse_options=pacsv.ParseOptions(
                delimiter=separator,
                quote_char='"',
                double_quote=True,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    # One row per physical line after the header, or the line numbers would lie.
    start = 0
    for _ in range(header_lines):
        start = utf8.find(b"\n", start) + 1
    physical = utf8.count(b"\n", start) + (0 if utf8.endswith(b"\n") or start >= len(utf8) else 1)
    return table if start and table.num_rows == physical else None


def _arrow_batches(table, header_lines: int, match: HeaderMatch) -> Iterator[Batch]:
    """The whole table as one batch of Arrow columns: converted in Arrow, never a list per cell."""
    import pyarrow as pa
    import pyarrow.compute as pc

    first_line = header_lines + 1
    # Blank lines and Excel's ';;;;' rows are no rows: empty in every column. Most files have none, and
    # the first column already says so.
    blank = None
    for column in table.columns:
        empty = pc.equal(column, "")
        blank = empty if blank is None else pc.and_(blank, empty)
        if not pc.any(blank).as_py():
            break
    keep = pc.invert(blank)
    if pc.all(keep).as_py():
        line_numbers = pa.array(range(first_line, first_line + table.num_rows), pa.int64())
    else:
        line_numbers = pc.add(pc.indices_nonzero(keep).cast(pa.int64()), first_line)
        table = table.filter(keep)
    if table.num_rows == 0:
        return
    named = set(match.positions.values())
    columns = [table.column(pos).combine_chunks() if pos in named else None for pos in range(match.width)]
    strays: dict[int, list[tuple[int, str]]] = {}
    for position in range(match.width):
        if position in named:
            continue
        texts = pc.utf8_trim_whitespace(table.column(position))
        if pc.any(pc.greater(pc.utf8_length(texts), 0)).as_py():
            for index, text in enumerate(texts.to_pylist()):
                if text:
                    strays.setdefault(index, []).append((position, text))
    yield Batch(line_numbers, columns, {}, strays)


def _csv_batches(reader, header_lines: int, match: HeaderMatch) -> Iterator[Batch]:
    """The careful path: Python's csv module, exact line numbers even with line breaks inside quotes."""
    lines: list[int] = []
    records: list[list[str]] = []
    last = header_lines
    try:
        for record in reader:
            start, last = last + 1, header_lines + reader.line_num
            if not any(record):  # a blank line, or Excel's ';;;;' for a formatted but empty row
                continue
            lines.append(start)
            records.append(record)
            if len(records) >= BATCH_ROWS:
                yield _from_records(lines, records, match)
                lines, records = [], []
    except csv.Error as error:
        raise MessageRejected(
            "OM001",
            "Het CSV-bestand is onleesbaar (aanhalingstekens of veldlengte).",
            f"regel {header_lines + reader.line_num}: {error}",
        ) from None
    if records:
        yield _from_records(lines, records, match)


# --- XLSX --------------------------------------------------------------------------------------------


def check_container(data: bytes, limits: Limits) -> None:
    """Refuse an XLSX whose ZIP container breaks the bundle limits, before anything is decompressed."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise MessageRejected("OM001", "Het Excel-bestand is geen geldig .xlsx-bestand.", str(error)) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            raise MessageRejected(
                "OM005", "Het Excel-bestand bevat te veel onderdelen.", f"{len(infos)}, maximaal {limits.max_members}"
            )
        total = sum(info.file_size for info in infos)
        if total > limits.max_total_bytes:
            raise MessageRejected(
                "OM005",
                "Het Excel-bestand is uitgepakt groter dan toegestaan.",
                f"{total} bytes, maximaal {limits.max_total_bytes}",
            )
        for info in infos:
            # Declared sizes bound what can be read: zipfile stops at file_size and then checks the CRC.
            if info.file_size / max(info.compress_size, 1) > limits.max_compression_ratio:
                raise MessageRejected(
                    "OM005", "Verdachte compressieverhouding in het Excel-bestand (zipbom).", info.filename
                )


def read_xlsx(data: bytes, kind: str | None, limits: TabularLimits) -> tuple[HeaderMatch, Iterator[Batch]]:
    check_container(data, limits.xlsx)
    from openpyxl import load_workbook
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as error:  # openpyxl raises many kinds of error on a damaged file
        raise MessageRejected("OM001", "Het Excel-bestand is onleesbaar.", f"{type(error).__name__}: {error}") from None
    # The template's data sheet is 'gegevens'; any other workbook: its first sheet.
    sheet = workbook["gegevens"] if "gegevens" in workbook.sheetnames else workbook.worksheets[0]
    if not isinstance(sheet, ReadOnlyWorksheet):
        workbook.close()
        raise MessageRejected("OM001", "Het eerste werkblad van het Excel-bestand bevat geen tabel.")
    rows = _sheet_rows(workbook, sheet)
    try:
        for _number, cells in rows:
            texts = [text for text, _ in cells]
            if any(texts):
                match = recognise(texts, kind)
                return match, _xlsx_batches(rows, match, workbook)
    except MessageRejected:
        workbook.close()
        raise
    workbook.close()
    raise MessageRejected("OM001", "Het werkblad is leeg: geen kopregel gevonden.")


def _sheet_rows(workbook, sheet) -> Iterator[tuple[int, list[tuple[str, str | None]]]]:
    """(Excel row number, [(cell text, refusal reason)]) per row, from the sheet XML as openpyxl parses it.

    openpyxl's own row iterator is bypassed for one reason: with data_only a formula that Excel never
    calculated reads as an empty cell; this parser marks it, so it cannot pass as empty.
    """
    from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

    class CachedValuesOnly(WorkSheetParser):
        def parse_cell(self, element):
            cell = super().parse_cell(element)
            if cell["value"] is None and element.find(FORMULA_TAG) is not None:
                cell["data_type"] = "f"
            return cell

    try:
        with sheet._get_source() as source:
            parser = CachedValuesOnly(
                source,
                sheet._shared_strings,
                data_only=True,
                epoch=workbook.epoch,
                date_formats=workbook._date_formats,
                timedelta_formats=workbook._timedelta_formats,
            )
            for number, parsed in parser.parse():
                width = max((cell["column"] for cell in parsed), default=0)
                cells: list[tuple[str, str | None]] = [("", None)] * width
                for cell in parsed:
                    cells[cell["column"] - 1] = excel_text(cell["value"], cell["data_type"])
                yield number, cells
    except MessageRejected:
        raise
    except Exception as error:
        raise MessageRejected("OM001", "Het werkblad is onleesbaar.", f"{type(error).__name__}: {error}") from None


def excel_text(value: Any, data_type: str) -> tuple[str, str | None]:
    """An Excel cell as the text a CSV would hold, or a reason why it cannot be one."""
    if data_type == "f":
        return "", "een formule zonder opgeslagen waarde (plak de waarde als waarde)"
    if data_type == "e":
        return "", f"een Excel-foutwaarde ({value})"
    if value is None:
        return "", None
    if isinstance(value, bool):
        return "", "een WAAR/ONWAAR-waarde"
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat(), None
        return value.isoformat(sep=" "), None  # a time of day in a date column is refused as a date
    if isinstance(value, date):
        return value.isoformat(), None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value)), None
    return str(value), None


def _xlsx_batches(rows, match: HeaderMatch, workbook) -> Iterator[Batch]:
    lines: list[int] = []
    records: list[list[str]] = []
    refused: dict[int, list[tuple[int, str]]] = {}
    try:
        for number, cells in rows:
            texts = [text for text, _ in cells]
            reasons = [(position, reason) for position, (_, reason) in enumerate(cells) if reason]
            if not any(texts) and not reasons:
                continue
            if reasons:
                refused[len(lines)] = reasons
            lines.append(number)
            records.append(texts)
            if len(lines) >= BATCH_ROWS:
                yield _from_records(lines, records, match, refused)
                lines, records, refused = [], [], {}
    finally:
        workbook.close()
    if lines:
        yield _from_records(lines, records, match, refused)


# --- JSON --------------------------------------------------------------------------------------------

_JSON_SHAPE = 'JSON moet een lijst van rijen zijn, of {"soort": "<soort>", "rijen": [...]}.'


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is geen geldig getal")


def read_json(data: bytes, kind: str | None, limits: TabularLimits) -> tuple[HeaderMatch, Iterator[Batch]]:
    text, _ = decode(data)
    try:
        # Numbers stay the text they were written as, so 12.50 is read exactly like the CSV cell "12.50".
        document = json.loads(text, parse_float=str, parse_int=str, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise MessageRejected("OM001", "Het bestand is geen geldige JSON.", str(error)[:200]) from None
    if isinstance(document, dict):
        extra = sorted(set(document) - {"soort", "rijen"})
        if extra or not isinstance(document.get("rijen"), list):
            raise MessageRejected(
                "OM001",
                _JSON_SHAPE,
                f"onbekende sleutels: {', '.join(extra)}" if extra else "'rijen' ontbreekt of is geen lijst",
            )
        named = document.get("soort")
        if named is not None:
            named = normalise_name(named)
            if kind is not None and named != kind:
                raise MessageRejected("OM010", f"De soort '{named}' past niet bij een aanlevering van soort '{kind}'.")
            kind = named
        objects = document["rijen"]
    elif isinstance(document, list):
        objects = document
    else:
        raise MessageRejected("OM001", _JSON_SHAPE)
    for number, item in enumerate(objects, start=1):
        if not isinstance(item, dict):
            raise MessageRejected("OM001", "Elke rij in JSON moet een object zijn.", f"rij {number}")
    if len(objects) > limits.max_rows:
        raise MessageRejected("OM005", "Het bestand heeft meer regels dan toegestaan.", f"maximaal {limits.max_rows}")
    header: dict[str, None] = {}
    for item in objects:
        for key in item:
            header.setdefault(normalise_name(key), None)
    if not header:
        raise MessageRejected("OM001", "Het bestand bevat geen gegevensregels.")
    if "" in header:
        raise MessageRejected("OM010", "Een rij in de JSON heeft een lege kolomnaam.")
    match = recognise(list(header), kind)
    return match, _json_batches(objects, match)


def _json_text(value: Any) -> tuple[str, str | None]:
    if value is None:
        return "", None
    if isinstance(value, str):
        return ("", "een NUL-teken") if "\x00" in value else (value, None)
    if isinstance(value, bool):
        return "", "true/false"
    return "", "een lijst of object"


def _json_batches(objects: list[dict], match: HeaderMatch) -> Iterator[Batch]:
    lines: list[int] = []
    records: list[list[str]] = []
    refused: dict[int, list[tuple[int, str]]] = {}
    for number, item in enumerate(objects, start=1):
        texts = [""] * match.width
        reasons = []
        for key, value in item.items():
            position = match.positions[normalise_name(key)]
            texts[position], reason = _json_text(value)
            if reason:
                reasons.append((position, reason))
        if reasons:
            refused[len(lines)] = reasons
        lines.append(number)
        records.append(texts)
        if len(lines) >= BATCH_ROWS:
            yield _from_records(lines, records, match, refused)
            lines, records, refused = [], [], {}
    if lines:
        yield _from_records(lines, records, match, refused)
