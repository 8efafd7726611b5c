"""Every self-contained row rule: one row that breaks it, and a clean row that does not.

Each test runs with both rule engines: Great Expectations (AUTO, for a file this small) and DuckDB.
"""

from datetime import date

import pytest

from outcome_monitor.validation.row_checks import RULE_ENGINES, check_rows

ENGINE = {"name": None}


@pytest.fixture(autouse=True, params=RULE_ENGINES)
def rule_engine(request):
    ENGINE["name"] = request.param
    yield request.param
    ENGINE["name"] = None


CLEAN_LINE = {
    "domein": "jeugd",
    "aanbieder_agb": "65656055",
    "gemeente_code": "1731",
    "bsn": "999900006",
    "declaratie_begindatum": date(2026, 4, 1),
    "declaratie_einddatum": date(2026, 4, 30),
    "referentienummer": "RN001",
    "productcategorie": "45",
    "productcode": "45A03",
    "period_start_date": date(2026, 4, 1),
    "period_end_date": date(2026, 4, 30),
    "volume": 4,
    "eenheid": "04",
    "tarief_cents": 1250,
    "bedrag_cents": 5000,
    "debet_credit": "D",
}


def codes_of(record_type: str, rows: list[dict]) -> list[list[str]]:
    return check_rows(record_type, rows, ENGINE["name"]).codes_per_row


@pytest.mark.parametrize(
    ("code", "change"),
    [
        ("OM101", {"bsn": "999900007"}),
        ("S300", {"gemeente_code": "9999"}),
        ("OM102", {"productcategorie": "02", "productcode": "02A01"}),
        ("S329", {"productcode": "54A03"}),
        ("OM103", {"eenheid": "99"}),
        ("OM104", {"period_start_date": date(2026, 4, 20), "period_end_date": date(2026, 4, 10)}),
        ("OM105", {"period_start_date": date(2026, 4, 15), "period_end_date": date(2026, 5, 14)}),
        ("9319", {"period_start_date": date(2026, 3, 1), "period_end_date": date(2026, 3, 31)}),
        ("9346", {"bedrag_cents": 5001}),
    ],
)
def test_declaration_rule_rejects_the_breaking_row_only(code, change):
    clean = dict(CLEAN_LINE, referentienummer="RN-CLEAN")
    broken = {**CLEAN_LINE, **change}
    result = codes_of("declaratie_regel", [clean, broken])
    assert result[0] == []
    assert code in result[1]


def test_amount_in_euros_unit_is_not_volume_times_tariff():
    euro_line = {**CLEAN_LINE, "eenheid": "83", "volume": 5000, "tarief_cents": 100, "bedrag_cents": 5000}
    assert codes_of("declaratie_regel", [euro_line]) == [[]]


def test_repeated_referentienummer_rejects_the_repeat_and_keeps_the_first():
    first, repeat, other = CLEAN_LINE, dict(CLEAN_LINE), dict(CLEAN_LINE, referentienummer="RN002")
    assert codes_of("declaratie_regel", [first, repeat, other]) == [[], ["8021"], []]


def test_same_referentienummer_of_two_providers_is_no_repeat():
    other_provider = dict(CLEAN_LINE, aanbieder_agb="12345678")
    assert codes_of("declaratie_regel", [CLEAN_LINE, other_provider]) == [[], []]


def test_stop_with_unknown_reason_and_end_before_begin():
    stop = {
        "domein": "jeugd",
        "aanbieder_agb": "65656055",
        "gemeente_code": "1731",
        "bsn": "999900006",
        "productcategorie": "45",
        "productcode": "45A03",
        "begindatum": date(2026, 1, 1),
        "einddatum": date(2026, 6, 30),
        "reden_beeindiging": "31",
    }
    wmo_reason_in_jeugd = dict(stop, reden_beeindiging="19")
    backwards = dict(stop, einddatum=date(2025, 12, 31))
    assert codes_of("stop_zorg", [stop, wmo_reason_in_jeugd, backwards]) == [[], ["OM106"], ["OM104"]]


def test_toewijzing_without_end_date_is_fine_and_backwards_is_not():
    toewijzing = {
        "domein": "wmo",
        "aanbieder_agb": "65656055",
        "gemeente_code": "1699",
        "bsn": "999900006",
        "productcategorie": "02",
        "productcode": "02A01",
        "ingangsdatum": date(2026, 1, 1),
        "einddatum": None,
        "eenheid": None,
    }
    backwards = dict(toewijzing, einddatum=date(2025, 1, 1), eenheid="04")
    assert codes_of("toewijzing", [toewijzing, backwards]) == [[], ["OM104"]]


def test_an_unknown_rule_engine_is_refused():
    with pytest.raises(ValueError, match="rule engine"):
        check_rows("declaratie_regel", [CLEAN_LINE], "pandas")
