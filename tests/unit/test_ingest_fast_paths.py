"""The fast paths of ingest give exactly what the careful paths give: the same Parquet content, report
and codes, also for files full of defects.

- CSV: the Arrow reader (cells converted once per distinct text, identifiers stripped in Arrow) against
  Python's csv module with a list per column (the path for files pyarrow cannot read line for line);
- XML declarations: one regular-expression pass over a message's bytes against a walk over every
  Prestatie's children in the parsed tree; every form the pattern does not read exactly goes to the walk.
"""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from lxml import etree
from references import EXAMPLES_IJW, EXAMPLES_IWMO

from outcome_monitor.config import Paths
from outcome_monitor.generate import generate
from outcome_monitor.ingest import ingest_file, submission, tabular_formats
from outcome_monitor.ingest import messages as messages_module
from outcome_monitor.ingest.bundle import Member, SubmissionRejected
from outcome_monitor.ingest.messages import parse_message

RECEIVED = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
_BASE = b"http://www.istandaarden.nl/ijw/3_2/basisschema/schema"
HEADER = (
    "gemeente_code;aanbieder_agb;domein;declaratienummer;declaratie_begindatum;declaratie_einddatum;"
    "referentienummer;toewijzingnummer;bsn;productcategorie;productcode;productperiode_begindatum;"
    "productperiode_einddatum;volume;eenheid;tarief;bedrag;debet_credit;"
)
# Every habit and defect a cell can have: spaces (ASCII and not), empty cells, lost leading zeros,
# Dutch and ISO dates, ambiguous amounts, codes in other spellings, repeats, a value without a column.
DEFECT_LINES = [
    "1731;65656055;jeugd;D1;01-04-2026;30-04-2026;RN1;10001;999900006;45;45A03;01-04-2026;30-04-2026;4;04;12,50;50,00;D;",
    " GM1731 ; 65656055 ;Jeugd;D1;2026-04-01;2026-04-30; RN2 ;10001; 99990006 ;45;45A03;1-4-2026;30-4-2026;"
    "4;04;12.5;50;d;",
    "1731;65656055;jeugd;D1;01/04/2026;30-04-2026;RN3;10001;\u00a0999900006\u00a0;45;45A03;01-04-2026;30-04-2026;x;04;1.250;1.250,00;D;",
    "1731;65656055;jeugd;D1;01-04-2026;31-04-2026;;10001;;45;45A03;01-04-2026;;4;99;;50,00;X;",
    "1731;65656055;jeugd;D1;01-04-2026;30-04-2026;RN1;10001;\uff19\uff19\uff19\uff19\uff10\uff10\uff10\uff16;45;é45;"
    "01-04-2026;30-04-2026;4;04;12,50;50,00;C;stray",
    ";;;;;;;;;;;;;;;;;;",
    "1731;65656055;jeugd;D1;01-04-2026;30-04-2026;RN\u20035;10001;999900006;45;45A03;01-04-2026;30-04-2026;"
    "2;83;;7,00;D;",
    "9999;65656055;wmo;D1;01-04-2026;30-04-2026;\tRN6\t;10001;12345;02;02A01;01-03-2026;30-04-2026;1;04;5;5;D;",
]


def _ingest_both_ways(tmp_path: Path, monkeypatch, file: Path, slow_target: str, slow) -> tuple[Paths, Paths]:
    monkeypatch.setenv("OUTCOME_MONITOR_PSEUDONYM_KEY", "test-key-not-secret")
    fast, careful = Paths(tmp_path / "fast"), Paths(tmp_path / "careful")
    ingest_file(file, fast, received_at=RECEIVED)
    with monkeypatch.context() as patched:
        patched.setattr(slow_target, slow)
        ingest_file(file, careful, received_at=RECEIVED)
    return fast, careful


def _assert_same_raw_zone(fast: Paths, careful: Paths) -> int:
    fast_files = sorted(p.relative_to(fast.raw) for p in fast.raw.rglob("*.parquet") if "_schema" not in p.parts)
    careful_files = sorted(
        p.relative_to(careful.raw) for p in careful.raw.rglob("*.parquet") if "_schema" not in p.parts
    )
    assert fast_files == careful_files and fast_files
    rows = 0
    for name in fast_files:
        left, right = pq.read_table(fast.raw / name), pq.read_table(careful.raw / name)
        assert left.schema == right.schema, name
        assert left.to_pylist() == right.to_pylist(), name
        assert (fast.raw / name).read_bytes() == (careful.raw / name).read_bytes(), name
        rows += left.num_rows
    for report in fast.feedback.glob("*.json"):
        assert report.read_text() == (careful.feedback / report.name).read_text()
    return rows


def test_a_csv_full_of_defects_reads_the_same_by_arrow_and_by_the_csv_module(tmp_path, monkeypatch):
    file = tmp_path / "declaraties.csv"
    file.write_text(HEADER + "\n" + "\n".join(DEFECT_LINES) + "\n", encoding="utf-8")
    fast, careful = _ingest_both_ways(
        tmp_path, monkeypatch, file, "outcome_monitor.ingest.tabular_formats._arrow_table", lambda *args: None
    )
    assert _assert_same_raw_zone(fast, careful) == len(DEFECT_LINES) - 1  # the ';;;;' line is no row
    rejected = pq.read_table(next(fast.raw.rglob("declaratie_regel/rejected.parquet")))
    codes = {code for row in rejected.column("finding_codes").to_pylist() for code in row}
    assert {"OM020", "OM021", "OM022", "OM023", "OM024", "OM025", "8021", "OM101"} <= codes


def test_the_arrow_reader_really_is_the_path_a_clean_csv_takes(tmp_path):
    file = tmp_path / "declaraties.csv"
    file.write_text(HEADER + "\n" + DEFECT_LINES[0] + "\n", encoding="utf-8")
    table = tabular_formats._arrow_table(file.read_bytes(), ";", 1, HEADER.count(";") + 1)
    assert table is not None and table.num_rows == 1


@pytest.fixture(scope="module")
def sample_bundles(tmp_path_factory) -> list[Path]:
    """The fewest sample bundles that hold every kind of member (message type, or kind and format)."""
    out = tmp_path_factory.mktemp("sample")
    generate(out, seed=3, scale=0.05, defect_rate=0.2)
    chosen, covered = [], set()
    for bundle in sorted((out / "submissions").glob("*.zip")):
        with zipfile.ZipFile(bundle) as archive:
            kinds = {(name.split("_")[0], Path(name).suffix) for name in archive.namelist()}
        if kinds - covered:
            chosen.append(bundle)
            covered |= kinds
    return chosen


def test_every_sample_bundle_reads_the_same_by_the_fast_and_careful_paths(tmp_path, monkeypatch, sample_bundles):
    # Every format and kind of the sample region, with its planted defects, through both CSV readers and
    # both declaration extractions at once.
    def careful_csv_and_xml(patched):
        patched.setattr("outcome_monitor.ingest.tabular_formats._arrow_table", lambda *args: None)
        patched.setattr("outcome_monitor.ingest.messages._prestatie_texts_by_pattern", lambda *args: None)

    monkeypatch.setenv("OUTCOME_MONITOR_PSEUDONYM_KEY", "test-key-not-secret")
    fast, careful = Paths(tmp_path / "fast"), Paths(tmp_path / "careful")
    for bundle in sample_bundles:
        ingest_file(bundle, fast, received_at=RECEIVED)
        with monkeypatch.context() as patched:
            careful_csv_and_xml(patched)
            ingest_file(bundle, careful, received_at=RECEIVED)
    assert _assert_same_raw_zone(fast, careful) > 500
    rejected = [pq.read_metadata(path).num_rows for path in fast.raw.rglob("rejected.parquet")]
    assert sum(rejected) > 0  # the planted defects were among them


def _texts_both_ways(data: bytes) -> tuple[list | None, list]:
    root = etree.fromstring(data)
    namespace = etree.QName(root).namespace
    message_type = messages_module.message_type_for(namespace)
    ns = {"m": namespace, "b": message_type.base_namespace}
    by_pattern = messages_module._prestatie_texts_by_pattern(root, ns, data)
    walked = messages_module._prestatie_texts_walked(root.find("m:Declaratie", namespaces=ns), ns)
    return (None if by_pattern is None else [v.to_pylist() for v in by_pattern]), [v.to_pylist() for v in walked]


EXAMPLE = (EXAMPLES_IJW / "JW323.xml").read_bytes()
PRESTATIE_END = b"</jw323:Prestatie>"


def test_pattern_and_walk_read_the_same_declaration_lines(sample_bundles):
    declarations = [EXAMPLE, (EXAMPLES_IWMO / "WMO323.xml").read_bytes()]
    for bundle in sample_bundles:
        with zipfile.ZipFile(bundle) as archive:
            declarations += [archive.read(name) for name in archive.namelist() if name.startswith("JW323")]
    lines = 0
    for data in declarations:
        by_pattern, walked = _texts_both_ways(data)
        assert by_pattern == walked  # never None: the plain form is what the pattern reads
        lines += len(walked[0])
    assert lines > 100


def test_optional_and_empty_elements_read_the_same_both_ways():
    # A correction names its predecessor; a line may leave out its tariff; whitespace and CRLF between tags.
    data = EXAMPLE.replace(
        b"<ijw:ReferentieNummer>RN001</ijw:ReferentieNummer>",
        b"<ijw:ReferentieNummer>RN001</ijw:ReferentieNummer>\r\n "
        b"<ijw:VorigReferentieNummer>RN000</ijw:VorigReferentieNummer>",
        1,
    ).replace(b"<jw323:ProductTarief>1500</jw323:ProductTarief>", b"", 1)
    by_pattern, walked = _texts_both_ways(data)
    assert by_pattern == walked
    vorig, tarief = walked[2], walked[10]
    assert vorig[0] == "RN000" and None in vorig and None in tarief and "1250" in tarief


@pytest.mark.parametrize(
    ("change", "value"),
    [
        # An element's text stops at a comment; the walk reads what lxml reads.
        ((b">RN001<", b">RN<!-- x -->001<"), "RN"),
        ((b">RN001<", b"><![CDATA[RN001]]><"), "RN001"),
        ((b">RN001<", b">RN&amp;001<"), "RN&001"),
        ((b">RN001<", b">RN\r\n001<"), "RN\n001"),  # the parser turns CRLF into LF
        ((b"<ijw:ReferentieNummer>RN001", b"<ijw:ReferentieNummer >RN001"), "RN001"),
        ((b"<ijw:ReferentieNummer>RN001", b'<ijw:ReferentieNummer xmlns:ijw="' + _BASE + b'">RN001'), "RN001"),
        ((b"<jw323:Declaratie>", b"<?note x?><jw323:Declaratie>"), "RN001"),
    ],
)
def test_every_form_the_pattern_cannot_read_exactly_goes_to_the_walk(change, value):
    data = EXAMPLE.replace(*change, 1)
    assert data != EXAMPLE
    by_pattern, walked = _texts_both_ways(data)
    assert by_pattern is None
    assert parse_message(data).records[0]["referentienummer"] == value == walked[1][0]


def test_a_namespace_under_another_prefix_reads_the_same_both_ways():
    data = EXAMPLE.replace(b"ijw:", b"basis:").replace(b"xmlns:ijw=", b"xmlns:basis=")
    by_pattern, walked = _texts_both_ways(data)
    assert by_pattern == walked and walked[1][0] == "RN001"


def test_a_bundle_parsed_in_threads_gives_what_one_message_after_another_gives(tmp_path, monkeypatch):
    # Messages are parsed and validated two at a time: every member keeps its own XSD error (line and
    # reason), its own rows and its place, as when they are read one after another.
    prestaties = EXAMPLE.split(PRESTATIE_END)
    members = {}
    for number in range(24):
        if number % 3 == 0:  # an element the XSD does not know, in another Prestatie each time
            place = number // 3 % (len(prestaties) - 1)
            broken = prestaties[place] + b"<jw323:Onbekend>1</jw323:Onbekend>"
            data = PRESTATIE_END.join([*prestaties[:place], broken, *prestaties[place + 1 :]])
        elif number % 3 == 1:
            data = EXAMPLE.replace(b">RN00", b">R%02d" % number)
        else:
            data = EXAMPLE[: 400 + 97 * number]  # cut off: not well-formed, at another line each time
        members[f"JW323_{number:02d}.xml"] = data
    bundle = tmp_path / "aanlevering.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    one_by_one = submission._read_one_by_one
    fast, careful = _ingest_both_ways(
        tmp_path, monkeypatch, bundle, f"{submission.__name__}._read_in_parallel", one_by_one
    )
    assert _assert_same_raw_zone(fast, careful) == 8 * 5
    report = json.loads(next(fast.feedback.glob("*.json")).read_text())
    xsd_errors = [row["detail"] for found in report["findings"] if found["code"] == "0001" for row in found["rows"]]
    assert len(xsd_errors) == 8 and len(set(xsd_errors)) == 5 and all("Onbekend" in error for error in xsd_errors)
    assert len([row for found in report["findings"] if found["code"] == "OM001" for row in found["rows"]]) == 8


def test_members_read_before_a_bundle_problem_count_in_threads_as_one_by_one():
    def bundle_that_breaks_after_two():
        yield Member("JW323_1.xml", EXAMPLE)
        yield Member("JW323_2.xml", b"<kapot")
        raise SubmissionRejected("OM001", "Het ZIP-bestand is beschadigd.", "test")

    def outcomes(read) -> tuple[list, str]:
        seen = []
        with pytest.raises(SubmissionRejected) as stopped:
            for member, outcome in read(bundle_that_breaks_after_two(), "s1"):
                problem = outcome.exception()
                seen.append((member.name, type(problem).__name__, 0 if problem else outcome.result().row_count))
        return seen, stopped.value.code

    expected = ([("JW323_1.xml", "NoneType", 5), ("JW323_2.xml", "MessageRejected", 0)], "OM001")
    assert outcomes(submission._read_one_by_one) == expected
    assert outcomes(submission._read_in_parallel) == expected
