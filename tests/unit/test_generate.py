"""The sample-data generator: real files, re-parsed and checked against the official XSDs and the
ground truth it claims."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import pytest
from lxml import etree
from test_generate_files import Table, parse_cents, parse_date, read_table

from outcome_monitor.bsn import passes_elfproef
from outcome_monitor.generate import generate
from outcome_monitor.generate.defects import LINE_DEFECTS, STOP_DEFECTS
from outcome_monitor.generate.periods import add_months
from outcome_monitor.generate.zipstream import ZipStreamWriter

ISTANDAARDEN = Path(__file__).resolve().parents[2] / "src" / "outcome_monitor" / "istandaarden"
XSD = ISTANDAARDEN / "ijw-3.2" / "xsd"
NS = {
    "ijw": "http://www.istandaarden.nl/ijw/3_2/basisschema/schema",
    **{k: f"http://www.istandaarden.nl/ijw/3_2/{k}/schema" for k in ("jw301", "jw305", "jw307", "jw323")},
}
START, END = date(2025, 1, 1), date(2026, 6, 30)


@cache
def schema(kind: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD / f"{kind}.xsd")))


def d(text: str) -> date:
    return date.fromisoformat(text)


def txt(node: etree._Element, path: str) -> str:
    return node.findtext(path, namespaces=NS)


@dataclass
class Message:
    file: str
    member: str
    kind: str
    raw: bytes
    root: etree._Element


@dataclass
class Line:
    """One JW323 Prestatie, re-parsed."""

    file: str
    member: str
    line_number: int
    afzender: str
    gemeente: str
    periode_begin: date
    periode_eind: date
    bsn: str
    ref: str
    toewijzing: str
    categorie: str
    code: str
    begin: date
    eind: date
    volume: int
    eenheid: str
    tarief: int
    bedrag: int | None  # None: not a valid amount (CSV/XLSX)


class Run:
    """A generated output folder, parsed once."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.truth = json.loads((out / "ground_truth.json").read_text(encoding="utf-8"))
        self.messages: list[Message] = []
        self.tables: list[Table] = []
        for sub in self.truth["submissions"]:
            with zipfile.ZipFile(out / sub["file"]) as zf:
                for info in zf.infolist():
                    raw = zf.read(info)
                    if not info.filename.endswith(".xml"):
                        self.tables.append(read_table(sub["file"], info.filename, raw))
                        continue
                    self.messages.append(
                        Message(sub["file"], info.filename, info.filename[:5], raw, etree.fromstring(raw))
                    )
        self.lines: list[Line] = []
        for m in self.of("JW323"):
            decl = m.root.find("jw323:Declaratie", NS)
            n = 0
            for client in decl.iterfind("jw323:Clienten/jw323:Client", NS):
                for p in client.iterfind("jw323:Prestaties/jw323:Prestatie", NS):
                    n += 1
                    self.lines.append(
                        Line(
                            m.file, m.member, n, txt(m.root, "jw323:Header/jw323:Afzender"),
                            txt(m.root, "jw323:Header/jw323:Ontvanger"),
                            d(txt(decl, "jw323:DeclaratiePeriode/ijw:Begindatum")),
                            d(txt(decl, "jw323:DeclaratiePeriode/ijw:Einddatum")),
                            txt(client, "jw323:Bsn"),
                            txt(p, "jw323:ProductReferentie/ijw:ReferentieNummer"),
                            txt(p, "jw323:ToewijzingNummer"), txt(p, "jw323:ProductCategorie"),
                            txt(p, "jw323:ProductCode"),
                            d(txt(p, "jw323:ProductPeriode/ijw:Begindatum")),
                            d(txt(p, "jw323:ProductPeriode/ijw:Einddatum")),
                            int(txt(p, "jw323:GeleverdVolume")), txt(p, "jw323:Eenheid"),
                            int(txt(p, "jw323:ProductTarief")),
                            int(txt(p, "jw323:IngediendBedrag/ijw:Bedrag")),
                        )
                    )  # fmt: skip
        for t in self.table("declaratie"):  # declarations sent as CSV/XLSX: the same lines
            for r in t.rows:
                self.lines.append(
                    Line(
                        t.file, t.member, r["_line"], r["aanbieder_agb"], r["gemeente_code"],
                        parse_date(r["declaratie_begindatum"]), parse_date(r["declaratie_einddatum"]), r["bsn"],
                        r["referentienummer"], r["toewijzingnummer"], r["productcategorie"], r["productcode"],
                        parse_date(r["productperiode_begindatum"]), parse_date(r["productperiode_einddatum"]),
                        int(r["volume"]), r["eenheid"], parse_cents(r["tarief"]), parse_cents(r["bedrag"]),
                    )
                )  # fmt: skip

    def table(self, kind: str) -> list[Table]:
        return [t for t in self.tables if t.kind == kind]

    def jeugd_levering(self, soort: str) -> list[dict]:
        return [r for t in self.table("levering") for r in t.rows if r["domein"] == "jeugd" and r["soort"] == soort]

    def of(self, kind: str) -> list[Message]:
        return [m for m in self.messages if m.kind == kind]

    def defects(self, kind: str | None = None, record_type: str = "declaratie_regel") -> list[dict]:
        return [
            x for x in self.truth["defects"]
            if x["record_type"] == record_type and (kind is None or x["defect"] == kind)
        ]  # fmt: skip

    def line(self, member: str, line_number: int, file: str) -> Line:
        for ln in self.lines:
            if ln.member == member and ln.line_number == line_number and ln.file == file:
                return ln
        raise AssertionError(f"no line {line_number} in {file}:{member}")


def line_is_clean(ln: Line, earlier_refs: set[str]) -> bool:
    """The business rules the planted line defects break, checked from the XML alone."""
    same_month = (ln.begin.year, ln.begin.month) == (ln.eind.year, ln.eind.month)
    return (
        passes_elfproef(ln.bsn)
        and ln.bedrag is not None
        and ln.bedrag == ln.volume * ln.tarief
        and ln.periode_begin <= ln.begin <= ln.eind <= ln.periode_eind
        and same_month
        and ln.ref not in earlier_refs
    )


def classify(run: Run) -> dict[tuple[str, str, int], bool]:
    """(file, member, line_number) -> clean, per the rules; refs are unique per provider."""
    seen: dict[str, set[str]] = defaultdict(set)
    result = {}
    for ln in run.lines:  # document order within each message, messages in archive order
        refs = seen[ln.afzender]
        result[(ln.file, ln.member, ln.line_number)] = line_is_clean(ln, refs)
        refs.add(ln.ref)
    return result


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("small")
    generate(out, seed=42, scale=0.1, defect_rate=0.02)
    return Run(out)


@pytest.fixture(scope="module")
def defective(tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("defective")
    generate(out, seed=7, scale=0.1, defect_rate=0.3)
    return Run(out)


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("full")
    generate(out, seed=42, scale=1.0, defect_rate=0.02)
    return out


def tree_bytes(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


# -- determinism -------------------------------------------------------------------------------


def test_same_arguments_give_byte_identical_output(small: Run, tmp_path: Path) -> None:
    generate(tmp_path, seed=42, scale=0.1, defect_rate=0.02)
    assert tree_bytes(tmp_path) == tree_bytes(small.out)


def test_another_seed_gives_other_data(small: Run, tmp_path: Path) -> None:
    generate(tmp_path, seed=43, scale=0.1, defect_rate=0.02)
    other = json.loads((tmp_path / "ground_truth.json").read_text())
    assert [s["sha256"] for s in other["submissions"]] != [s["sha256"] for s in small.truth["submissions"]]
    assert other["expected"] != small.truth["expected"]


def test_defect_rate_changes_defects_not_the_care_data(small: Run, tmp_path: Path) -> None:
    generate(tmp_path, seed=42, scale=0.1, defect_rate=0.0)
    clean = json.loads((tmp_path / "ground_truth.json").read_text())
    assert clean["defects"] == []
    assert clean["expected"]["declaratie"]["lines_rejected"] == 0
    assert clean["expected"]["declaratie"]["lines_received"] == small.truth["expected"]["declaratie"]["lines_received"]
    with (
        zipfile.ZipFile(tmp_path / "submissions" / "2025-H1_gemeente-1731_toewijzingen.zip") as a,
        zipfile.ZipFile(small.out / "submissions" / "2025-H1_gemeente-1731_toewijzingen.zip") as b,
    ):
        assert [a.read(n) for n in a.namelist()] == [b.read(n) for n in b.namelist()]


def test_ground_truth_hashes_are_the_files_hashes(small: Run) -> None:
    for sub in small.truth["submissions"]:
        assert hashlib.sha256((small.out / sub["file"]).read_bytes()).hexdigest() == sub["sha256"]


# -- form --------------------------------------------------------------------------------------


def test_every_message_is_valid_against_its_official_xsd(small: Run, defective: Run) -> None:
    invalid = []
    for run in (small, defective):
        for m in run.messages:
            if not schema(m.kind).validate(m.root):
                invalid.append((m.member, str(schema(m.kind).error_log.last_error)))
    assert invalid == []
    assert {m.kind for m in small.messages} == {"JW301", "JW305", "JW307", "JW323"}


def test_headers_carry_code_version_sender_and_a_dagtekening_after_the_period(small: Run) -> None:
    codes = {"JW301": "436", "JW305": "438", "JW307": "440", "JW323": "490"}
    latest = add_months(END, 1)
    ids: Counter[tuple[str, str]] = Counter()
    for sub in small.truth["submissions"]:
        for m in (m for m in small.messages if m.file == sub["file"]):
            ns = m.kind.lower()
            h = m.root.find(f"{ns}:Header", NS)
            assert txt(h, f"{ns}:BerichtCode") == codes[m.kind]
            assert (txt(h, f"{ns}:BerichtVersie"), txt(h, f"{ns}:BerichtSubversie")) == ("3", "2")
            assert txt(h, f"{ns}:Afzender") == sub["sender"]
            dagtekening = d(txt(h, f"{ns}:BerichtIdentificatie/ijw:Dagtekening"))
            assert dagtekening <= latest
            if m.kind == "JW323":
                assert dagtekening > d(txt(m.root, "jw323:Declaratie/jw323:DeclaratiePeriode/ijw:Einddatum"))
            if m.kind == "JW307":
                assert dagtekening > d(txt(m.root, ".//jw307:StopProduct/jw307:Einddatum"))
            ids[(sub["sender"], txt(h, f"{ns}:BerichtIdentificatie/ijw:Identificatie"))] += 1
    assert max(ids.values()) == 1  # BerichtIdentificatie unique per sender


def test_files_are_one_sender_one_half_year_with_documented_names(small: Run) -> None:
    names = sorted(s["file"] for s in small.truth["submissions"])
    assert sorted(str(p.relative_to(small.out)) for p in (small.out / "submissions").iterdir()) == names
    pattern = re.compile(r"submissions/(2025-H1|2025-H2|2026-H1)_(gemeente-\d{4}_toewijzingen|aanbieder-\d{8})\.zip")
    assert all(pattern.fullmatch(n) for n in names)
    gemeenten = [g["code"] for g in small.truth["gemeenten"]]
    aanbieders = [a["agb"] for a in small.truth["aanbieders"]]
    wmo = [a["agb"] for a in small.truth["wmo_aanbieders"]]
    assert gemeenten == ["1731", "1699", "1730", "1969"] and 4 <= len(aanbieders) <= 15 and 2 <= len(wmo) <= 5
    assert len(names) == 3 * (len(gemeenten) + len(aanbieders) + len(wmo))
    for sub in small.truth["submissions"]:
        kinds = {m.kind for m in small.messages if m.file == sub["file"]}
        tabular = {t.kind for t in small.tables if t.file == sub["file"]}
        if "gemeente" in sub["file"]:
            assert kinds == {"JW301"} and {"toewijzing"} <= tabular
            assert tabular <= {"toewijzing", "contracttarief", "afspraak", "clientervaring"}
        elif sub["sender"] in wmo:  # Wmo is taakgericht here: no XML, no declarations
            assert not kinds and {"levering", "uitkomst"} <= tabular <= {"levering", "uitkomst", "zrm"}
        else:
            assert kinds and kinds <= {"JW305", "JW307", "JW323"}
            assert tabular <= {"declaratie", "levering", "uitkomst", "productieverantwoording"}
            assert ("JW323" in kinds) != ("declaratie" in tabular)
        assert sub["messages"] == dict(Counter(m.kind for m in small.messages if m.file == sub["file"]))
        assert sub["declaration_lines"] == sum(1 for ln in small.lines if ln.file == sub["file"])


def test_zip_members_are_flat_unique_and_deflated(small: Run) -> None:
    for sub in small.truth["submissions"]:
        with zipfile.ZipFile(small.out / sub["file"]) as zf:
            assert zf.testzip() is None
            infos = zf.infolist()
            names = [i.filename for i in infos]
            assert len(set(names)) == len(names)
            for info in infos:
                assert "/" not in info.filename and "\\" not in info.filename and ".." not in info.filename
                assert re.fullmatch(
                    r"JW3(01|05|07|23)_\d{4,8}_\d{4}-\d{2}_\d{6,}\.xml|[a-z]+_\d{4,8}_\d{4}(-H[12])?\.(csv|xlsx)",
                    info.filename,
                )
                assert info.compress_type == zipfile.ZIP_DEFLATED


def test_jw323_header_total_is_the_sum_of_its_lines(defective: Run) -> None:
    lines_by_member = defaultdict(int)
    for ln in defective.lines:
        if ln.member.endswith(".xml"):
            lines_by_member[(ln.file, ln.member)] += ln.bedrag
    for m in defective.of("JW323"):
        total = int(txt(m.root, "jw323:Declaratie/jw323:TotaalIngediendBedrag/ijw:TotaalBedrag"))
        assert total == lines_by_member[(m.file, m.member)] > 0


def test_declaration_identifiers_are_unique_per_provider(small: Run) -> None:
    numbers = Counter(
        (txt(m.root, "jw323:Header/jw323:Afzender"), txt(m.root, "jw323:Declaratie/jw323:DeclaratieNummer"))
        for m in small.of("JW323")
    )
    assert max(numbers.values()) == 1
    refs = Counter((ln.afzender, ln.ref) for ln in small.lines)
    repeats = sum(n - 1 for n in refs.values())
    assert repeats == len(small.defects("repeated_referentienummer"))


# -- content -----------------------------------------------------------------------------------


def test_small_region_has_200_clients_in_all_four_municipalities(small: Run) -> None:
    clients = {txt(m.root, "jw301:Client/jw301:Bsn") for m in small.of("JW301")}
    assert len(clients) == 200
    assert all(999900006 <= int(b) <= 999999990 and passes_elfproef(b) for b in clients)
    assert {txt(m.root, "jw301:Header/jw301:Afzender") for m in small.of("JW301")} == {
        "1731",
        "1699",
        "1730",
        "1969",
    }
    assert len({ln.afzender for ln in small.lines}) >= 4
    assert len(small.lines) > 1000


def test_municipality_names_are_those_of_the_cbs_code_list(small: Run) -> None:
    table = (ISTANDAARDEN / "codelijsten" / "CBS_Gemeentecodes.md").read_text(encoding="utf-8")
    for g in small.truth["gemeenten"]:
        assert f"| {g['code']} | {g['naam']} |" in table


def test_bsns_fail_the_elfproef_exactly_where_the_ground_truth_says(defective: Run) -> None:
    failing_lines = {(ln.file, ln.member, ln.line_number) for ln in defective.lines if not passes_elfproef(ln.bsn)}
    claimed = {(x["file"], x["member"], x["line_number"]) for x in defective.defects("bsn_elfproef")}
    assert failing_lines == claimed and claimed

    failing_stops = set()
    for m in defective.of("JW307"):
        if not passes_elfproef(txt(m.root, "jw307:Client/jw307:Bsn")):
            n = len(m.root.findall(".//jw307:StopProduct", NS))
            failing_stops |= {(m.file, m.member, i) for i in range(1, n + 1)}
    for t in defective.table("levering"):
        failing_stops |= {(t.file, t.member, r["_line"]) for r in t.rows if not passes_elfproef(r["bsn"])}
    claimed_stops = {(x["file"], x["member"], x["line_number"]) for x in defective.defects("bsn_elfproef", "stop_zorg")}
    assert failing_stops == claimed_stops and claimed_stops
    assert {m for _f, m, _n in claimed_stops if m.endswith(".csv")}  # start/stop as CSV has them too
    for m in defective.of("JW301") + defective.of("JW305"):
        assert passes_elfproef(txt(m.root, f"{m.kind.lower()}:Client/{m.kind.lower()}:Bsn"))


def test_each_defect_kind_is_planted_on_the_line_the_ground_truth_names(defective: Run) -> None:
    assert {x["defect"] for x in defective.defects()} == {*LINE_DEFECTS, "ambiguous_amount"}
    assert {x["defect"] for x in defective.defects(record_type="stop_zorg")} == set(STOP_DEFECTS)
    codes = {x["defect"]: x["expected_code"] for x in defective.truth["defects"]}
    assert codes == {
        "bsn_elfproef": "OM101", "bedrag_mismatch": "9346", "period_outside_declaration": "9319",
        "period_spans_months": "OM105", "repeated_referentienummer": "8021", "ambiguous_amount": "OM021",
        "impossible_date": "OM020", "not_a_whole_number": "OM022", "required_field_empty": "OM023",
        "tevredenheid_out_of_range": "OM024", "unknown_informant": "OM024", "zrm_score_out_of_range": "OM024",
        "antwoord_out_of_range": "OM024",
    }  # fmt: skip
    assert {x["defect"] for x in defective.defects() if x["member"].endswith(".xml")} == set(LINE_DEFECTS)
    assert {x["defect"] for x in defective.defects() if not x["member"].endswith(".xml")} == {
        *LINE_DEFECTS,
        "ambiguous_amount",
    }
    for x in defective.defects():
        ln = defective.line(x["member"], x["line_number"], x["file"])
        assert (ln.ref, ln.toewijzing) == (x["referentienummer"], x["toewijzingnummer"])
        if x["defect"] == "bedrag_mismatch":
            assert ln.bedrag != ln.volume * ln.tarief
        elif x["defect"] == "ambiguous_amount":
            assert ln.bedrag is None
        elif x["defect"] == "period_outside_declaration":
            assert ln.begin.month == ln.eind.month and ln.eind < ln.periode_begin
            assert add_months(ln.begin.replace(day=1), 1) == ln.periode_begin
        elif x["defect"] == "period_spans_months":
            assert (ln.begin.day, ln.eind.day) == (15, 14) and add_months(ln.begin, 1).replace(day=14) == ln.eind
        elif x["defect"] == "repeated_referentienummer":
            earlier = [
                o for o in defective.lines
                if o.file == ln.file and o.member == ln.member and o.line_number < ln.line_number
            ]  # fmt: skip
            assert ln.ref in {o.ref for o in earlier}
        elif x["defect"] == "bsn_elfproef":
            assert not passes_elfproef(ln.bsn)


def test_lines_are_rejected_exactly_where_a_rule_is_broken(defective: Run) -> None:
    clean = classify(defective)
    claimed = {(x["file"], x["member"], x["line_number"]) for x in defective.defects()}
    assert {k for k, ok in clean.items() if not ok} == claimed
    dec = defective.truth["expected"]["declaratie"]
    assert dec["lines_received"] == len(defective.lines)
    assert dec["lines_rejected"] == len(claimed)


def test_expected_accepted_amounts_are_the_sum_over_clean_lines(defective: Run, small: Run) -> None:
    for run in (defective, small):
        clean = classify(run)
        sums: dict[tuple[str, str], int] = defaultdict(int)
        for ln in run.lines:
            month = f"{ln.periode_begin:%Y-%m}"
            sums[(ln.gemeente, month)] += ln.bedrag if clean[(ln.file, ln.member, ln.line_number)] else 0
        expected = {
            (r["gemeente_code"], r["month"]): r["bedrag_cents"]
            for r in run.truth["expected"]["declaratie"]["accepted_net_cents_by_gemeente_month"]
        }
        assert expected == dict(sums)
        assert len({m for _, m in expected}) == 18


def test_clean_lines_fit_their_toewijzing_start_and_stop(small: Run) -> None:
    """So that a correct pipeline finds no other reason to reject them (9307/9308, 9321/9322, 0611)."""
    toewijzing = {}
    for m in small.of("JW301"):
        bsn = txt(m.root, "jw301:Client/jw301:Bsn")
        for tp in m.root.iterfind(".//jw301:ToegewezenProduct", NS):
            toewijzing[txt(tp, "jw301:ToewijzingNummer")] = (
                bsn, txt(m.root, "jw301:Header/jw301:Afzender"), txt(m.root, "jw301:Header/jw301:Ontvanger"),
                txt(tp, "jw301:Product/ijw:Categorie"), txt(tp, "jw301:Product/ijw:Code"),
                d(txt(tp, "jw301:Ingangsdatum")), d(txt(tp, "jw301:Einddatum")),
                int(txt(tp, "jw301:Omvang/ijw:Volume")), txt(tp, "jw301:Omvang/ijw:Eenheid"),
                txt(tp, "jw301:Omvang/ijw:Frequentie"),
            )  # fmt: skip
    starts = defaultdict(list)
    for m in small.of("JW305"):
        for sp in m.root.iterfind(".//jw305:StartProduct", NS):
            starts[txt(sp, "jw305:ToewijzingNummer")].append(d(txt(sp, "jw305:Begindatum")))
    stops = defaultdict(list)
    for m in small.of("JW307"):
        for sp in m.root.iterfind(".//jw307:StopProduct", NS):
            stops[txt(sp, "jw307:ToewijzingNummer")].append(d(txt(sp, "jw307:Einddatum")))
    for r in small.jeugd_levering("start"):
        starts[r["toewijzingnummer"]].append(parse_date(r["begindatum"]))
    for r in small.jeugd_levering("stop"):
        stops[r["toewijzingnummer"]].append(parse_date(r["einddatum"]))
    clean = classify(small)
    tariffs: dict[tuple[str, str], set[int]] = defaultdict(set)
    for ln in small.lines:
        if not clean[(ln.file, ln.member, ln.line_number)]:
            continue
        bsn, gemeente, agb, cat, code, ingang, einde, volume, eenheid, freq = toewijzing[ln.toewijzing]
        assert (bsn, gemeente, agb, cat, code, eenheid) == (
            ln.bsn,
            ln.gemeente,
            ln.afzender,
            ln.categorie,
            ln.code,
            ln.eenheid,
        )
        assert code[:2] == cat
        assert ingang <= ln.begin and ln.eind <= einde
        started = max(b for b in starts[ln.toewijzing] if b <= ln.begin)  # a start message precedes care
        assert not [s for s in stops[ln.toewijzing] if started <= s < ln.eind]  # and no stop cuts it off
        days = (ln.eind - ln.begin).days + 1
        month_days = (add_months(ln.begin.replace(day=1), 1) - ln.begin.replace(day=1)).days
        assert 1 <= ln.volume <= (volume * days // 7 if freq == "2" else volume * days // month_days)
        assert 1250 <= ln.tarief <= 9500
        tariffs[(agb, code)].add(ln.tarief)
    assert all(len(t) == 1 for t in tariffs.values())  # one contract tariff per provider and product


def test_indicators_count_accepted_stops_by_reason(defective: Run, small: Run) -> None:
    for run in (defective, small):
        tally: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
        for m in run.of("JW307"):
            if not passes_elfproef(txt(m.root, "jw307:Client/jw307:Bsn")):
                continue  # rejected stop: the trajectory does not count as ended
            gemeente, agb = (
                txt(m.root, "jw307:Header/jw307:Ontvanger"),
                txt(m.root, "jw307:Header/jw307:Afzender"),
            )
            for sp in m.root.iterfind(".//jw307:StopProduct", NS):
                reason, einde = txt(sp, "jw307:RedenBeeindiging"), d(txt(sp, "jw307:Einddatum"))
                if reason not in {"31", "32", "33", "34"}:
                    continue
                period = f"{einde.year}-H{1 if einde.month <= 6 else 2}"
                for key in ((gemeente, period, agb), (gemeente, period, "*")):
                    tally[key][0] += reason == "32"
                    tally[key][1] += reason == "31"
                    tally[key][2] += 1
        for r in run.jeugd_levering("stop"):  # stops sent as CSV count the same
            einde = parse_date(r["einddatum"])
            if not passes_elfproef(r["bsn"]) or r["reden_beeindiging"] not in {"31", "32", "33", "34"}:
                continue
            period = f"{einde.year}-H{1 if einde.month <= 6 else 2}"
            for key in ((r["gemeente_code"], period, r["aanbieder_agb"]), (r["gemeente_code"], period, "*")):
                tally[key][0] += r["reden_beeindiging"] == "32"
                tally[key][1] += r["reden_beeindiging"] == "31"
                tally[key][2] += 1
        expected = {
            (r["indicator_code"], r["gemeente_code"], r["period"], r["aanbieder_agb"]): (
                r["numerator"],
                r["denominator"],
            )
            for r in run.truth["expected"]["indicators"]
        }
        recomputed = {}
        for (g, p, a), (uitval, plan, denominator) in tally.items():
            recomputed[("UITVAL", g, p, a)] = (uitval, denominator)
            recomputed[("VOLGENS_PLAN", g, p, a)] = (plan, denominator)
        assert expected == recomputed
        assert all(r["domein"] == "jeugd" and r["denominator"] > 0 for r in run.truth["expected"]["indicators"])


def test_unknown_productcategorie_is_not_planted_because_the_xsd_enumerates_jz020(defective: Run) -> None:
    basis = etree.parse(str(XSD / "basisschema.xsd"))
    xs = {"xs": "http://www.w3.org/2001/XMLSchema"}
    enum = basis.xpath("//xs:simpleType[@name='LDT_ProductCategorie']//xs:enumeration/@value", namespaces=xs)
    jz020 = re.findall(r"^\| (\d\d) ", (ISTANDAARDEN / "codelijsten" / "JZ020_Productcategorie.md").read_text(), re.M)
    assert sorted(enum) == sorted(jz020)
    assert not defective.defects("unknown_productcategorie")


def test_scale_one_is_the_documented_region(full: Path) -> None:
    truth = json.loads((full / "ground_truth.json").read_text())
    assert len(truth["submissions"]) == 72 == len(list((full / "submissions").glob("*.zip")))
    assert len(truth["wmo_aanbieders"]) == 5
    assert len(truth["aanbieders"]) == 15
    assert all(2 <= len(a["gemeenten"]) <= 4 and re.fullmatch(r"42\d{6}", a["agb"]) for a in truth["aanbieders"])
    reasons: Counter[str] = Counter()
    clients = set()
    for sub in truth["submissions"]:
        with zipfile.ZipFile(full / sub["file"]) as zf:
            for name in zf.namelist():
                if name.startswith("JW307"):
                    reasons.update(re.findall(rb"<jw307:RedenBeeindiging>(\d\d)<", zf.read(name)))
                elif name.startswith("JW301"):
                    clients.add(re.search(rb"<jw301:Bsn>(\d{9})<", zf.read(name)).group(1))
    assert len(clients) == 2000
    assert reasons.most_common(1)[0][0] == b"31"
    assert {b"31", b"32", b"33", b"34", b"35", b"38", b"20"} <= set(reasons)
    assert truth["expected"]["declaratie"]["lines_received"] > 10_000


def test_zip_writer_switches_to_zip64_beyond_65535_members(tmp_path: Path) -> None:
    writer = ZipStreamWriter(tmp_path / "many.zip", tmp_path)
    for i in range(65_600):
        writer.write(f"m{i:06d}.xml", b"<a/>", date(2025, 1, 1))
    writer.write_chunks("big.xml", (b"<b>" + b"x" * 1000 + b"</b>" for _ in range(3)), date(2025, 2, 1))
    writer.close()
    with zipfile.ZipFile(tmp_path / "many.zip") as zf:
        assert len(zf.infolist()) == 65_601
        assert zf.read("m065599.xml") == b"<a/>"
        assert zf.read("big.xml") == (b"<b>" + b"x" * 1000 + b"</b>") * 3
        assert zf.getinfo("big.xml").date_time == (2025, 2, 1, 12, 0, 0)
