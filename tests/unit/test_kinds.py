"""The submission kinds: header recognition, agreement with the raw schema and docs/aanlevering.md, and
the row suites of the CSV/XLSX/JSON-only record types (one failing and one passing row per code)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from outcome_monitor.config import RECORD_TYPES
from outcome_monitor.ingest.kinds import KINDS, indicator_codes, recognise
from outcome_monitor.ingest.rejection import MessageRejected
from outcome_monitor.raw_schema import SCHEMAS
from outcome_monitor.validation.row_checks import check_rows

DOCS = Path(__file__).resolve().parents[2] / "docs" / "aanlevering.md"


@pytest.mark.parametrize("kind_name", sorted(KINDS))
def test_full_and_required_only_headers_name_their_kind_in_any_order_and_case(kind_name):
    kind = KINDS[kind_name]
    full = [f"  {column.name.upper()} " for column in reversed(kind.columns)]
    assert recognise(full).kind is kind
    assert recognise(sorted(kind.required)).kind is kind


def test_no_header_fits_two_kinds():
    for kind in KINDS.values():
        for other in KINDS.values():
            if other is not kind:
                assert not (other.required <= kind.names and kind.required <= other.names), (kind.name, other.name)
                assert not (other.required <= kind.required), (kind.name, other.name)


def test_unknown_and_missing_columns_are_listed_against_the_closest_kind():
    header = [c.name for c in KINDS["zrm"].columns if c.name != "score"] + ["scor"]
    with pytest.raises(MessageRejected) as caught:
        recognise(header)
    assert caught.value.code == "OM010"
    message = caught.value.message
    assert "'zrm'" in message and "ontbrekende kolommen: score" in message and "onbekende kolommen: scor" in message


def test_tab_separated_header_gets_a_hint_about_the_separator():
    with pytest.raises(MessageRejected) as caught:
        recognise(["gemeente_code\taanbieder_agb\tdomein"])
    assert "scheidingsteken" in caught.value.detail


def test_double_column_is_refused():
    header = [c.name for c in KINDS["zrm"].columns] + ["Score"]
    with pytest.raises(MessageRejected) as caught:
        recognise(header)
    assert caught.value.code == "OM010" and "score" in caught.value.detail


def test_every_record_type_has_a_raw_schema_a_suite_and_a_place_in_config():
    suites = Path(__file__).resolve().parents[2] / "expectations"
    for kind in KINDS.values():
        for record_type in kind.record_types:
            assert record_type in SCHEMAS and record_type in RECORD_TYPES
            assert (suites / f"ingest_{record_type}.json").exists()
            schema = set(SCHEMAS[record_type].names)
            # Every column lands in the raw zone, except the BSN (pseudonymised), soort (it picks the record
            # type) and a stop's end fields on the start record type.
            missing = {column.key for column in kind.columns} - schema
            assert missing <= {"bsn", "soort", "einddatum", "reden_beeindiging"}, (record_type, missing)


def test_docs_table_lists_exactly_the_columns_of_every_kind():
    text = DOCS.read_text(encoding="utf-8")
    documented = {}
    for line in text.splitlines():
        match = re.match(r"^\| (\w+) \| [^|]+ \| (aanbieder|gemeente) \| (.+) \|$", line)
        if match:
            cells = [re.match(r"`?(\w+)", cell.strip()).group(1) for cell in match.group(3).split(",")]
            documented[match.group(1)] = (match.group(2), cells)
    assert set(documented) == set(KINDS)
    for name, (sender, columns) in documented.items():
        assert sender == KINDS[name].sender_role
        assert columns == [column.name for column in KINDS[name].columns], name


def test_indicator_codes_come_from_the_dbt_seed():
    assert {"UITVAL", "VOLGENS_PLAN", "ZRM_VERBETERD"} <= set(indicator_codes())


# --- row suites of the new record types --------------------------------------------------------------------

CLEAN = {
    "uitkomst": {
        "gemeente_code": "1731",
        "aanbieder_agb": "65656055",
        "domein": "jeugd",
        "toewijzingnummer": "T1",
        "bsn": "999900006",
        "meetdatum": date(2025, 6, 30),
        "informant": "ouder",
        "tevredenheid": 8,
        "zonder_hulp_verder": "01",
        "doelrealisatie": 2,
    },
    "zrm_meting": {
        "gemeente_code": "1731",
        "aanbieder_agb": "65656055",
        "domein": "wmo",
        "bsn": "999900006",
        "meetdatum": date(2025, 2, 1),
        "meetmoment": "T0",
        "zrm_domein": 13,
        "score": 5,
    },
    "clientervaring": {
        "gemeente_code": "1699",
        "jaar": 2025,
        "wet": "jeugdwet",
        "domein": "jeugd",
        "respondent_id": "R1",
        "vraag_code": "Q01",
        "antwoord": 9,
        "aanbieder_agb": None,
    },
    "productieverantwoording": {
        "aanbieder_agb": "65656055",
        "jaar": 2025,
        "gemeente_code": "1730",
        "domein": "jeugd",
        "productcode": "45A03",
        "volume": 0,
        "bedrag_cents": 7_500_000,
        "controleverklaring": "ja",
        "versie": "concept",
    },
    "afspraak": {
        "indicator_code": "UITVAL",
        "gemeente_code": "*",
        "domein": "*",
        "aanbieder_agb": "*",
        "productcategorie": "45",
        "periode": "2025-H2",
        "baseline": 0.18,
        "streefwaarde": 0.15,
        "richting": "lager",
        "afgesproken_op": date(2025, 1, 15),
    },
    "contracttarief": {
        "gemeente_code": "1969",
        "aanbieder_agb": "65656055",
        "domein": "wmo",
        "productcode": "02A01",
        "eenheid": None,
        "tarief_cents": 0,
        "ingangsdatum": date(2025, 1, 1),
        "einddatum": date(2025, 1, 1),
    },
}
CLEAN_TOO = {  # second passing rows: the other edge of each rule
    "uitkomst": {"informant": "client", "tevredenheid": 1, "zonder_hulp_verder": None, "doelrealisatie": None},
    "zrm_meting": {"meetmoment": "Tn", "zrm_domein": 1, "score": 1},
    "clientervaring": {"antwoord": 1, "jaar": 2015, "wet": "wmo", "aanbieder_agb": "65656055"},
    "productieverantwoording": {"versie": "definitief", "controleverklaring": "nee", "jaar": date.today().year + 1},
    "afspraak": {
        "indicator_code": "CEO_Q07",
        "gemeente_code": "1731",
        "domein": "wmo",
        "productcategorie": "*",
        "aanbieder_agb": "65656055",
        "periode": "2025",
        "richting": "hoger",
    },
    "contracttarief": {"eenheid": "04", "einddatum": None},
}
BROKEN = [
    ("uitkomst", "OM101", {"bsn": "999900007"}),
    ("uitkomst", "S300", {"gemeente_code": "9999"}),
    ("uitkomst", "OM110", {"aanbieder_agb": "6565605"}),
    ("uitkomst", "OM111", {"domein": "participatie"}),
    ("uitkomst", "OM115", {"informant": "buurman"}),
    ("uitkomst", "OM112", {"tevredenheid": 11}),
    ("uitkomst", "OM112", {"tevredenheid": 0}),
    ("uitkomst", "OM113", {"zonder_hulp_verder": "05"}),
    ("uitkomst", "OM114", {"doelrealisatie": 5}),
    ("uitkomst", "OM128", {"tevredenheid": None, "zonder_hulp_verder": None, "doelrealisatie": None}),
    ("zrm_meting", "OM101", {"bsn": "12345678"}),
    ("zrm_meting", "S300", {"gemeente_code": "0000"}),
    ("zrm_meting", "OM110", {"aanbieder_agb": "A5656055"}),
    ("zrm_meting", "OM111", {"domein": "jeugdzorg"}),
    ("zrm_meting", "OM116", {"meetmoment": "T1"}),
    ("zrm_meting", "OM117", {"zrm_domein": 14}),
    ("zrm_meting", "OM118", {"score": 6}),
    ("clientervaring", "S300", {"gemeente_code": "1234"}),
    ("clientervaring", "OM110", {"aanbieder_agb": "656560551"}),
    ("clientervaring", "OM121", {"jaar": 2014}),
    ("clientervaring", "OM121", {"jaar": date.today().year + 2}),
    ("clientervaring", "OM120", {"wet": "participatiewet"}),
    ("clientervaring", "OM119", {"antwoord": 6}),
    ("clientervaring", "OM119", {"antwoord": 0}),
    ("productieverantwoording", "S300", {"gemeente_code": "17311"}),
    ("productieverantwoording", "OM110", {"aanbieder_agb": ""}),
    ("productieverantwoording", "OM111", {"domein": "*"}),
    ("productieverantwoording", "OM121", {"jaar": 1999}),
    ("productieverantwoording", "OM122", {"controleverklaring": "misschien"}),
    ("productieverantwoording", "OM123", {"versie": "v2"}),
    ("productieverantwoording", "OM127", {"volume": -1}),
    ("productieverantwoording", "OM127", {"bedrag_cents": -1}),
    ("afspraak", "OM125", {"indicator_code": "ONBEKEND"}),
    ("afspraak", "OM125", {"indicator_code": "CEO_"}),
    ("afspraak", "S300", {"gemeente_code": "9999"}),
    ("afspraak", "OM111", {"domein": "alles"}),
    ("afspraak", "OM110", {"aanbieder_agb": "**"}),
    ("afspraak", "OM102", {"productcategorie": "99"}),
    ("afspraak", "OM102", {"domein": "wmo", "productcategorie": "45"}),
    ("afspraak", "OM126", {"periode": "2025-H3"}),
    ("afspraak", "OM126", {"periode": "25"}),
    ("afspraak", "OM124", {"richting": "beter"}),
    ("contracttarief", "S300", {"gemeente_code": "GM1969"}),
    ("contracttarief", "OM110", {"aanbieder_agb": "123"}),
    ("contracttarief", "OM111", {"domein": "Wmo"}),
    ("contracttarief", "OM103", {"eenheid": "99"}),
    ("contracttarief", "OM127", {"tarief_cents": -100}),
    ("contracttarief", "OM104", {"einddatum": date(2024, 12, 31)}),
]


@pytest.mark.parametrize("record_type", sorted(CLEAN))
def test_new_suite_passes_clean_rows_and_flags_exactly_the_broken_rule(record_type):
    cases = [(code, change) for kind, code, change in BROKEN if kind == record_type]
    clean = CLEAN[record_type]
    rows = [clean, {**clean, **CLEAN_TOO[record_type]}] + [{**clean, **change} for _, change in cases]
    result = check_rows(record_type, rows)
    assert result.codes_per_row[:2] == [[], []]
    for (code, change), codes in zip(cases, result.codes_per_row[2:], strict=True):
        assert codes == [code], (code, change, codes)
        assert result.severity_of(code) == "afwijzing" and result.message_of(code) != code


def test_every_new_code_is_tested():
    suites = Path(__file__).resolve().parents[2] / "expectations"
    import json

    codes = {
        (record_type, e["meta"]["code"])
        for record_type in CLEAN
        for e in json.loads((suites / f"ingest_{record_type}.json").read_text(encoding="utf-8"))["expectations"]
    }
    assert codes == {(record_type, code) for record_type, code, _ in BROKEN}
