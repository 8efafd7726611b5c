"""The generator's CSV and XLSX members, read back by a small reader of its own (not the generator's
code, not the ingest's): every file parses per the contract of docs/aanlevering.md, in its dialect."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from outcome_monitor.generate import generate

# docs/aanlevering.md, the column contract: kind -> (required columns, optional columns)
CONTRACT: dict[str, tuple[set[str], set[str]]] = {
    "toewijzing": (
        {"gemeente_code", "aanbieder_agb", "domein", "toewijzingnummer", "bsn", "productcategorie", "ingangsdatum"},
        {"productcode", "toewijzingsdatum", "einddatum", "volume", "eenheid", "frequentie", "budget",
         "reden_wijziging"},
    ),
    "levering": (
        {"gemeente_code", "aanbieder_agb", "domein", "soort", "toewijzingnummer", "bsn", "productcategorie",
         "begindatum"},
        {"productcode", "toewijzing_ingangsdatum", "einddatum", "reden_beeindiging", "status_aanlevering"},
    ),
    "declaratie": (
        {"gemeente_code", "aanbieder_agb", "domein", "declaratienummer", "declaratie_begindatum",
         "declaratie_einddatum", "referentienummer", "toewijzingnummer", "bsn", "productcategorie", "productcode",
         "productperiode_begindatum", "productperiode_einddatum", "volume", "eenheid", "bedrag", "debet_credit"},
        {"declaratie_dagtekening", "vorig_referentienummer", "tarief"},
    ),
    "uitkomst": (
        {"gemeente_code", "aanbieder_agb", "domein", "toewijzingnummer", "bsn", "meetdatum", "informant"},
        {"tevredenheid", "zonder_hulp_verder", "doelrealisatie"},
    ),
    "zrm": ({"gemeente_code", "aanbieder_agb", "domein", "bsn", "meetdatum", "meetmoment", "zrm_domein", "score"},
            set()),
    "clientervaring": ({"gemeente_code", "jaar", "wet", "respondent_id", "vraag_code", "antwoord"}, {"aanbieder_agb"}),
    "productieverantwoording": (
        {"aanbieder_agb", "jaar", "gemeente_code", "domein", "productcode", "volume", "bedrag", "controleverklaring"},
        {"versie"},
    ),
    "afspraak": (
        {"indicator_code", "gemeente_code", "domein", "aanbieder_agb", "productcategorie", "periode", "baseline",
         "streefwaarde", "richting", "afgesproken_op"},
        set(),
    ),
    "contracttarief": (
        {"gemeente_code", "aanbieder_agb", "domein", "productcode", "tarief", "ingangsdatum"},
        {"eenheid", "einddatum"},
    ),
}  # fmt: skip
_DATE = (re.compile(r"(\d{4})-(\d{2})-(\d{2})"), re.compile(r"(\d{2})-(\d{2})-(\d{4})"))
_EURO = re.compile(r"-?\d+([.,]\d{1,2})?")
MEMBER = re.compile(
    r"(toewijzing|levering|declaratie|uitkomst|zrm|clientervaring|productieverantwoording|afspraak|contracttarief)"
    r"_(\d{4}|\d{8})_(\d{4}(-H[12])?)\.(csv|xlsx)"
)


def kind_of(header: list[str]) -> str:
    """The one kind whose required columns the header has and whose columns it does not exceed."""
    names = {h.strip().lower() for h in header}
    matches = [k for k, (req, opt) in CONTRACT.items() if req <= names <= req | opt]
    assert len(matches) == 1, (header, matches)
    return matches[0]


def parse_date(cell: object) -> date | None:
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    text = str(cell or "").strip()
    iso = _DATE[0].fullmatch(text)
    dmy = _DATE[1].fullmatch(text)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        if dmy:
            return date(int(dmy[3]), int(dmy[2]), int(dmy[1]))
    except ValueError:
        return None
    return None


def parse_cents(cell: object) -> int | None:
    """Euro amount -> cents: a number cell, or text with a decimal comma or point and no thousands separator."""
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        return round(cell * 100)
    text = str(cell or "").strip()
    if not _EURO.fullmatch(text):
        return None
    whole, _, frac = text.replace(",", ".").partition(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100 + int((frac + "00")[:2]))


def parse_int(cell: object) -> int | None:
    if isinstance(cell, int) and not isinstance(cell, bool):
        return cell
    text = str(cell if cell is not None else "").strip()
    return int(text) if re.fullmatch(r"\d+", text) else None


@dataclass
class Table:
    file: str
    member: str
    kind: str
    fmt: str  # "xlsx", or the CSV's encoding and separator
    header: list[str]
    rows: list[dict]  # column -> cell (text for CSV, typed for XLSX), with "_line": spreadsheet line number


def read_table(file: str, member: str, data: bytes) -> Table:
    if member.endswith(".xlsx"):
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        values = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        fmt = "xlsx"
    else:
        if data.startswith(b"\xef\xbb\xbf"):
            text, encoding = data[3:].decode("utf-8"), "utf-8-sig"
        else:
            try:
                text, encoding = data.decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                text, encoding = data.decode("cp1252"), "cp1252"
        first = text.split("\r\n", 1)[0]
        delimiter = ";" if ";" in first else ","
        values = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        fmt = f"{encoding}{delimiter}"
    header = [str(h) for h in values[0]]
    rows = []
    for n, cells in enumerate(values[1:], start=2):
        cells = list(cells) + [None] * (len(header) - len(cells))  # Excel leaves trailing empty cells out
        row = {h.strip().lower(): (None if c == "" else c) for h, c in zip(header, cells, strict=True)}
        row["_line"] = n
        rows.append(row)
    return Table(file, member, kind_of(header), fmt, header, rows)


def read_tables(out: Path, truth: dict) -> list[Table]:
    tables = []
    for sub in truth["submissions"]:
        with zipfile.ZipFile(out / sub["file"]) as zf:
            for name in zf.namelist():
                if not name.endswith(".xml"):
                    tables.append(read_table(sub["file"], name, zf.read(name)))
    return tables


# -- tests ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, list[Table]]:
    import json

    out = tmp_path_factory.mktemp("tabular")
    generate(out, seed=5, scale=0.2, defect_rate=0.05)
    truth = json.loads((out / "ground_truth.json").read_text(encoding="utf-8"))
    return out, truth, read_tables(out, truth)


def test_every_kind_is_delivered_in_every_dialect_the_profiles_promise(region) -> None:
    _, truth, tables = region
    assert {t.kind for t in tables} == set(CONTRACT)
    assert {t.fmt for t in tables} == {"xlsx", "cp1252;", "utf-8-sig,", "utf-8;"}
    for sub in truth["submissions"]:
        for member in sub["tabular"]:
            assert MEMBER.fullmatch(member["member"]), member
            table = next(t for t in tables if t.member == member["member"] and t.file == sub["file"])
            assert (table.kind, len(table.rows)) == (member["kind"], member["rows"])
            assert MEMBER.fullmatch(table.member)[1] == table.kind
            sender_column = "gemeente_code" if "gemeente" in sub["file"] else "aanbieder_agb"
            senders = {r[sender_column] for r in table.rows} - {"*"}
            assert senders == {sub["sender"]}, (table.member, senders)


def _defects_by_line(truth: dict) -> dict[tuple[str, str, int], dict]:
    return {(d["file"], d["member"], d["line_number"]): d for d in truth["defects"]}


def test_rows_obey_the_contract_except_exactly_where_a_defect_is_planted(region) -> None:
    _, truth, tables = region
    defects = _defects_by_line(truth)
    broken = set()
    for t in tables:
        for row in t.rows:
            problems = _row_problems(t.kind, row)
            if problems:
                broken.add((t.file, t.member, row["_line"]))
    tabular_defects = {k for k, d in defects.items() if not k[1].endswith(".xml") and d["expected_code"] != "OM101"
                       and d["defect"] in _FORM_DEFECTS}  # fmt: skip
    assert broken == tabular_defects
    assert {d["defect"] for k, d in defects.items() if k in tabular_defects} == _FORM_DEFECTS


_FORM_DEFECTS = {
    "ambiguous_amount", "impossible_date", "not_a_whole_number", "required_field_empty", "tevredenheid_out_of_range",
    "unknown_informant", "zrm_score_out_of_range", "antwoord_out_of_range",
}  # fmt: skip


def _row_problems(kind: str, row: dict) -> list[str]:
    """The contract's value rules for the cells the generator fills."""
    p = []
    dates = [c for c in row if c.endswith("datum") or c in ("meetdatum", "afgesproken_op", "begindatum")]
    for c in dates:
        if row[c] is not None and parse_date(row[c]) is None:
            p.append(c)
    if kind in ("declaratie", "productieverantwoording", "contracttarief"):
        for c in ("bedrag", "tarief"):
            if c in row and row[c] is not None and parse_cents(row[c]) is None:
                p.append(c)
    if kind == "uitkomst":
        if row["informant"] not in ("jeugdige", "ouder", "client", "cliënt"):
            p.append("informant")
        t = row["tevredenheid"]
        if t is not None and not (parse_int(t) is not None and 1 <= parse_int(t) <= 10):
            p.append("tevredenheid")
        if row["zonder_hulp_verder"] not in (None, "01", "02", "03", "04"):
            p.append("zonder_hulp_verder")
        if row["doelrealisatie"] is not None and parse_int(row["doelrealisatie"]) not in (1, 2, 3, 4):
            p.append("doelrealisatie")
    if kind == "zrm":
        if parse_int(row["score"]) not in (1, 2, 3, 4, 5):
            p.append("score")
        if parse_int(row["zrm_domein"]) not in range(1, 14) or row["meetmoment"] not in ("T0", "Tn"):
            p.append("zrm_domein/meetmoment")
    if kind == "clientervaring" and (
        parse_int(row["antwoord"]) not in (1, 2, 3, 4, 5, 9) or not re.fullmatch(r"0[1-9]", row["vraag_code"])
    ):
        p.append("antwoord")
    for c in ("gemeente_code", "aanbieder_agb"):
        if c in row and row[c] is not None and not re.fullmatch(r"\*|\d{4}|\d{8}", str(row[c])):
            p.append(c)
    return p


def test_planted_cells_hold_what_the_ground_truth_says(region) -> None:
    _, truth, tables = region
    by_member = {(t.file, t.member): t for t in tables}
    seen = set()
    for d in truth["defects"]:
        if d["member"].endswith(".xml"):
            continue
        row = next(r for r in by_member[(d["file"], d["member"])].rows if r["_line"] == d["line_number"])
        cell = row[d.get("field", "bsn")]
        seen.add(d["defect"])
        if d["defect"] == "ambiguous_amount":
            assert re.fullmatch(r"\d{1,3}(\.\d{3})+,\d{2}", cell), cell
        elif d["defect"] == "impossible_date":
            assert "31" in cell and "02" in cell and parse_date(cell) is None
        elif d["defect"] == "tevredenheid_out_of_range":
            assert parse_int(cell) in (0, 11)
        elif d["defect"] == "zrm_score_out_of_range":
            assert parse_int(cell) == 6
        elif d["defect"] == "required_field_empty":
            assert cell is None
        elif d["defect"] == "antwoord_out_of_range":
            assert parse_int(cell) in (0, 6, 7)
        assert d["expected_code"] in {"OM020", "OM021", "OM022", "OM023", "OM024", "OM101", "9346", "9319", "OM105",
                                      "8021"}  # fmt: skip
    assert {"ambiguous_amount", "impossible_date", "zrm_score_out_of_range", "bsn_elfproef"} <= seen


def test_the_ingest_parser_reads_every_member_and_flags_exactly_the_planted_cells(region) -> None:
    """With the real tabular parser: no file is refused, line numbers agree, and every cell problem it
    finds (OM020-OM025) is a planted defect with that expected code. Range rules (tevredenheid 11, ZRM
    score 6, answer 7) and OM101/9346/... belong to the row suites, so the parser may leave those."""
    tabular = pytest.importorskip("outcome_monitor.ingest.tabular")
    out, truth, tables = region
    planted = {(d["file"], d["member"], d["line_number"]): d for d in truth["defects"]}
    found = {}
    for t in tables:
        with zipfile.ZipFile(out / t.file) as zf:
            parsed = tabular.parse_tabular(zf.read(t.member), t.member)
        assert (parsed.kind, parsed.row_count) == (t.kind, len(t.rows))
        for record_type, columns in parsed.columns_by_type.items():
            assert set(columns["line_number"]) <= {r["_line"] for r in t.rows}
            for index, problems in parsed.problems_by_type.get(record_type, {}).items():
                found[(t.file, t.member, columns["line_number"][index])] = {p["code"] for p in problems}
    assert found and all({planted[k]["expected_code"]} == codes for k, codes in found.items() if k in planted)
    assert set(found) <= set(planted)
    cell_codes = {"OM020", "OM021", "OM022", "OM023"}
    assert {k for k, d in planted.items() if d["expected_code"] in cell_codes} <= set(found)
