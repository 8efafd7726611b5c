"""Honest publication on a hand-made raw zone: real dbt build, real DuckDB, figures worked out by hand.

Jeugd, 2025-H1, UITVAL (reason 32 among 31-34), all at category 45:

    gemeente        provider  ended  uitval
    0014 Groningen  P1        12     3
    0363 Amsterdam  P1        15     5
    0344 Utrecht    P2         4     1      <- under 10: hidden (primary)
    region '*'                31     9

Utrecht alone would be 31 - 12 - 15, so the smallest other municipality, Groningen (12), is
hidden too (secondary); Amsterdam and the region stay. The year 2025 holds only H1: Groningen's
year equals its hidden half-year, so it is hidden as well.

Client experience, 2025, Jeugdwet, question 05: Groningen 20 answers (under 30: hidden), Amsterdam
35 (the smallest other: hidden), Utrecht 40 (shown), region 95 (shown); answers 9 do not count.
"""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pytest
from fixtures_raw import write_raw_zone

from outcome_monitor import build

pytestmark = pytest.mark.integration

AS_OF = "2026-02-15"
GRONINGEN, AMSTERDAM, UTRECHT = "0014", "0363", "0344"
P1, P2 = "11111111", "22222222"
PII_COLUMN = re.compile(r"bsn|pseudonym|geboorte|birth|postcode|client_id|respondent", re.IGNORECASE)
# The one rpt_ column that may hold pseudonyms: the controller's year-end detail lines, which only the
# controller role can open (stack/superset_security.py) and the auditor needs line by line.
CONTROLLER_DETAIL = ("rpt_controller__bevindingen", "client_pseudonym")


def _stops(gemeente: str, agb: str, dropped: int, planned: int) -> list[dict]:
    rows = []
    for i, reden in enumerate(["32"] * dropped + ["31"] * planned):
        client = f"client-{gemeente}-{agb}-{i:02d}"
        rows.append({
            "submission_id": f"lev-{gemeente}-{agb}", "domein": "jeugd", "berichtcode": "JW307",
            "gemeente_code": gemeente, "aanbieder_agb": agb, "client_pseudonym": client,
            "toewijzingnummer": f"T{gemeente}{i:02d}", "productcategorie": "45", "productcode": "45A01",
            "begindatum": dt.date(2024, 9, 1), "einddatum": dt.date(2025, 3, 1 + i), "reden_beeindiging": reden,
            "status_aanlevering": "1",
        })  # fmt: skip
    return rows


def _answers(gemeente: str, agree: int, disagree: int, dont_know: int) -> list[dict]:
    answers = [5] * agree + [2] * disagree + [9] * dont_know
    return [
        {"submission_id": f"ceo-{gemeente}", "domein": "jeugd", "berichtcode": "CSV", "gemeente_code": gemeente,
         "aanbieder_agb": P1, "jaar": 2025, "wet": "jeugdwet", "respondent_id": f"R{gemeente}{i:03d}",
         "vraag_code": "05", "antwoord": antwoord}
        for i, antwoord in enumerate(answers)
    ]  # fmt: skip


def _agreement(gemeente: str, domein: str = "jeugd") -> dict:
    return {
        "submission_id": "afspraken-2025", "berichtcode": "CSV", "gemeente_code": gemeente, "domein": domein,
        "aanbieder_agb": "*", "indicator_code": "UITVAL", "productcategorie": "*", "periode": "2025-H1",
        "baseline": 0.5, "streefwaarde": 0.25, "richting": "lager", "afgesproken_op": dt.date(2024, 11, 20),
    }  # fmt: skip


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    records = {
        "stop_zorg": _stops(GRONINGEN, P1, 3, 9) + _stops(AMSTERDAM, P1, 5, 10) + _stops(UTRECHT, P2, 1, 3),
        "clientervaring": _answers(GRONINGEN, 12, 8, 5) + _answers(AMSTERDAM, 20, 15, 3) + _answers(UTRECHT, 30, 10, 0),
        "afspraak": [_agreement(UTRECHT), _agreement(AMSTERDAM), _agreement(AMSTERDAM, "*")],
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OUTCOME_MONITOR_HOME", str(home))
        paths = write_raw_zone(home, records)
        build.build_and_publish(paths, as_of_date=AS_OF)
    con = duckdb.connect(str(paths.published_warehouse), read_only=True)
    yield con
    con.close()


def rows(con, sql: str, *params) -> list[dict]:
    cursor = con.execute(sql, list(params))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_council_table_hides_the_small_municipality_and_the_one_that_would_give_it_away(warehouse) -> None:
    found = {
        (r["gemeente_code"], r["period"]): r
        for r in rows(
            warehouse,
            "select * from rpt_raad__indicatoren where indicator_code = 'UITVAL' and domein = 'jeugd'",
        )
    }
    assert found[(UTRECHT, "2025-H1")]["suppression_reden"] == "te weinig waarnemingen (minder dan 10)"
    assert found[(GRONINGEN, "2025-H1")]["suppression_reden"] == "afgeschermd: anders te herleiden uit een totaal"
    for key in ((UTRECHT, "2025-H1"), (GRONINGEN, "2025-H1"), (UTRECHT, "2025"), (GRONINGEN, "2025")):
        hidden = found[key]
        assert hidden["is_suppressed"], key
        assert [hidden[c] for c in ("numerator", "denominator", "n", "value", "ci_lower", "ci_upper")] == [None] * 6
    amsterdam, region = found[(AMSTERDAM, "2025-H1")], found[("*", "2025-H1")]
    assert (amsterdam["numerator"], amsterdam["denominator"], amsterdam["is_suppressed"]) == (5, 15, False)
    assert (region["numerator"], region["denominator"], region["gemeente_naam"]) == (9, 31, "Hele regio")
    assert region["value"] == pytest.approx(9 / 31)
    assert region["ci_lower"] < 9 / 31 < region["ci_upper"]
    # what a reader can still do: region minus the visible municipalities is Groningen + Utrecht together
    assert 31 - 15 == 12 + 4


def test_survey_questions_need_30_answers_and_are_not_derivable(warehouse) -> None:
    found = {
        r["gemeente_code"]: r
        for r in rows(warehouse, "select * from rpt_raad__clientervaring where indicator_code = 'CEO_05'")
    }
    assert found[GRONINGEN]["suppression_reden"] == "te weinig waarnemingen (minder dan 30 antwoorden)"
    assert found[AMSTERDAM]["suppression_reden"] == "afgeschermd: anders te herleiden uit een totaal"
    assert found[GRONINGEN]["value"] is None and found[AMSTERDAM]["n"] is None
    utrecht, region = found[UTRECHT], found["*"]
    assert (utrecht["n"], utrecht["numerator"], utrecht["value"]) == (40, 30, 0.75)
    assert (region["n"], region["numerator"]) == (95, 62)  # the 9s (weet niet) are left out
    assert utrecht["ci_lower"] < 0.75 < utrecht["ci_upper"]
    assert utrecht["vraag_tekst"] == "Ik vind de kwaliteit van de hulp goed."


def test_provider_table_keeps_its_agb_and_shows_no_derivable_cell(warehouse) -> None:
    found = rows(warehouse, "select * from rpt_aanbieder__indicatoren")
    assert found and {r["aanbieder_agb"] for r in found} == {P1, P2}
    assert all(r["value"] is None for r in found if r["is_suppressed"])
    assert all(
        r["n"] >= (30 if r["indicator_code"].startswith("CEO_") else 10) for r in found if not r["is_suppressed"]
    )
    # P2's only municipality has 4 trajectories: nothing of P2 about trajectories is shown
    assert all(r["is_suppressed"] for r in found if r["aanbieder_agb"] == P2 and r["indicator_code"] == "UITVAL")
    # where the benchmark is shown it is the all-provider figure of the same scope
    shown = [r for r in found if not r["benchmark_is_suppressed"] and r["indicator_code"] == "UITVAL"]
    assert all(
        r["benchmark_value"] == pytest.approx(9 / 31)
        for r in shown
        if r["gemeente_code"] == "*" and r["period"] == "2025-H1"
    )


def test_agreements_hide_what_the_indicator_tables_hide(warehouse) -> None:
    found = {(r["gemeente_code"], r["domein"]): r for r in rows(warehouse, "select * from rpt_raad__afspraken")}
    utrecht = found[(UTRECHT, "jeugd")]
    assert utrecht["is_suppressed"] and utrecht["value"] is None and utrecht["attainment"] is None
    assert utrecht["beoordeling"] == "afgeschermd"
    amsterdam = found[(AMSTERDAM, "jeugd")]
    assert amsterdam["value"] == pytest.approx(5 / 15)
    # lager is beter, from 0.5 to 0.25: 1/3 is (1/3 - 1/2) / (1/4 - 1/2) = 2/3 of the way
    assert amsterdam["attainment"] == pytest.approx(2 / 3)
    assert amsterdam["beoordeling"] == "op weg" and amsterdam["status"] == "definitief"
    both_domains = found[(AMSTERDAM, "*")]  # Amsterdam has only Jeugd: the same figure, shown
    assert both_domains["value"] == pytest.approx(5 / 15) and both_domains["domein_naam"] == "Jeugd en Wmo"


def test_no_rpt_table_holds_a_client_identifier(warehouse) -> None:
    assert_no_client_identifiers(warehouse)


def assert_no_client_identifiers(con) -> None:
    """No rpt_ column is named like a personal identifier, and no rpt_ value is a pseudonym or looks like a BSN."""
    pseudonyms = {
        value
        for (value,) in con.execute(
            "select client_pseudonym from staging.stg_raw__stop_zorg union select client_pseudonym from "
            "staging.stg_raw__uitkomsten union select client_pseudonym from staging.stg_raw__zrm_metingen "
            "union select client_pseudonym from staging.stg_raw__toewijzingen"
        ).fetchall()
        if value
    }
    assert pseudonyms
    tables = [
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_name like 'rpt\\_%' escape '\\'"
        ).fetchall()
    ]
    assert {
        "rpt_raad__indicatoren", "rpt_raad__afspraken", "rpt_raad__clientervaring",
        "rpt_aanbieder__indicatoren", "rpt_aanbieder__bevindingen", "rpt_raad__gedeclareerd",
    } <= set(tables)  # fmt: skip
    for table in tables:
        columns = con.execute(
            "select column_name, data_type from information_schema.columns where table_name = ?", [table]
        ).fetchall()
        named = [name for name, _ in columns if PII_COLUMN.search(name) and (table, name) != CONTROLLER_DETAIL]
        assert not named, table
        for name, data_type in columns:
            if data_type != "VARCHAR" or (table, name) == CONTROLLER_DETAIL:
                continue
            values = {v for (v,) in con.execute(f'select distinct "{name}" from main."{table}"').fetchall() if v}
            assert not values & pseudonyms, (table, name)
            assert not [v for v in values if re.fullmatch(r"\d{9}", v)], (table, name)
