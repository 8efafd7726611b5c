"""fct_completeness and rpt_aanbieder__volledigheid on a small hand-made raw zone, with a real build.

Two providers in Amsterdam (Jeugd), peildatum 15 September 2025. Every row of fct_completeness is
worked out by hand below: what was expected (from toewijzingen, ended trajectories, years), what
was received (and when, from the manifests) and the due date of each period.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from fixtures_raw import write_manifest, write_raw_zone

from outcome_monitor import build

pytestmark = pytest.mark.integration

AS_OF = "2025-09-15"
AMSTERDAM, AGB_A, AGB_B = "0363", "12345678", "87654321"

RECEIVED = {  # submission id -> day it was received
    "tw": dt.date(2024, 10, 1),
    "lev-a-start": dt.date(2025, 5, 20),
    "lev-a-stop": dt.date(2025, 9, 5),
    "decl-a-05": dt.date(2025, 6, 15),
    "decl-a-06": dt.date(2025, 8, 2),
    "lev-b-start": dt.date(2024, 11, 15),
    "lev-b-stop": dt.date(2025, 4, 10),
    "decl-b-2024": dt.date(2025, 1, 5),
    "decl-b-01": dt.date(2025, 2, 10),
    "decl-b-0203": dt.date(2025, 4, 25),
    "uit-b": dt.date(2025, 8, 20),
    "pv-b": dt.date(2025, 3, 20),
}


def common(submission_id, agb, client, nr):
    return {"submission_id": submission_id, "domein": "jeugd", "gemeente_code": AMSTERDAM, "aanbieder_agb": agb,
            "client_pseudonym": client, "toewijzingnummer": nr}  # fmt: skip


def toewijzing(agb, client, nr, start, end):
    return {**common("tw", agb, client, nr), "productcategorie": "45", "ingangsdatum": start, "einddatum": end}


def stop(submission_id, agb, client, nr, end):
    return {**common(submission_id, agb, client, nr), "begindatum": dt.date(2024, 1, 1), "einddatum": end,
            "reden_beeindiging": "31", "status_aanlevering": "1"}  # fmt: skip


def declaration(submission_id, agb, client, nr, year, month, ref):
    start = dt.date(year, month, 1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return {**common(submission_id, agb, client, nr), "declaratienummer": submission_id, "referentienummer": ref,
            "productcategorie": "45", "productcode": "45A01", "period_start_date": start, "period_end_date": end,
            "volume": 1, "eenheid": "04", "tarief_cents": 100, "bedrag_cents": 100, "debet_credit": "D"}  # fmt: skip


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    records = {
        "toewijzing": [
            toewijzing(AGB_A, "c01", "T1", dt.date(2025, 5, 10), dt.date(2025, 7, 31)),
            toewijzing(AGB_B, "c02", "T2", dt.date(2025, 1, 1), dt.date(2025, 3, 31)),
            toewijzing(AGB_B, "c03", "T3", dt.date(2024, 11, 1), dt.date(2024, 12, 31)),
        ],
        "start_zorg": [
            {**common("lev-a-start", AGB_A, "c01", "T1"), "begindatum": dt.date(2025, 5, 10)},
            {**common("lev-b-start", AGB_B, "c03", "T3"), "begindatum": dt.date(2024, 11, 1)},
        ],
        "stop_zorg": [
            stop("lev-a-stop", AGB_A, "c01", "T1", dt.date(2025, 7, 31)),
            stop("lev-b-stop", AGB_B, "c02", "T2", dt.date(2025, 3, 31)),
        ],
        "uitkomst": [
            {**common("uit-b", AGB_B, "c02", "T2"), "meetdatum": dt.date(2025, 3, 31), "informant": "ouder",
             "tevredenheid": 8},
        ],
        "productieverantwoording": [
            {"submission_id": "pv-b", "domein": "jeugd", "gemeente_code": AMSTERDAM, "aanbieder_agb": AGB_B,
             "jaar": 2024, "productcode": "45A01", "volume": 2, "bedrag_cents": 200, "controleverklaring": "nee"},
        ],
        "declaratie_regel": [
            declaration("decl-a-05", AGB_A, "c01", "T1", 2025, 5, "A5"),
            declaration("decl-a-06", AGB_A, "c01", "T1", 2025, 6, "A6"),
            declaration("decl-b-2024", AGB_B, "c03", "T3", 2024, 11, "B11"),
            declaration("decl-b-2024", AGB_B, "c03", "T3", 2024, 12, "B12"),
            declaration("decl-b-01", AGB_B, "c02", "T2", 2025, 1, "B1"),
            declaration("decl-b-0203", AGB_B, "c02", "T2", 2025, 2, "B2"),
            declaration("decl-b-0203", AGB_B, "c02", "T2", 2025, 3, "B3"),
        ],
    }  # fmt: skip
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OUTCOME_MONITOR_HOME", str(home))
        paths = write_raw_zone(home, records)
        for submission_id, day in RECEIVED.items():
            # 14:00 Dutch summer/winter time is 12:00/13:00 UTC: the same calendar day either way
            write_manifest(paths, submission_id, dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC))
        build.build_and_publish(paths, as_of_date=AS_OF)
    with duckdb.connect(str(paths.published_warehouse), read_only=True) as con:
        yield con


def test_completeness_per_provider_kind_and_period(warehouse):
    found = warehouse.execute(
        "select aanbieder_agb, soort, period, expected_count, received_count, on_time_count, due_date, status "
        "from fct_completeness order by aanbieder_agb, soort, period"
    ).fetchall()
    d = dt.date
    assert found == [
        # A: toewijzing T1 from 10 May to 31 July 2025.
        (AGB_A, "declaratie", "2025-05", 1, 1, 1, d(2025, 6, 30), "compleet"),  # received 15 June
        (AGB_A, "declaratie", "2025-06", 1, 1, 0, d(2025, 7, 31), "te_laat"),  # received 2 August
        (AGB_A, "declaratie", "2025-07", 1, 0, 0, d(2025, 8, 31), "onvolledig"),  # nothing
        (AGB_A, "productieverantwoording", "2025", 1, 0, 0, d(2026, 3, 31), "nog_niet_verwacht"),
        (AGB_A, "start_zorg", "2025-05", 1, 1, 1, d(2025, 6, 30), "compleet"),  # received 20 May
        (AGB_A, "stop_zorg", "2025-07", 1, 1, 0, d(2025, 8, 31), "te_laat"),  # received 5 September
        (AGB_A, "uitkomst", "2025-H2", 1, 0, 0, d(2026, 2, 28), "nog_niet_verwacht"),  # T1 ended 31 July
        # B: T3 November-December 2024 (started, never stopped); T2 January-March 2025 (stopped).
        (AGB_B, "declaratie", "2024-11", 1, 1, 0, d(2024, 12, 31), "te_laat"),  # received 5 January
        (AGB_B, "declaratie", "2024-12", 1, 1, 1, d(2025, 1, 31), "compleet"),
        (AGB_B, "declaratie", "2025-01", 1, 1, 1, d(2025, 2, 28), "compleet"),  # received 10 February
        (AGB_B, "declaratie", "2025-02", 1, 1, 0, d(2025, 3, 31), "te_laat"),  # received 25 April
        (AGB_B, "declaratie", "2025-03", 1, 1, 1, d(2025, 4, 30), "compleet"),
        (AGB_B, "productieverantwoording", "2024", 1, 1, 1, d(2025, 3, 31), "compleet"),  # received 20 March
        (AGB_B, "productieverantwoording", "2025", 1, 0, 0, d(2026, 3, 31), "nog_niet_verwacht"),
        (AGB_B, "start_zorg", "2024-11", 1, 1, 1, d(2024, 12, 31), "compleet"),
        (AGB_B, "start_zorg", "2025-01", 1, 0, 0, d(2025, 2, 28), "onvolledig"),  # T2 never started
        (AGB_B, "stop_zorg", "2024-12", 1, 0, 0, d(2025, 1, 31), "onvolledig"),  # T3 never stopped
        (AGB_B, "stop_zorg", "2025-03", 1, 1, 1, d(2025, 4, 30), "compleet"),  # received 10 April
        (AGB_B, "uitkomst", "2025-H1", 1, 1, 1, d(2025, 8, 31), "compleet"),  # received 20 August
    ]


def test_fct_submission_carries_the_receipt_from_the_manifest(warehouse):
    received = dict(warehouse.execute(
        "select submission_id, received_date from fct_submission where record_type = 'declaratie_regel'"
    ).fetchall())  # fmt: skip
    assert received["decl-a-06"] == dt.date(2025, 8, 2)
    assert set(received) == {"decl-a-05", "decl-a-06", "decl-b-2024", "decl-b-01", "decl-b-0203"}


def test_rpt_aanbieder__volledigheid_labels_and_shares(warehouse):
    cursor = warehouse.execute(
        "select gemeente_naam, status_omschrijving, received_share, on_time_share, regel "
        "from rpt_aanbieder__volledigheid where aanbieder_agb = ? and soort = 'declaratie' and period = '2025-06'",
        [AGB_A],
    )
    naam, label, received_share, on_time_share, regel = cursor.fetchone()
    assert (naam, label, received_share, on_time_share) == ("Amsterdam", "Te laat", 1.0, 0.0)
    assert "maand" in regel
    columns = [row[0] for row in warehouse.execute(
        "select column_name from information_schema.columns where table_name = 'rpt_aanbieder__volledigheid'"
    ).fetchall()]  # fmt: skip
    assert not [name for name in columns if "client" in name or "pseudonym" in name]
