"""The auditor's package for one verslagjaar: an XLSX workbook, the same sheets as CSV, a manifest.

Read from the PUBLISHED warehouse only, over one read-only connection (a publish during the
export swaps the file by rename; this connection keeps reading the file it opened, so the
package is one consistent state). For a closed year the ``rpt_controller__*`` rows there are the
snapshot's rows (the close's overlay puts them there) and ``rpt_controller__jaarstatus`` gives the
snapshot id. An open year is exported only when asked for explicitly (``voorlopig``) and then
says so in the file names, on every sheet and in the manifest.

Written into a staging folder beside ``out`` and renamed onto it at the end, so a half-written
package never appears under the name the auditor gets. Amounts are euro cents in the warehouse;
they are written as exact decimals (``Decimal(cents) / 100``), as numbers with a euro format in
the workbook, never as text. Text goes through ``spreadsheet_safety.neutralise`` and is written
as an explicit string cell, so no provider's field can become a formula.

CSV files: one per sheet, UTF-8 with BOM, ``;`` between fields, decimal comma, no thousands
separator, CRLF line ends (what Dutch Excel opens without an import dialog); the same values and
column names as the workbook's sheets (the workbook has a title line above the header).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from outcome_monitor.year_end.package_files import (
    REPLACEMENT,
    Column,
    SheetWriter,
    cell_value,
    column_kind,
    safe_text,
)

MANIFEST_NAME = "manifest.json"
README_NAME = "LEESMIJ.txt"
STATUS_TABLE = "rpt_controller__jaarstatus"
STATUS_CLOSED = "afgesloten"
STATUS_PROVISIONAL = "voorlopig"
FETCH_BATCH = 10_000
# A column whose name says it identifies a person must never reach the package (pseudonyms only).
_IDENTIFYING_COLUMN = re.compile(r"bsn|geboortedatum|postcode", re.IGNORECASE)
_NOT_ADDITIVE = re.compile(r"tarief|grens")


class ExportError(RuntimeError):
    """The package cannot be made; the message (Dutch) says why and what to do."""


@dataclass(frozen=True)
class Sheet:
    """One sheet of the workbook (and one CSV file): the rows of `table` for the verslagjaar."""

    title: str
    table: str
    slug: str
    about: str
    totals: bool = True  # summed in the Samenvatting (not for one row per year)


SUMMARY_TITLE = "Samenvatting"
SUMMARY_SLUG = "samenvatting"
SHEETS: tuple[Sheet, ...] = (
    Sheet(
        "Reconciliatie",
        "rpt_controller__reconciliatie",
        "reconciliatie",
        "Per aanbieder, gemeente en product: toegewezen, gedeclareerd, geaccepteerd en afgewezen, "
        "naast de productieverantwoording, met de verschillen en (waar af te leiden) de oorzaak.",
    ),
    Sheet(
        "Bevindingen",
        "rpt_controller__bevindingen",
        "bevindingen",
        "Elke bevinding in euro's, als fout of onzekerheid, met de declaratieregel waar ze over gaat "
        "(de cliënt gepseudonimiseerd).",
    ),
    Sheet(
        "Bevindingen per aanbieder",
        "rpt_controller__bevindingen_per_aanbieder",
        "bevindingen-per-aanbieder",
        "Aantal en bedrag van de bevindingen per aanbieder en klasse.",
    ),
    Sheet(
        "Tolerantietoets",
        "rpt_controller__tolerantietoets",
        "tolerantietoets",
        "Fouten en onzekerheden tegen de lasten van het jaar, met de grenzen en het oordeel.",
        totals=False,
    ),
    Sheet(
        "Nog te betalen",
        "rpt_controller__nog_te_betalen",
        "nog-te-betalen",
        "Geschatte zorg in het jaar die bij de afsluiting nog niet gedeclareerd was, met de methode.",
    ),
    Sheet(
        "Wijzigingen na afsluiting",
        "rpt_controller__wijzigingen_na_afsluiting",
        "wijzigingen-na-afsluiting",
        "Aanleveringen die na de afsluiting binnenkwamen en de bevroren cijfers zouden veranderen.",
    ),
)


# --------------------------------------------------------------------------------------------
# reading the warehouse


@dataclass
class YearStatus:
    verslagjaar: int
    status: str  # afgesloten | voorlopig
    snapshot_id: str | None
    details: dict[str, Any] = field(default_factory=dict)  # the jaarstatus row, if any


def _tables(con: Any) -> set[str]:
    return {name for (name,) in con.execute("select table_name from information_schema.tables").fetchall()}


def _columns(con: Any, table: str) -> list[Column]:
    rows = con.execute(
        "select column_name, data_type from information_schema.columns where table_name = ? order by ordinal_position",
        [table],
    ).fetchall()
    return [Column(name, column_kind(name, data_type)) for name, data_type in rows]


def _check_tables(con: Any, warehouse: Path) -> dict[str, list[Column]]:
    present = _tables(con)
    wanted = [STATUS_TABLE, *(sheet.table for sheet in SHEETS)]
    missing = [table for table in wanted if table not in present]
    if missing:
        raise ExportError(
            f"{warehouse}: tabel(len) {', '.join(missing)} ontbreken in de gepubliceerde gegevens; "
            "draai eerst `outcome-monitor build` (met de jaarafsluiting-modellen)"
        )
    columns = {table: _columns(con, table) for table in wanted}
    for table, table_columns in columns.items():
        names = [column.name for column in table_columns]
        if "verslagjaar" not in names:
            raise ExportError(f"{warehouse}: tabel {table} heeft geen kolom verslagjaar")
        identifying = [name for name in names if _IDENTIFYING_COLUMN.search(name)]
        if identifying:
            raise ExportError(
                f"{warehouse}: tabel {table} heeft kolom(men) {', '.join(identifying)} die een persoon kunnen "
                "identificeren; het pakket bevat alleen pseudoniemen en wordt niet gemaakt"
            )
    return columns


def year_status(con: Any, verslagjaar: int) -> YearStatus:
    cursor = con.execute(f"select * from {STATUS_TABLE} where verslagjaar = ?", [verslagjaar])
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    if len(rows) > 1:
        raise ExportError(f"{STATUS_TABLE} heeft {len(rows)} rijen voor verslagjaar {verslagjaar}; verwacht: één")
    details = dict(zip(names, rows[0], strict=True)) if rows else {}
    if details.get("status") == STATUS_CLOSED:
        if not details.get("snapshot_id"):
            raise ExportError(f"{STATUS_TABLE}: verslagjaar {verslagjaar} is afgesloten maar heeft geen snapshot_id")
        return YearStatus(verslagjaar, STATUS_CLOSED, str(details["snapshot_id"]), details)
    return YearStatus(verslagjaar, STATUS_PROVISIONAL, None, details)


def _rows(con: Any, table: str, verslagjaar: int) -> Iterator[tuple]:
    # ORDER BY ALL: the same package twice from the same warehouse is the same bytes (apart from the time).
    cursor = con.execute(f'select * from "{table}" where verslagjaar = ? order by all', [verslagjaar])
    while batch := cursor.fetchmany(FETCH_BATCH):
        yield from batch


def _totals(con: Any, table: str, columns: Sequence[Column], verslagjaar: int) -> dict[str, int]:
    """Sum of every amount column, in whole cents (HUGEINT in DuckDB, an exact int here).

    Tariffs and limits are amounts per unit or per year, not something to add up.
    """
    euro = [c for c in columns if c.kind == "euro" and not _NOT_ADDITIVE.search(c.name)]
    if not euro:
        return {}
    sums = ", ".join(f'coalesce(sum("{c.name}"), 0)::hugeint' for c in euro)
    row = con.execute(f'select {sums} from "{table}" where verslagjaar = ?', [verslagjaar]).fetchone()
    return {column.name: int(value) for column, value in zip(euro, row, strict=True)}


def _findings_per_class(con: Any, names: set[str], verslagjaar: int) -> list[tuple[str, str, int]]:
    """(label, kind, value) per klasse: count and amount, counted once per line where the mart says how."""
    if not {"klasse", "bedrag_cents"} <= names:
        return []
    counted = "meegeteld_cents" in names  # the part of a finding that counts in the totals (no double counting)
    amount = "meegeteld_cents" if counted else "bedrag_cents"
    in_costs = "coalesce(sum(meegeteld_cents) filter (where in_lasten), 0)" if {"in_lasten"} <= names else "null"
    rows = con.execute(
        f"select klasse, count(*), coalesce(sum({amount}), 0)::hugeint, ({in_costs})::hugeint "
        "from rpt_controller__bevindingen where verslagjaar = ? group by klasse order by klasse",
        [verslagjaar],
    ).fetchall()
    lines = []
    for klasse, count, cents, in_costs_cents in rows:
        lines.append((f"aantal {klasse}", "integer", count))
        lines.append((f"bedrag {klasse}{', meegeteld' if counted else ''} (€)", "euro", cents))
        if in_costs_cents is not None:
            lines.append((f"bedrag {klasse} in de lasten (€)", "euro", in_costs_cents))
    return lines


# --------------------------------------------------------------------------------------------
# the package


@dataclass
class ExportResult:
    out: Path
    verslagjaar: int
    status: str
    snapshot_id: str | None
    files: list[dict[str, Any]]
    rows: dict[str, int]
    totals_cents: dict[str, dict[str, int]]
    seconds: float

    def summary(self) -> dict[str, Any]:
        return {
            "map": str(self.out),
            "verslagjaar": self.verslagjaar,
            "status": self.status,
            "snapshot_id": self.snapshot_id,
            "bestanden": [f["naam"] for f in self.files],
            "regels": self.rows,
            "seconden": round(self.seconds, 1),
        }


def package_basename(verslagjaar: int, status: str) -> str:
    return f"jaarafsluiting-{verslagjaar}" + ("-voorlopig" if status == STATUS_PROVISIONAL else "")


def _banner(sheet_title: str, status: YearStatus) -> str:
    if status.status == STATUS_CLOSED:
        return f"{sheet_title} verslagjaar {status.verslagjaar}: afgesloten, snapshot {status.snapshot_id}"
    return f"{sheet_title} verslagjaar {status.verslagjaar}: VOORLOPIG, het jaar is niet afgesloten"


def _summary_lines(
    status: YearStatus,
    created_at: dt.datetime,
    status_columns: list[Column],
    tolerance: list[tuple[Column, Any]],
    rows: dict[str, int],
    totals: dict[str, dict[str, int]],
    per_class: list[tuple[str, str, int]],
) -> list[tuple[str, str, str, Any]]:
    """(onderdeel, omschrijving, kind, value) lines of the Samenvatting sheet."""
    lines: list[tuple[str, str, str, Any]] = [
        ("Pakket", "Verslagjaar", "integer", status.verslagjaar),
        (
            "Pakket",
            "Status",
            "text",
            STATUS_CLOSED if status.status == STATUS_CLOSED else "VOORLOPIG: het jaar is niet afgesloten",
        ),
        ("Pakket", "Snapshot-id", "text", status.snapshot_id or "geen (jaar niet afgesloten)"),
    ]
    for column in status_columns:  # who closed or reopened it, when and why: as the close recorded it
        value = status.details.get(column.name)
        if column.name not in ("verslagjaar", "status", "snapshot_id") and value is not None:
            lines.append(("Jaarstatus", column.header, column.kind, value))
    lines.append(("Pakket", "Gemaakt op (UTC)", "timestamp", created_at.replace(tzinfo=None)))
    lines.append(("Pakket", "Bron", "text", "gepubliceerde gegevens van de uitkomstenmonitor (warehouse.duckdb)"))
    for column, value in tolerance:
        lines.append(("Tolerantietoets", column.header, column.kind, value))
    lines += [("Bevindingen", label, kind, value) for label, kind, value in per_class]
    for sheet in SHEETS:
        lines.append((sheet.title, "aantal regels", "integer", rows[sheet.title]))
        for name, cents in totals[sheet.title].items():
            lines.append((sheet.title, f"totaal {Column(name, 'euro').header}", "euro", cents))
    lines.append(
        (
            "Toelichting",
            "Tekst die met =, +, -, @, tab of regelterugloop begint",
            "text",
            "staat er met een apostrof (') ervoor, zodat een spreadsheet er nooit een formule van maakt",
        )
    )
    return lines


def _readme(status: YearStatus, names: Iterable[str]) -> str:
    state = (
        f"afgesloten; de cijfers zijn die van snapshot {status.snapshot_id}"
        if status.status == STATUS_CLOSED
        else "VOORLOPIG: het jaar is niet afgesloten, de cijfers kunnen nog veranderen"
    )
    listing = "\n".join(f"  {name}" for name in names)
    return f"""Auditpakket jaarafsluiting sociaal domein, verslagjaar {status.verslagjaar}
Status: {state}

Bestanden:
{listing}
  {MANIFEST_NAME}  (SHA-256 en grootte van elk bestand hierboven, snapshot-id, status)

Controleren: `outcome-monitor export-year --verify <deze map>`, of met standaardgereedschap:
`sha256sum <bestand>` en vergelijk met {MANIFEST_NAME}.

Het werkboek en de CSV-bestanden bevatten dezelfde tabellen (één CSV per blad). Bedragen staan
in euro's: in het werkboek als getal met euro-opmaak, in de CSV met een decimale komma en zonder
scheidingsteken voor duizendtallen. CSV: UTF-8 met BOM, puntkomma als scheidingsteken, tekst met
een puntkomma, aanhalingsteken of regeleinde tussen dubbele aanhalingstekens.

Tekst die met =, +, -, @, een tab of een regelterugloop begint (bijvoorbeeld een referentienummer
van een aanbieder), staat er met een apostrof (') voor: zo wordt het nooit als formule uitgevoerd.
Tekens die in een werkboek niet kunnen (stuurtekens) zijn vervangen door {REPLACEMENT}.
Cliënten staan er alleen als pseudoniem in, nooit met BSN.
"""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _code_version() -> str:
    try:
        return metadata.version("outcome-monitor")
    except metadata.PackageNotFoundError:
        return "onbekend"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} bestaat en is geen map: kies een lege of nieuwe map voor het pakket")
    if out.is_dir() and any(out.iterdir()):
        raise ExportError(f"map {out} is niet leeg: kies een lege of nieuwe map, een pakket wordt nooit overschreven")


def export_year(
    verslagjaar: int,
    out: Path,
    warehouse: Path,
    voorlopig: bool = False,
    now: dt.datetime | None = None,
) -> ExportResult:
    """Write the auditor's package for `verslagjaar` from the published `warehouse` into `out`.

    `out` must not exist or be empty. An open year needs `voorlopig=True`. Raises ExportError
    (Dutch message) when the package cannot be made; nothing then appears under `out`.
    """
    import duckdb
    from openpyxl import Workbook

    started = time.monotonic()
    out = Path(out).absolute()
    _check_out(out)
    if not Path(warehouse).exists():
        raise ExportError(f"{warehouse} bestaat niet: er zijn nog geen gepubliceerde gegevens")
    created_at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)

    con = duckdb.connect(str(warehouse), read_only=True)
    staging = out.parent / f".{out.name}.in-aanmaak-{secrets.token_hex(4)}"
    try:
        columns = _check_tables(con, Path(warehouse))
        status = year_status(con, verslagjaar)
        if status.status != STATUS_CLOSED and not voorlopig:
            raise ExportError(
                f"verslagjaar {verslagjaar} is niet afgesloten: sluit het af met `outcome-monitor close-year "
                f"{verslagjaar}`, of maak een voorlopig pakket met --voorlopig"
            )
        counts = {
            sheet.title: con.execute(
                f'select count(*) from "{sheet.table}" where verslagjaar = ?', [verslagjaar]
            ).fetchone()[0]
            for sheet in SHEETS
        }
        if not status.details and not any(counts.values()):
            raise ExportError(f"verslagjaar {verslagjaar} komt niet voor in de gepubliceerde gegevens ({warehouse})")

        out.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
        base = package_basename(verslagjaar, status.status)
        workbook_name = f"{base}.xlsx"
        csv_names = {SUMMARY_TITLE: f"{base}-{SUMMARY_SLUG}.csv"}
        csv_names.update({sheet.title: f"{base}-{sheet.slug}.csv" for sheet in SHEETS})

        totals = {
            sheet.title: _totals(con, sheet.table, columns[sheet.table], verslagjaar) if sheet.totals else {}
            for sheet in SHEETS
        }
        tolerance_columns = columns["rpt_controller__tolerantietoets"]
        tolerance_row = next(_rows(con, "rpt_controller__tolerantietoets", verslagjaar), None) or ()
        tolerance = [(c, v) for c, v in zip(tolerance_columns, tolerance_row, strict=False) if c.name != "verslagjaar"]
        per_class = _findings_per_class(con, {c.name for c in columns["rpt_controller__bevindingen"]}, verslagjaar)

        workbook = Workbook(write_only=True)
        summary = _summary_lines(status, created_at, columns[STATUS_TABLE], tolerance, counts, totals, per_class)
        writer = SheetWriter(
            workbook,
            staging / csv_names[SUMMARY_TITLE],
            SUMMARY_TITLE,
            _banner(SUMMARY_TITLE, status),
            ["onderdeel", "omschrijving", "waarde"],
            ["text", "text", "text"],
        )
        for part, label, kind, value in summary:
            # one value column of mixed kinds: the typed cell carries its own format
            writer.append([safe_text(part), safe_text(label), cell_value(kind, value)], kinds=[None, None, kind])
        writer.close()

        rows: dict[str, int] = {}
        for sheet in SHEETS:
            sheet_columns = columns[sheet.table]
            kinds = [c.kind for c in sheet_columns]
            writer = SheetWriter(
                workbook,
                staging / csv_names[sheet.title],
                sheet.title,
                _banner(sheet.title, status),
                [c.header for c in sheet_columns],
                kinds,
            )
            for row in _rows(con, sheet.table, verslagjaar):
                writer.append([cell_value(kind, value) for kind, value in zip(kinds, row, strict=True)])
            writer.close()
            rows[sheet.title] = writer.rows
        workbook.save(staging / workbook_name)

        names = [workbook_name, *csv_names.values()]
        (staging / README_NAME).write_text(_readme(status, names), encoding="utf-8")
        names.append(README_NAME)
        files = [
            {"naam": name, "sha256": _sha256(staging / name), "bytes": (staging / name).stat().st_size}
            for name in names
        ]
        manifest = {
            "verslagjaar": verslagjaar,
            "status": status.status,
            "snapshot_id": status.snapshot_id,
            "aangemaakt_op": created_at.isoformat(timespec="seconds"),
            "code_versie": _code_version(),
            "bron": "gepubliceerde gegevens (published/warehouse.duckdb)",
            "bladen": [
                {"blad": SUMMARY_TITLE, "tabel": None, "regels": len(summary), "csv": csv_names[SUMMARY_TITLE]},
                *(
                    {
                        "blad": sheet.title,
                        "tabel": sheet.table,
                        "regels": rows[sheet.title],
                        "csv": csv_names[sheet.title],
                        "totalen_centen": totals[sheet.title],
                        "toelichting": sheet.about,
                    }
                    for sheet in SHEETS
                ),
            ],
            "csv": {"codering": "UTF-8 met BOM", "scheidingsteken": ";", "decimaalteken": ",", "regeleinde": "CRLF"},
            "bestanden": files,
        }
        manifest_text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
        (staging / MANIFEST_NAME).write_text(manifest_text, encoding="utf-8")
        for name in [*names, MANIFEST_NAME]:
            with (staging / name).open("rb") as handle:
                os.fsync(handle.fileno())
        _check_out(out)  # again: someone may have written into it meanwhile
        os.replace(staging, out)  # onto a missing or empty folder: the package appears whole or not at all
        _fsync_dir(out.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        con.close()
    return ExportResult(
        out=out,
        verslagjaar=verslagjaar,
        status=status.status,
        snapshot_id=status.snapshot_id,
        files=files,
        rows=rows,
        totals_cents=totals,
        seconds=time.monotonic() - started,
    )


# --------------------------------------------------------------------------------------------
# verification (for the auditor)


@dataclass
class Verification:
    folder: Path
    problems: list[str]
    manifest: dict[str, Any] | None

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(folder: Path) -> Verification:
    """Check every file against manifest.json: present, same size, same SHA-256, nothing extra."""
    folder = Path(folder)
    manifest_path = folder / MANIFEST_NAME
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        listed = {entry["naam"]: entry for entry in manifest["bestanden"]}
    except FileNotFoundError:
        return Verification(folder, [f"{manifest_path} ontbreekt"], None)
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        return Verification(folder, [f"{manifest_path} is geen geldig manifest ({error})"], None)
    from outcome_monitor.stack.package_portal import file_problems

    return Verification(folder, file_problems(folder, listed), manifest)
