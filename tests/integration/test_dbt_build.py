"""The transform and publish step on a hand-made raw zone: real dbt, DuckDB and Great Expectations.

One build of the raw zone below serves most tests (module fixture); each value asserted here is
worked out by hand in the comments next to the rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from fixtures_raw import write_raw_zone

from outcome_monitor import build
from outcome_monitor.config import Paths

pytestmark = pytest.mark.integration

AS_OF = "2026-01-15"  # 2025-H1 is definitief (from 2025-10-01); 2025-H2 and 2025 still voorlopig
AMSTERDAM, GRONINGEN = "0363", "0014"
AGB_A, AGB_B, AGB_C = "12345678", "87654321", "11112222"


def _stop(client, nr, agb, reden, einddatum, *, gemeente=AMSTERDAM, domein="jeugd", cat="45", **extra):
    return {
        "domein": domein,
        "berichtcode": "JW307" if domein == "jeugd" else "WMO307",
        "gemeente_code": gemeente,
        "aanbieder_agb": agb,
        "client_pseudonym": client,
        "toewijzingnummer": nr,
        "productcategorie": cat,
        "productcode": "45A01" if domein == "jeugd" else "02A01",
        "begindatum": dt.date(2024, 9, 1),
        "einddatum": einddatum,
        "reden_beeindiging": reden,
        "status_aanlevering": "1",
        **extra,
    }


def _line(ref, dc, bedrag, month, *, gemeente=AMSTERDAM, domein="jeugd", agb=AGB_A, cat="45", **extra):
    start = dt.date(2025, month, 1)
    end = dt.date(2025, month + 1, 1) - dt.timedelta(days=1)
    return {
        "submission_id": "decl-a-2025-01" if agb == AGB_A else "decl-c-2025-01",
        "domein": domein,
        "berichtcode": "JW323" if domein == "jeugd" else "WMO323",
        "gemeente_code": gemeente,
        "aanbieder_agb": agb,
        "client_pseudonym": "c01",
        "declaratienummer": "DECL-1",
        "declaratie_begindatum": dt.date(2025, 1, 1),
        "declaratie_einddatum": dt.date(2025, 2, 28),
        "declaratie_dagtekening": dt.date(2025, 3, 5),
        "referentienummer": ref,
        "toewijzingnummer": "T001",
        "productcategorie": cat,
        "productcode": "45A01",
        "period_start_date": start,
        "period_end_date": end,
        "volume": bedrag // 100,
        "eenheid": "01",
        "tarief_cents": 100,
        "bedrag_cents": bedrag,
        "debet_credit": dc,
        **extra,
    }


def raw_records() -> dict[str, list[dict]]:
    stops_1 = [
        # Jeugd, Amsterdam, 2025-H1. Denominator (31-34): j1, j2, j3, j4 = 4; UITVAL (32): j1.
        _stop("c01", "T001", AGB_A, "32", dt.date(2025, 2, 15)),  # j1
        _stop("c02", "T002", AGB_A, "31", dt.date(2025, 3, 10)),  # j2
        _stop("c03", "T003", AGB_A, "33", dt.date(2025, 4, 20), cat=None),  # j3: category 46 from toewijzing
        _stop("c04", "T004", AGB_B, "20", dt.date(2025, 1, 31)),  # j4 temporarily stopped ...
        _stop("c05", "T005", AGB_B, "20", dt.date(2025, 3, 1)),  # j5 only temporarily: not ended
        _stop("c06", "T006", AGB_B, "34", dt.date(2025, 8, 1)),  # j6 2025-H2
        _stop("c07", "T007", AGB_A, "32", dt.date(2025, 3, 1), status="afgewezen", finding_codes=["9338"]),
        _stop("c08", "T008", AGB_A, "02", dt.date(2025, 5, 1)),  # j8 ended, not in any denominator
        # Wmo, Groningen, 2025-H1: 21 and 19 count, 31 (verhuizing in Wmo) does not: UITVAL 1/2.
        _stop("w01", "W001", AGB_C, "21", dt.date(2025, 3, 1), gemeente=GRONINGEN, domein="wmo", cat="02"),
        _stop("w02", "W002", AGB_C, "19", dt.date(2025, 4, 1), gemeente=GRONINGEN, domein="wmo", cat="02"),
        _stop("w03", "W003", AGB_C, "31", dt.date(2025, 5, 1), gemeente=GRONINGEN, domein="wmo", cat="02"),
    ]
    for row in stops_1:
        row["submission_id"] = "lev-2025-1"
    # ... and ended as planned later, in another submission: j4 counts once, with 31, in 2025-H1.
    stops_2 = [_stop("c04", "T004", AGB_B, "31", dt.date(2025, 5, 31), submission_id="lev-2025-2")]
    # Wmo, Groningen, 2025-H2: ten ended trajectories, enough to be shown: UITVAL 3/10, VOLGENS_PLAN 5/10.
    reasons_h2 = ["21"] * 3 + ["19"] * 5 + ["22"] * 2
    stops_h2 = [
        _stop(f"w1{i}", f"W1{i}", AGB_C, reden, dt.date(2025, 9, 1), gemeente=GRONINGEN, domein="wmo",
              cat="02", submission_id="lev-2025-3")
        for i, reden in enumerate(reasons_h2)
    ]  # fmt: skip
    toewijzingen = [
        {
            "submission_id": "tw-2025-1",
            "domein": "jeugd",
            "berichtcode": "JW301",
            "gemeente_code": AMSTERDAM,
            "aanbieder_agb": AGB_A,
            "client_pseudonym": "c03",
            "toewijzingnummer": "T003",
            "productcategorie": "46",
            "productcode": "46A01",
            "ingangsdatum": dt.date(2024, 9, 1),
        },
        # The toewijzing the declaration lines of client c01 are checked against (9338, 9307, 9308).
        {
            "submission_id": "tw-2025-1",
            "domein": "jeugd",
            "berichtcode": "JW301",
            "gemeente_code": AMSTERDAM,
            "aanbieder_agb": AGB_A,
            "client_pseudonym": "c01",
            "toewijzingnummer": "T001",
            "productcategorie": "45",
            "productcode": "45A01",
            "ingangsdatum": dt.date(2024, 9, 1),
        },
    ]
    starts = [
        {"submission_id": "lev-2025-0", "domein": "jeugd", "gemeente_code": AMSTERDAM, "aanbieder_agb": AGB_A,
         "client_pseudonym": "c01", "toewijzingnummer": "T001", "begindatum": dt.date(2024, 9, 1),
         "status_aanlevering": "1"},
    ]  # fmt: skip
    lines = [
        # Amsterdam, provider A, category 45, January: 10000 + 5000 - 2500 = 12500 net; 9999 rejected.
        _line("R1", "D", 10000, 1),
        _line("R2", "D", 5000, 1),
        _line("R3", "C", 2500, 1, vorig_referentienummer="R2"),
        _line("R4", "D", 9999, 1, status="afgewezen", finding_codes=["9338"]),
        # February: 4000 + 1000 = 5000; the second line carries a signal but is accepted.
        _line("R5", "D", 4000, 2),
        _line("R6", "D", 1000, 2, finding_codes=["OP364"]),
        # Groningen, Wmo, provider C, category 02, January: 2000.
        _line("W1", "D", 2000, 1, gemeente=GRONINGEN, domein="wmo", agb=AGB_C, cat="02"),
    ]
    return {
        "stop_zorg": stops_1 + stops_2 + stops_h2,
        "toewijzing": toewijzingen,
        "start_zorg": starts,
        "declaratie_regel": lines,
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build and publish the raw zone above once; yields (paths, summary)."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OUTCOME_MONITOR_HOME", str(home))
        paths = write_raw_zone(home, raw_records())
        summary = build.build_and_publish(paths, as_of_date=AS_OF)
    return paths, summary


@pytest.fixture(scope="module")
def warehouse(built):
    paths, _ = built
    con = duckdb.connect(str(paths.published_warehouse), read_only=True)
    yield con
    con.close()


def rows(con, sql, *params):
    cursor = con.execute(sql, list(params))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def indicator(con, code, gemeente, domein, period, agb="*", cat="*"):
    found = rows(
        con,
        "select numerator, denominator, value, status from fct_indicator where indicator_code = ? "
        "and gemeente_code = ? and domein = ? and period = ? and aanbieder_agb = ? and productcategorie = ?",
        code, gemeente, domein, period, agb, cat,
    )  # fmt: skip
    assert len(found) <= 1
    return found[0] if found else None


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- indicators --------------------------------------------------------------------------------


def test_uitval_is_reason_32_among_trajectories_ended_with_31_to_34(warehouse):
    assert indicator(warehouse, "UITVAL", AMSTERDAM, "jeugd", "2025-H1") == {
        "numerator": 1, "denominator": 4, "value": 0.25, "status": "definitief",
    }  # fmt: skip


def test_volgens_plan_counts_a_trajectory_ended_after_a_temporary_stop(warehouse):
    # j2 and j4 (20 on 31 January, then 31 on 31 May) out of j1-j4.
    assert indicator(warehouse, "VOLGENS_PLAN", AMSTERDAM, "jeugd", "2025-H1") == {
        "numerator": 2, "denominator": 4, "value": 0.5, "status": "definitief",
    }  # fmt: skip
    # Provider B: j4 counts once; j5 (only a 20) has not ended.
    assert indicator(warehouse, "VOLGENS_PLAN", AMSTERDAM, "jeugd", "2025-H1", agb=AGB_B) == {
        "numerator": 1, "denominator": 1, "value": 1.0, "status": "definitief",
    }  # fmt: skip


def test_indicator_per_provider_and_category_and_star_rollups(warehouse):
    assert indicator(warehouse, "UITVAL", AMSTERDAM, "jeugd", "2025-H1", agb=AGB_A)["denominator"] == 3
    assert indicator(warehouse, "UITVAL", AMSTERDAM, "jeugd", "2025-H1", agb=AGB_A)["numerator"] == 1
    # j3's stop had no category: the toewijzing's 46 is used.
    assert indicator(warehouse, "UITVAL", AMSTERDAM, "jeugd", "2025-H1", cat="46") == {
        "numerator": 0, "denominator": 1, "value": 0.0, "status": "definitief",
    }  # fmt: skip
    assert indicator(warehouse, "UITVAL", AMSTERDAM, "jeugd", "2025-H1", agb=AGB_A, cat="45")["denominator"] == 2
    # Provider B's 2025-H1 rows exist for category 45 only.
    scopes = rows(
        warehouse,
        "select distinct aanbieder_agb, productcategorie from fct_indicator "
        "where gemeente_code = ? and period = '2025-H1' order by all",
        AMSTERDAM,
    )
    assert [(row["aanbieder_agb"], row["productcategorie"]) for row in scopes] == [
        ("*", "*"), ("*", "45"), ("*", "46"),
        (AGB_A, "*"), (AGB_A, "45"), (AGB_A, "46"),
        (AGB_B, "*"), (AGB_B, "45"),
    ]  # fmt: skip


def test_year_covers_both_half_years_and_stays_voorlopig_until_april(warehouse):
    # 2025: j1-j4 plus j6 (34, August) = 5; H2 alone: j6.
    assert indicator(warehouse, "UITVAL", AMSTERDAM, "jeugd", "2025") == {
        "numerator": 1, "denominator": 5, "value": 0.2, "status": "voorlopig",
    }  # fmt: skip
    assert indicator(warehouse, "UITVAL", AMSTERDAM, "jeugd", "2025-H2") == {
        "numerator": 0, "denominator": 1, "value": 0.0, "status": "voorlopig",
    }  # fmt: skip


def test_wmo_indicators_use_wmo588_codes(warehouse):
    assert indicator(warehouse, "UITVAL", GRONINGEN, "wmo", "2025-H1") == {
        "numerator": 1, "denominator": 2, "value": 0.5, "status": "definitief",
    }  # fmt: skip
    assert indicator(warehouse, "VOLGENS_PLAN", GRONINGEN, "wmo", "2025-H2") == {
        "numerator": 5, "denominator": 10, "value": 0.5, "status": "voorlopig",
    }  # fmt: skip


def test_rejected_stops_and_deaths_do_not_count_anywhere(warehouse):
    # The rejected stop of c07 (32) would have raised UITVAL; death (02) is in no denominator.
    total = warehouse.execute(
        "select sum(denominator) from fct_indicator where indicator_code = 'UITVAL' and gemeente_code = ? "
        "and aanbieder_agb = '*' and productcategorie = '*' and period = '2025'",
        [AMSTERDAM],
    ).fetchone()[0]
    assert total == 5


def test_rpt_raad__indicatoren_is_council_scope_and_suppresses_small_denominators(warehouse):
    found = rows(
        warehouse,
        "select * from rpt_raad__indicatoren where indicator_code in ('UITVAL', 'VOLGENS_PLAN') "
        "order by gemeente_code, domein, period, indicator_code",
    )
    assert {row["period"] for row in found} == {"2025-H1", "2025-H2", "2025"}
    assert {row["gemeente_naam"] for row in found} == {"Amsterdam", "Groningen", "Hele regio"}
    assert len(found) == 24  # 2 indicators x 3 periods x (Amsterdam jeugd, Groningen wmo, region jeugd and wmo)
    shown = [row for row in found if not row["is_suppressed"]]
    # Groningen's Wmo 2025-H2 (10 ended) is not shown: with 2025 (12) published it would be 2025 minus
    # 2025-H1 (2, hidden); the year is shown instead, for Groningen and for the region.
    figures = [(r["gemeente_code"], r["period"], r["indicator_code"], r["numerator"], r["denominator"]) for r in shown]
    assert figures == [
        ("*", "2025", "UITVAL", 4, 12), ("*", "2025", "VOLGENS_PLAN", 6, 12),
        (GRONINGEN, "2025", "UITVAL", 4, 12), (GRONINGEN, "2025", "VOLGENS_PLAN", 6, 12),
    ]  # fmt: skip
    hidden = [row for row in found if row["is_suppressed"]]
    assert all(
        row["numerator"] is None and row["denominator"] is None and row["value"] is None and row["suppression_reden"]
        for row in hidden
    )
    assert {r["suppression_reden"] for r in hidden if r["gemeente_code"] == GRONINGEN and r["period"] == "2025-H2"} == {
        "afgeschermd: anders te herleiden uit een totaal"
    }
    assert {row["indicator_naam"] for row in found} == {"Uitval", "Volgens plan beëindigd"}


def test_rpt_tables_have_the_dashboard_columns_and_no_client_column(warehouse):
    def columns(table):
        return dict(warehouse.execute(
            "select column_name, data_type from information_schema.columns where table_name = ? "
            "order by ordinal_position", [table]
        ).fetchall())  # fmt: skip

    indicatoren = columns("rpt_raad__indicatoren")
    expected = {
        "indicator_code": "VARCHAR", "indicator_naam": "VARCHAR", "gemeente_code": "VARCHAR",
        "gemeente_naam": "VARCHAR", "domein": "VARCHAR", "period": "VARCHAR", "numerator": "BIGINT",
        "denominator": "BIGINT", "value": "DOUBLE", "status": "VARCHAR",
    }  # fmt: skip
    assert expected.items() <= indicatoren.items()
    gedeclareerd = columns("rpt_raad__gedeclareerd")
    assert gedeclareerd == {
        "gemeente_code": "VARCHAR", "gemeente_naam": "VARCHAR", "domein": "VARCHAR",
        "aanbieder_agb": "VARCHAR", "productcategorie": "VARCHAR", "month_start_date": "DATE",
        "bedrag_cents": "BIGINT", "bedrag_euro": "DOUBLE", "line_count": "BIGINT",
    }  # fmt: skip
    rpt_tables = [name for (name,) in warehouse.execute(
        "select table_name from information_schema.tables where table_name like 'rpt_%'"
    ).fetchall()]  # fmt: skip
    for table in rpt_tables:
        allowed = {"client_pseudonym"} if table == "rpt_controller__bevindingen" else set()  # controller's detail
        named = [name for name in columns(table) if ("client" in name or "pseudonym" in name) and name not in allowed]
        assert not named, table


def test_fct_indicator_has_the_published_interface_types(warehouse):
    types = dict(warehouse.execute(
        "select column_name, data_type from information_schema.columns where table_name = 'fct_indicator'"
    ).fetchall())  # fmt: skip
    assert {name: types[name] for name in ("numerator", "denominator", "value", "period")} == {
        "numerator": "BIGINT", "denominator": "BIGINT", "value": "DOUBLE", "period": "VARCHAR",
    }  # fmt: skip


# --- declarations ------------------------------------------------------------------------------


def test_declared_amount_is_net_of_credits_and_excludes_rejected_lines(warehouse):
    found = rows(warehouse, "select * from fct_declared_amount_monthly order by gemeente_code desc, month_start_date")
    assert found == [
        {"gemeente_code": AMSTERDAM, "domein": "jeugd", "aanbieder_agb": AGB_A, "productcategorie": "45",
         "month_start_date": dt.date(2025, 1, 1), "bedrag_cents": 12500, "debet_cents": 15000,
         "credit_cents": 2500, "accepted_line_count": 3, "rejected_line_count": 1},
        {"gemeente_code": AMSTERDAM, "domein": "jeugd", "aanbieder_agb": AGB_A, "productcategorie": "45",
         "month_start_date": dt.date(2025, 2, 1), "bedrag_cents": 5000, "debet_cents": 5000,
         "credit_cents": 0, "accepted_line_count": 2, "rejected_line_count": 0},
        {"gemeente_code": GRONINGEN, "domein": "wmo", "aanbieder_agb": AGB_C, "productcategorie": "02",
         "month_start_date": dt.date(2025, 1, 1), "bedrag_cents": 2000, "debet_cents": 2000,
         "credit_cents": 0, "accepted_line_count": 1, "rejected_line_count": 0},
    ]  # fmt: skip


def test_rpt_raad__gedeclareerd_in_euro_with_municipality_names(warehouse):
    found = rows(
        warehouse,
        "select gemeente_naam, month_start_date, bedrag_cents, bedrag_euro, line_count "
        "from rpt_raad__gedeclareerd order by gemeente_code desc, month_start_date",
    )
    assert found == [
        {"gemeente_naam": "Amsterdam", "month_start_date": dt.date(2025, 1, 1), "bedrag_cents": 12500,
         "bedrag_euro": 125.0, "line_count": 3},
        {"gemeente_naam": "Amsterdam", "month_start_date": dt.date(2025, 2, 1), "bedrag_cents": 5000,
         "bedrag_euro": 50.0, "line_count": 2},
        {"gemeente_naam": "Groningen", "month_start_date": dt.date(2025, 1, 1), "bedrag_cents": 2000,
         "bedrag_euro": 20.0, "line_count": 1},
    ]  # fmt: skip


def test_fct_declaration_line_keeps_every_line_with_its_findings(warehouse):
    found = {row["referentienummer"]: row for row in rows(warehouse, "select * from fct_declaration_line")}
    assert sorted(found) == ["R1", "R2", "R3", "R4", "R5", "R6", "W1"]
    assert found["R4"]["status"] == "afgewezen"
    assert found["R4"]["finding_codes"] == ["9338"]
    assert found["R6"]["status"] == "geaccepteerd"
    assert found["R6"]["finding_codes"] == ["OP364"]
    assert found["R1"]["finding_codes"] == []
    assert (found["R3"]["debet_credit"], found["R3"]["bedrag_cents"], found["R3"]["signed_bedrag_cents"]) == (
        "C", 2500, -2500,
    )  # fmt: skip
    assert found["R3"]["vorig_referentienummer"] == "R2"
    assert found["R1"]["declaration_line_id"] == "decl-a-2025-01/decl-a-2025-01.xml#1"
    assert (found["R1"]["period_start_date"], found["R1"]["period_end_date"]) == (
        dt.date(2025, 1, 1), dt.date(2025, 1, 31),
    )  # fmt: skip
    net = warehouse.execute(
        "select sum(signed_bedrag_cents) from fct_declaration_line where status = 'geaccepteerd'"
    ).fetchone()[0]
    assert net == 12500 + 5000 + 2000


# --- the build and publish mechanics -----------------------------------------------------------


def test_publish_writes_build_json_and_leaves_no_build_file(built):
    paths, summary = built
    info = json.loads((paths.published / "build.json").read_text(encoding="utf-8"))
    assert info["as_of_date"] == AS_OF
    assert info["submissions"] == [
        "decl-a-2025-01", "decl-c-2025-01",
        "lev-2025-0", "lev-2025-1", "lev-2025-2", "lev-2025-3",
        "tw-2025-1",
    ]  # fmt: skip
    assert info["row_counts"]["fct_declaration_line"] == 7
    assert info["row_counts"]["fct_declared_amount_monthly"] == 3
    assert info["row_counts"]["rpt_raad__indicatoren"] == 36  # UITVAL, VOLGENS_PLAN, GEEN_NIEUWE_START
    assert dt.datetime.fromisoformat(info["built_at"]).tzinfo is not None
    assert summary["submissions"] == info["submissions"]
    assert summary["checks"] and all(check["success"] for check in summary["checks"])
    assert not build.next_warehouse_path(paths).exists()
    assert not build.wal_path(paths.published_warehouse).exists()


def test_dbt_build_ran_the_data_tests_and_unit_tests(built):
    paths, _ = built
    results = json.loads((paths.build / "dbt" / "target" / "run_results.json").read_text())["results"]
    by_kind: dict[str, set[str]] = {}
    for result in results:
        by_kind.setdefault(result["unique_id"].split(".")[0], set()).add(result["status"])
    assert by_kind["unit_test"] == {"pass"}
    assert by_kind["test"] <= {"pass", "warn"} and "pass" in by_kind["test"]
    assert by_kind["model"] == {"success"} and by_kind["seed"] == {"success"}
    unit_tests = {r["unique_id"].rsplit(".", 1)[1] for r in results if r["unique_id"].startswith("unit_test.")}
    assert "int_trajectories__ended_reason_20_is_not_an_end_and_latest_stop_decides" in unit_tests
    assert "fct_indicator_star_rolls_up_providers_categories_and_half_years" in unit_tests


def test_empty_raw_zone_builds_and_publishes_empty_marts(tmp_path, monkeypatch):
    monkeypatch.setenv("OUTCOME_MONITOR_HOME", str(tmp_path))
    paths = Paths(tmp_path)  # no submissions at all: run_dbt writes the _schema files itself
    summary = build.build_and_publish(paths, as_of_date=AS_OF)
    assert summary["submissions"] == []
    assert summary["row_counts"]["fct_indicator"] == 0
    assert set(summary["row_counts"].values()) == {0, 1}  # only rpt_build_info has its one row
    with duckdb.connect(str(paths.published_warehouse), read_only=True) as con:
        assert con.execute("select count(*) from rpt_raad__gedeclareerd").fetchone() == (0,)
        assert con.execute("select as_of_date from rpt_build_info").fetchone() == (dt.date(2026, 1, 15),)


def _publish_old(built, home: Path) -> Paths:
    """A home whose published warehouse is a copy of the module's: the 'old' published state."""
    source, _ = built
    paths = Paths(home)
    paths.published.mkdir(parents=True)
    shutil.copyfile(source.published_warehouse, paths.published_warehouse)
    shutil.copyfile(source.published / "build.json", paths.published / "build.json")
    return paths


def _modified_copy(built, target: Path, *statements: str) -> Path:
    source, _ = built
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source.published_warehouse, target)
    with duckdb.connect(str(target)) as con:
        for statement in statements:
            con.execute(statement)
    return target


def test_failing_mart_check_publishes_nothing(built, tmp_path, monkeypatch):
    paths = _publish_old(built, tmp_path)
    before = sha256(paths.published_warehouse), sha256(paths.published / "build.json")
    # A build whose dbt run "succeeded" but whose mart breaks an expectation: a ratio above 1.
    bad = _modified_copy(
        built, build.next_warehouse_path(paths),
        "update fct_indicator set numerator = 7, value = 1.75 "
        "where indicator_code = 'UITVAL' and period = '2025'",
    )  # fmt: skip
    monkeypatch.setattr(build, "run_dbt", lambda paths, as_of_date=None: bad)
    with pytest.raises(build.BuildError) as failure:
        build.build_and_publish(paths)
    assert "MART_IND_WAARDE" in str(failure.value)
    assert "MART_IND_TELLER_NOEMER" in str(failure.value)
    assert (sha256(paths.published_warehouse), sha256(paths.published / "build.json")) == before


def test_failing_dbt_test_names_the_node_and_publishes_nothing(built, tmp_path, monkeypatch):
    monkeypatch.setenv("OUTCOME_MONITOR_HOME", str(tmp_path))
    paths = _publish_old(built, tmp_path)
    before = sha256(paths.published_warehouse)
    line = _line("R1", "D", 100, 1)
    # The same line number twice in one message: fct_declaration_line's key is no longer unique.
    write_raw_zone(tmp_path, {"declaratie_regel": [{**line, "line_number": 1}, {**line, "line_number": 1}]})
    with pytest.raises(build.BuildError) as failure:
        build.build_and_publish(paths, as_of_date=AS_OF)
    assert "unique_fct_declaration_line_declaration_line_id" in str(failure.value)
    assert sha256(paths.published_warehouse) == before


def test_publish_while_a_reader_holds_the_old_file(built, tmp_path):
    paths = _publish_old(built, tmp_path)
    new = _modified_copy(built, build.next_warehouse_path(paths), "delete from rpt_raad__gedeclareerd")
    reader = duckdb.connect(str(paths.published_warehouse), read_only=True)
    try:
        assert reader.execute("select count(*) from rpt_raad__gedeclareerd").fetchone() == (3,)
        assert build.publish(new, paths) == paths.published_warehouse
        # The open reader keeps reading the file it opened ...
        assert reader.execute("select count(*) from rpt_raad__gedeclareerd").fetchone() == (3,)
    finally:
        reader.close()
    # ... and a new connection sees the published build.
    with duckdb.connect(str(paths.published_warehouse), read_only=True) as reopened:
        assert reopened.execute("select count(*) from rpt_raad__gedeclareerd").fetchone() == (0,)
    info = json.loads((paths.published / "build.json").read_text(encoding="utf-8"))
    assert info["row_counts"]["rpt_raad__gedeclareerd"] == 0
    assert not new.exists()
