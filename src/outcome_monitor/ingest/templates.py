"""Templates for providers and municipalities: one workbook and one example CSV per submission kind.

    write_templates(Path("templates"))  # aanlevering-<kind>.xlsx and aanlevering-<kind>.csv

The workbook has a sheet "gegevens" (the header row; fill in from row 2), a sheet "toelichting"
describing every column in Dutch, and a hidden sheet "codelijsten" that feeds the drop-down lists of
the code columns. Code, text and BSN columns are formatted as text, so Excel keeps leading zeros. Both
files are built from ingest/kinds.py, so a template always matches what the parser accepts.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from outcome_monitor.ingest.kinds import (
    AANBIEDER,
    BSN,
    CODE,
    DATE,
    DECIMAL,
    EURO_CENTS,
    INT,
    KINDS,
    TEXT,
    WILDCARD,
    Column,
    Kind,
    indicator_codes,
)

TEMPLATE_ROWS = 5000  # rows that get the drop-down lists and the text format
_TYPE_NAMES = {
    TEXT: "tekst",
    CODE: "code",
    DATE: "datum (JJJJ-MM-DD of DD-MM-JJJJ)",
    INT: "geheel getal",
    EURO_CENTS: "bedrag in euro's (12,50 of 12.50; geen duizendtallen)",
    DECIMAL: "decimaal getal (0,25 of 0.25)",
    BSN: "BSN (9 cijfers)",
}
_CODELIST_NAMES = {
    "gemeente": "CBS-gemeentecodes",
    "productcategorie": "JZ020 (jeugd) / WMO020 (wmo)",
    "eenheid": "WJ756",
    "reden_beeindiging": "JZ588 (jeugd) / WMO588 (wmo)",
    "debet_credit": "COD043",
    "indicator": "indicatorenlijst",
}


def write_templates(out_dir: Path) -> list[Path]:
    """Write ``aanlevering-<kind>.xlsx`` and ``aanlevering-<kind>.csv`` for every kind; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in KINDS.values():
        workbook_path = out_dir / f"aanlevering-{kind.name}.xlsx"
        template_workbook(kind).save(workbook_path)
        csv_path = out_dir / f"aanlevering-{kind.name}.csv"
        csv_path.write_bytes(example_csv(kind))
        written += [workbook_path, csv_path]
    return written


def choices(column: Column) -> list[str]:
    """The values a drop-down offers for `column` (empty: no drop-down)."""
    if column.allowed:
        values = list(column.allowed)
    elif column.codelist == "indicator":
        values = list(indicator_codes())
    elif column.codelist:
        from outcome_monitor.codelists import codelist

        values = sorted({code.split(":", 1)[-1] for code in codelist(column.codelist)})
    else:
        return []
    return values + [WILDCARD] if column.wildcard else values


def example_rows(kind: Kind) -> list[dict[str, str]]:
    """Valid example rows: the columns' examples (a levering shows a start and a stop)."""
    row = {column.name: column.example for column in kind.columns}
    if kind.name != "levering":
        return [row]
    start = {**row, "soort": "start", "einddatum": "", "reden_beeindiging": ""}
    stop = {**row, "soort": "stop"}
    return [start, stop]


def example_csv(kind: Kind) -> bytes:
    """The example as Dutch Excel writes CSV: ';', CRLF, UTF-8 with BOM."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([column.name for column in kind.columns])
    for row in example_rows(kind):
        writer.writerow([row[column.name] for column in kind.columns])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def _explain(column: Column) -> str:
    parts = []
    if column.allowed:
        parts.append(", ".join(column.allowed))
    if column.codelist:
        parts.append(f"codelijst {_CODELIST_NAMES.get(column.codelist, column.codelist)}")
    if column.bounds:
        parts.append(f"{column.bounds[0]} tot en met {column.bounds[1]}")
    if column.wildcard:
        parts.append(f"{WILDCARD} = alle")
    if column.default:
        parts.append(f"leeg = {column.default}")
    return "; ".join(parts)


def template_workbook(kind: Kind):
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    data = workbook.active
    data.title = "gegevens"
    explanation = workbook.create_sheet("toelichting")
    lists = workbook.create_sheet("codelijsten")
    lists.sheet_state = "hidden"

    bold = Font(bold=True)
    list_column = 0
    for position, column in enumerate(kind.columns, start=1):
        letter = get_column_letter(position)
        cell = data.cell(row=1, column=position, value=column.name)
        cell.font = bold
        data.column_dimensions[letter].width = max(14, len(column.name) + 4)
        cells = f"{letter}2:{letter}{TEMPLATE_ROWS + 1}"
        if column.type in (TEXT, CODE, BSN):
            # Text, so Excel keeps 0014 and 01 as typed instead of turning them into numbers.
            data.column_dimensions[letter].number_format = "@"
        values = choices(column)
        if values:
            list_column += 1
            source_letter = get_column_letter(list_column)
            lists.cell(row=1, column=list_column, value=column.name)
            for row, value in enumerate(values, start=2):
                lists.cell(row=row, column=list_column, value=value).number_format = "@"
            source = f"={quote_sheetname('codelijsten')}!${source_letter}$2:${source_letter}${len(values) + 1}"
            strict = column.codelist != "indicator"  # CEO_<vraag> codes are not in the list
            validation = DataValidation(
                type="list",
                formula1=source,
                allow_blank=True,
                showErrorMessage=True,
                errorStyle="stop" if strict else "warning",
                errorTitle="Waarde niet toegestaan",
                error=f"Kies een waarde uit de lijst voor {column.name}.",
            )
            validation.add(cells)
            data.add_data_validation(validation)
        elif column.bounds:
            low, high = column.bounds
            validation = DataValidation(
                type="whole",
                operator="between",
                formula1=str(low),
                formula2=str(high),
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="Waarde niet toegestaan",
                error=f"{column.name}: een geheel getal van {low} tot en met {high}.",
            )
            validation.add(cells)
            data.add_data_validation(validation)
    data.freeze_panes = "A2"

    sender = "de aanbieder (AGB-code)" if kind.sender_role == AANBIEDER else "de gemeente (gemeentecode)"
    intro = [
        f"Aanlevering: {kind.name}",
        kind.description,
        f"Afzender: {sender}; één afzender per bestand.",
        "Vul het werkblad 'gegevens' vanaf regel 2; laat de kopregel staan. Lever het bestand aan als .xlsx, of "
        "sla het op als CSV (puntkomma of komma als scheidingsteken, UTF-8 of Windows-1252).",
        "Datums: JJJJ-MM-DD of DD-MM-JJJJ. Bedragen: decimale komma of punt, geen duizendtallen (1250,00). "
        "Wat dubbelzinnig is (01/02/2025, 1.250) wordt per regel afgewezen, nooit geraden.",
        "Formules zijn toegestaan als Excel de uitkomst heeft opgeslagen; plak bij twijfel de waarden als waarden.",
    ]
    for row, text in enumerate(intro, start=1):
        explanation.cell(row=row, column=1, value=text).font = bold if row == 1 else Font()
    header_row = len(intro) + 2
    headers = ("kolom", "verplicht", "type", "toegestane waarden", "voorbeeld", "omschrijving")
    for position, title in enumerate(headers, start=1):
        explanation.cell(row=header_row, column=position, value=title).font = bold
    for row, column in enumerate(kind.columns, start=header_row + 1):
        values = (
            column.name,
            "ja" if column.required else "nee",
            _TYPE_NAMES[column.type],
            _explain(column),
            column.example,
            column.description,
        )
        for position, value in enumerate(values, start=1):
            cell = explanation.cell(row=row, column=position, value=value)
            cell.number_format = "@"
            cell.alignment = Alignment(wrap_text=position == 6, vertical="top")
    for letter, width in zip("ABCDEF", (26, 10, 34, 40, 14, 70), strict=True):
        explanation.column_dimensions[letter].width = width
    return workbook
