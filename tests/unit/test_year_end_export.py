"""The auditor's package (year_end.export) against a real DuckDB warehouse file made here.

The warehouse has the contract's ``rpt_controller__*`` tables for a closed year (2024, snapshot
``snap-2024``) and an open one (2025), with hostile provider text planted in every text column
the auditor sees. The package is read back with openpyxl and the csv module: every such cell
must be inert text, every amount a number with the euro format, and every total equal to the
warehouse's to the cent.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest

from outcome_monitor.cli import main
from outcome_monitor.year_end import export
from outcome_monitor.year_end.export import ExportError, export_year, verify
from outcome_monitor.year_end.package_files import EURO_FORMAT
from outcome_monitor.year_end.spreadsheet_safety import could_start_formula

HOSTILE = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "=1+1", "#N/A"]
NOW = dt.datetime(2026, 4, 15, 9, 30, tzinfo=dt.UTC)

DDL = """
create table rpt_controller__jaarstatus (
    verslagjaar integer, status varchar, snapshot_id varchar, afgesloten_op timestamp,
    afgesloten_door varchar, heropend_op timestamp, reden varchar);
create table rpt_controller__reconciliatie (
    verslagjaar integer, aanbieder_agb varchar, gemeente_code varchar, domein varchar,
    productcategorie varchar, productcode varchar, toegewezen_volume bigint, toegewezen_bedrag_cents bigint,
    gedeclareerd_bedrag_cents bigint, geaccepteerd_bedrag_cents bigint, afgewezen_bedrag_cents bigint,
    pv_volume bigint, pv_bedrag_cents bigint, pv_controleverklaring boolean, verschil_pv_cents bigint,
    verschil_toewijzing_cents bigint, boven_drempel boolean, oorzaak varchar);
create table rpt_controller__bevindingen (
    verslagjaar integer, declaration_line_id varchar, submission_id varchar, aanbieder_agb varchar,
    gemeente_code varchar, domein varchar, productcode varchar, referentienummer varchar,
    client_pseudonym varchar, bevinding_code varchar, klasse varchar, bedrag_cents bigint,
    meegeteld_cents bigint, in_lasten boolean, regelstatus varchar, omschrijving varchar);
create table rpt_controller__bevindingen_per_aanbieder (
    verslagjaar integer, aanbieder_agb varchar, klasse varchar, aantal bigint, bedrag_cents bigint);
create table rpt_controller__tolerantietoets (
    verslagjaar integer, lasten_cents bigint, fouten_cents bigint, onzekerheden_cents bigint,
    fout_pct decimal(9, 4), onzekerheid_pct decimal(9, 4), grens_fout_pct decimal(9, 4),
    grens_onzekerheid_pct decimal(9, 4), toetswijze varchar, verantwoordingsgrens_cents bigint,
    oordeel varchar, oordeel_fouten varchar, oordeel_onzekerheden varchar, bron varchar);
create table rpt_controller__nog_te_betalen (
    verslagjaar integer, aanbieder_agb varchar, gemeente_code varchar, productcode varchar,
    aantal_toewijzingen bigint, geschat_volume double, tarief_cents bigint, bedrag_cents bigint, methode varchar);
create table rpt_controller__wijzigingen_na_afsluiting (
    verslagjaar integer, snapshot_id varchar, aanbieder_agb varchar, gemeente_code varchar,
    productcode varchar, kolom varchar, bevroren_cents bigint, actueel_cents bigint, verschil_cents bigint,
    submission_ids varchar[]);
"""


def _fill(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)
    con.execute(
        "insert into rpt_controller__jaarstatus values "
        "(2024, 'afgesloten', 'snap-2024', '2025-04-02 10:00:00', 'controller', null, null), "
        "(2025, 'open', null, null, null, null, null)"
    )
    for year in (2024, 2025):
        for i, text in enumerate(HOSTILE):
            agb = f"4210{i:04d}"
            declared = 123_456_78 + i * 1_01 + year  # odd cents on purpose
            rejected = 1_23 * i
            con.execute(
                "insert into rpt_controller__reconciliatie values "
                "(?, ?, '1731', 'jeugd', '45', ?, 10, ?, ?, ?, ?, 9, ?, ?, ?, ?, ?, ?)",
                [
                    year, agb, f"45A{i:02d}", None if i == 0 else declared + 7, declared, declared - rejected,
                    rejected, declared - 99, i % 2 == 0, -99 + rejected, 7, i % 3 == 0, text,
                ],
            )  # fmt: skip
            for j in range(3):
                con.execute(
                    "insert into rpt_controller__bevindingen values "
                    "(?, ?, 'sub-1', ?, '1731', 'jeugd', ?, ?, ?, '9338', ?, ?, ?, ?, 'geaccepteerd', ?)",
                    [
                        year, f"line-{i}-{j}", agb, f"45A{i:02d}", text, f"pseudo-{text}",
                        "fout" if j else "onzekerheid", 10_001 * (i + 1) + j - 5_000 * (j == 2),
                        (10_001 * (i + 1)) * (j < 2), i % 2 == 0, f"omschrijving {text}",
                    ],
                )  # fmt: skip
            con.execute(
                "insert into rpt_controller__nog_te_betalen values (?, ?, '1731', ?, 2, 3.5, 12345, ?, ?)",
                [year, agb, f"45A{i:02d}", 43_207 + i, f"methode {text}"],
            )
        con.execute(
            "insert into rpt_controller__bevindingen_per_aanbieder "
            "select verslagjaar, aanbieder_agb, klasse, count(*), sum(bedrag_cents) "
            "from rpt_controller__bevindingen where verslagjaar = ? group by all",
            [year],
        )
        con.execute(
            "insert into rpt_controller__tolerantietoets values "
            "(?, 987654321, 123456, 7891, 0.0125, 0.0008, 2.0, 2.0, 'apart', 5000000, 'binnen de tolerantie', "
            "'binnen de tolerantie', 'binnen de tolerantie', ?)",
            [year, "=Bado art. 3 (Stb. 2025, 99)"],
        )
    con.execute(
        "insert into rpt_controller__wijzigingen_na_afsluiting values "
        "(2024, 'snap-2024', '42100001', '1731', '45A01', 'gedeclareerd_bedrag_cents', 1000, 1250, 250, "
        "['sub-late-1', '-sub-2']), "
        "(2024, 'snap-2024', '42100002', '1731', '45A02', 'geaccepteerd_bedrag_cents', 2000, 1999, -1, ['sub-late-1'])"
    )


@pytest.fixture
def warehouse(home: Path) -> Path:
    path = home / "published" / "warehouse.duckdb"
    path.parent.mkdir(parents=True)
    con = duckdb.connect(str(path))
    try:
        _fill(con)
    finally:
        con.close()
    return path


def _sql_sum(warehouse: Path, table: str, column: str, year: int) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return int(
            con.execute(f"select sum({column})::hugeint from {table} where verslagjaar = ?", [year]).fetchone()[0]
        )
    finally:
        con.close()


def _sheet_rows(workbook, title: str) -> tuple[list[str], list[tuple]]:
    """Header (row 2) and data rows (row 3 on) of a sheet, as cells."""
    rows = list(workbook[title].iter_rows())
    return [c.value for c in rows[1]], rows[2:]


def _read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name}: no UTF-8 BOM"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle, delimiter=";"))


def _euro_from_csv(text: str) -> Decimal:
    assert "." not in text, text  # decimal comma, no thousands separator
    return Decimal(text.replace(",", "."))


# --------------------------------------------------------------------------------------------


def test_closed_year_package_has_every_sheet_csv_and_manifest(warehouse, tmp_path):
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    result = export_year(2024, tmp_path / "pakket", warehouse, now=NOW)
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == before, "the warehouse must only be read"

    out = tmp_path / "pakket"
    assert result.status == "afgesloten" and result.snapshot_id == "snap-2024"
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            "jaarafsluiting-2024.xlsx",
            "jaarafsluiting-2024-samenvatting.csv",
            "jaarafsluiting-2024-reconciliatie.csv",
            "jaarafsluiting-2024-bevindingen.csv",
            "jaarafsluiting-2024-bevindingen-per-aanbieder.csv",
            "jaarafsluiting-2024-tolerantietoets.csv",
            "jaarafsluiting-2024-nog-te-betalen.csv",
            "jaarafsluiting-2024-wijzigingen-na-afsluiting.csv",
            "LEESMIJ.txt",
            "manifest.json",
        ]
    )
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no staging folder left behind"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["verslagjaar"] == 2024 and manifest["status"] == "afgesloten"
    assert manifest["snapshot_id"] == "snap-2024"
    assert manifest["aangemaakt_op"] == "2026-04-15T09:30:00+00:00"
    assert {f["naam"] for f in manifest["bestanden"]} == set(names) - {"manifest.json"}
    for entry in manifest["bestanden"]:
        data = (out / entry["naam"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)

    workbook = openpyxl.load_workbook(out / "jaarafsluiting-2024.xlsx")
    assert workbook.sheetnames == [
        "Samenvatting",
        "Reconciliatie",
        "Bevindingen",
        "Bevindingen per aanbieder",
        "Tolerantietoets",
        "Nog te betalen",
        "Wijzigingen na afsluiting",
    ]
    for sheet in workbook.worksheets:
        assert "afgesloten, snapshot snap-2024" in sheet["A1"].value, sheet.title
    # only 2024's rows: 8 hostile values x 3 findings
    header, rows = _sheet_rows(workbook, "Bevindingen")
    assert len(rows) == 24 and {r[header.index("verslagjaar")].value for r in rows} == {2024}
    assert "client_pseudonym" in header and not any("bsn" in h for h in header)


def test_no_cell_can_start_a_formula_in_workbook_or_csv(warehouse, tmp_path):
    export_year(2024, tmp_path / "pakket", warehouse, now=NOW)
    workbook = openpyxl.load_workbook(tmp_path / "pakket" / "jaarafsluiting-2024.xlsx")
    texts = 0
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                assert cell.data_type != "e", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts += 1
                    assert cell.data_type == "s"
                    assert not could_start_formula(cell.value), (sheet.title, cell.coordinate, cell.value)

    header, rows = _sheet_rows(workbook, "Bevindingen")
    referenties = {r[header.index("referentienummer")].value for r in rows}
    assert referenties == {"'" + h if could_start_formula(h) else h for h in HOSTILE}
    assert '\'=HYPERLINK("http://x","y")' in referenties and "'\tx" in referenties and "'\rx" in referenties
    assert "#N/A" in referenties  # an error code stays text, not an error cell
    assert {r[header.index("client_pseudonym")].value for r in rows} >= {'pseudo-=HYPERLINK("http://x","y")'}
    header, rows = _sheet_rows(workbook, "Wijzigingen na afsluiting")
    assert {r[header.index("submission_ids")].value for r in rows} == {"sub-late-1, -sub-2", "sub-late-1"}
    assert texts > 200

    for path in (tmp_path / "pakket").glob("*.csv"):
        lines = _read_csv(path)
        for number, line in enumerate(lines, 1):
            for field in line:
                assert not could_start_formula(field) or _is_number(field), (path.name, number, field)
    bevindingen = _read_csv(tmp_path / "pakket" / "jaarafsluiting-2024-bevindingen.csv")
    column = bevindingen[0].index("referentienummer")
    assert {line[column] for line in bevindingen[1:]} == referenties


def _is_number(text: str) -> bool:
    try:
        Decimal(text.replace(",", "."))
    except ArithmeticError:
        return False
    return True


def test_amounts_are_euro_numbers_and_totals_equal_the_warehouse_to_the_cent(warehouse, tmp_path):
    result = export_year(2024, tmp_path / "pakket", warehouse, now=NOW)
    out = tmp_path / "pakket"
    workbook = openpyxl.load_workbook(out / "jaarafsluiting-2024.xlsx")
    summary = {(r[0].value, r[1].value): r[2] for r in _sheet_rows(workbook, "Samenvatting")[1]}
    checked = 0
    for sheet in export.SHEETS:
        header, rows = _sheet_rows(workbook, sheet.title)
        lines = _read_csv(out / f"jaarafsluiting-2024-{sheet.slug}.csv")
        assert lines[0] == header, sheet.title
        assert len(lines) - 1 == len(rows) == result.rows[sheet.title]
        if not sheet.totals:
            assert not result.totals_cents[sheet.title]
            continue
        assert "totaal tarief_euro" not in {label for part, label in summary if part == sheet.title}
        for column in [h for h in header if h.endswith("_euro") and "tarief" not in h]:
            index = header.index(column)
            cents_column = column.removesuffix("_euro") + "_cents"
            expected = _sql_sum(warehouse, sheet.table, cents_column, 2024)
            cells = [r[index] for r in rows if r[index].value is not None]
            assert cells, (sheet.title, column)
            for cell in cells:
                assert cell.data_type == "n" and isinstance(cell.value, int | float), (sheet.title, cell.coordinate)
                assert cell.number_format == EURO_FORMAT, (sheet.title, cell.coordinate, cell.number_format)
            workbook_total = sum(Decimal(repr(c.value)) for c in cells)
            csv_total = sum(_euro_from_csv(line[index]) for line in lines[1:] if line[index])
            total_cell = summary[(sheet.title, f"totaal {column}")]
            assert total_cell.number_format == EURO_FORMAT
            assert workbook_total * 100 == csv_total * 100 == Decimal(repr(total_cell.value)) * 100 == expected, (
                sheet.title,
                column,
            )
            assert result.totals_cents[sheet.title][cents_column] == expected
            checked += 1
    assert checked >= 10
    # declared = accepted + rejected holds in the workbook as in the warehouse, to the cent
    header, rows = _sheet_rows(workbook, "Reconciliatie")
    for row in rows:
        declared, accepted, rejected = (
            Decimal(repr(row[header.index(f"{name}_bedrag_euro")].value))
            for name in ("gedeclareerd", "geaccepteerd", "afgewezen")
        )
        assert declared == accepted + rejected
    # a missing tariff stays empty, never 0
    assert any(r[header.index("toegewezen_bedrag_euro")].value is None for r in rows)
    for label, expression in (
        ("bedrag fout, meegeteld (€)", "meegeteld_cents * (klasse = 'fout')::int"),
        ("bedrag onzekerheid, meegeteld (€)", "meegeteld_cents * (klasse = 'onzekerheid')::int"),
        ("bedrag fout in de lasten (€)", "meegeteld_cents * (klasse = 'fout' and in_lasten)::int"),
    ):
        cell = summary[("Bevindingen", label)]
        assert cell.number_format == EURO_FORMAT
        assert Decimal(repr(cell.value)) * 100 == _sql_sum(warehouse, "rpt_controller__bevindingen", expression, 2024)
    assert summary[("Jaarstatus", "afgesloten_door")].value == "controller"
    assert summary[("Jaarstatus", "afgesloten_op")].value == dt.datetime(2025, 4, 2, 10, 0)
    assert summary[("Tolerantietoets", "oordeel")].value == "binnen de tolerantie"
    assert summary[("Tolerantietoets", "bron")].value == "'=Bado art. 3 (Stb. 2025, 99)"
    assert summary[("Tolerantietoets", "lasten_euro")].value == 9876543.21


def test_open_year_needs_voorlopig_and_says_so_everywhere(warehouse, tmp_path):
    with pytest.raises(ExportError, match="niet afgesloten.*--voorlopig"):
        export_year(2025, tmp_path / "pakket", warehouse, now=NOW)
    assert not (tmp_path / "pakket").exists() and list(tmp_path.iterdir()) == [tmp_path / "home"]

    result = export_year(2025, tmp_path / "pakket", warehouse, voorlopig=True, now=NOW)
    out = tmp_path / "pakket"
    assert result.status == "voorlopig" and result.snapshot_id is None
    assert all("voorlopig" in p.name for p in out.iterdir() if p.suffix in {".xlsx", ".csv"})
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "voorlopig" and manifest["snapshot_id"] is None
    workbook = openpyxl.load_workbook(out / "jaarafsluiting-2025-voorlopig.xlsx")
    for sheet in workbook.worksheets:
        assert "VOORLOPIG" in sheet["A1"].value, sheet.title
    summary = {r[1].value: r[2].value for r in _sheet_rows(workbook, "Samenvatting")[1]}
    assert summary["Status"].startswith("VOORLOPIG") and summary["Snapshot-id"].startswith("geen")
    assert "VOORLOPIG" in (out / "LEESMIJ.txt").read_text()
    # a closed year stays definitive even when --voorlopig is passed
    assert export_year(2024, tmp_path / "definitief", warehouse, voorlopig=True).status == "afgesloten"


def test_out_must_be_new_or_empty_and_a_failure_leaves_nothing(warehouse, tmp_path):
    full = tmp_path / "vol"
    full.mkdir()
    (full / "ander-bestand.txt").write_text("niet van ons")
    with pytest.raises(ExportError, match="niet leeg"):
        export_year(2024, full, warehouse)
    assert [p.name for p in full.iterdir()] == ["ander-bestand.txt"]

    empty = tmp_path / "leeg"
    empty.mkdir()
    export_year(2024, empty, warehouse)
    assert verify(empty).ok

    with pytest.raises(ExportError, match="2031 komt niet voor"):
        export_year(2031, tmp_path / "nergens", warehouse, voorlopig=True)
    con = duckdb.connect(str(warehouse))
    con.execute("drop table rpt_controller__nog_te_betalen")
    con.close()
    with pytest.raises(ExportError, match="rpt_controller__nog_te_betalen ontbreken"):
        export_year(2024, tmp_path / "onvolledig", warehouse)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "leeg", "vol"]


def test_an_identifying_column_stops_the_export(warehouse, tmp_path):
    con = duckdb.connect(str(warehouse))
    con.execute("alter table rpt_controller__bevindingen add column bsn varchar")
    con.close()
    with pytest.raises(ExportError, match="bsn"):
        export_year(2024, tmp_path / "pakket", warehouse)
    assert not (tmp_path / "pakket").exists()


def test_control_characters_are_replaced_not_fatal(warehouse, tmp_path):
    con = duckdb.connect(str(warehouse))
    con.execute("update rpt_controller__reconciliatie set oorzaak = 'a' || chr(1) || 'b' where oorzaak = '+1'")
    con.close()
    export_year(2024, tmp_path / "pakket", warehouse)
    workbook = openpyxl.load_workbook(tmp_path / "pakket" / "jaarafsluiting-2024.xlsx")
    header, rows = _sheet_rows(workbook, "Reconciliatie")
    assert "a\ufffdb" in {r[header.index("oorzaak")].value for r in rows}


def test_verify_finds_a_tampered_a_missing_and_an_extra_file(warehouse, tmp_path):
    out = tmp_path / "pakket"
    export_year(2024, out, warehouse)
    assert verify(out).ok and verify(out).problems == []

    target = out / "jaarafsluiting-2024-bevindingen.csv"
    data = bytearray(target.read_bytes())
    data[-3] = ord("9") if data[-3] != ord("9") else ord("8")  # same size, other content
    target.write_bytes(bytes(data))
    problems = verify(out).problems
    assert problems == ["jaarafsluiting-2024-bevindingen.csv: SHA-256 wijkt af van het manifest (bestand gewijzigd)"]

    (out / "LEESMIJ.txt").unlink()
    (out / "extra.csv").write_text("x")
    problems = verify(out).problems
    assert "LEESMIJ.txt: ontbreekt (of is geen gewoon bestand)" in problems
    assert "extra.csv: staat niet in het manifest" in problems
    assert not verify(tmp_path).ok  # no manifest at all


def test_command_line_exports_and_verifies(warehouse, tmp_path, capsys):
    out = tmp_path / "pakket"
    assert main(["export-year", "2025", "--out", str(out)]) == 1
    assert "--voorlopig" in capsys.readouterr().err
    assert main(["export-year", "2024", "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["status"] == "afgesloten" and printed["snapshot_id"] == "snap-2024"
    assert printed["regels"]["Bevindingen"] == 24
    assert main(["export-year", "--verify", str(out)]) == 0
    (out / "jaarafsluiting-2024.xlsx").write_bytes(b"vervangen")
    assert main(["export-year", "--verify", str(out)]) == 1
    assert "jaarafsluiting-2024.xlsx" in capsys.readouterr().err
    assert main(["export-year", "2024", "--out", str(out)]) == 1  # not empty any more
