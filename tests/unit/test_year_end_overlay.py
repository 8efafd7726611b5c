"""Closing a year on a built warehouse, and the overlay every later build gets (hand-made warehouse)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from fixtures_raw import complete_row, write_submission
from fixtures_year_end import AGB_A, AGB_B, GEMEENTE, RECONCILIATIE, rows, write_warehouse

from outcome_monitor.config import Paths
from outcome_monitor.year_end.audit import append_entry, read_entries, state_of
from outcome_monitor.year_end.close import close_year, freeze_year, reopen_year
from outcome_monitor.year_end.layout import YearEndError, YearEndLayout
from outcome_monitor.year_end.overlay import CHANGES_COLUMNS, STATUS_COLUMNS, apply_closed_years
from outcome_monitor.year_end.provenance import submissions_manifest

RECON = "rpt_controller__reconciliatie"
STATUS = "rpt_controller__jaarstatus"
CHANGES = "rpt_controller__wijzigingen_na_afsluiting"
# A late submission: AGB_B declares 2025 care once more; it is counted in the next build's reconciliation.
LATE_RECONCILIATIE = [*RECONCILIATIE[:3], (2025, AGB_B, GEMEENTE, "02A01", 300_000, 310_000, 310_000, 0)]


@pytest.fixture
def paths(tmp_path) -> Paths:
    return Paths(tmp_path / "home")


def closed_2025(paths: Paths, db_path) -> str:
    snapshot, entry = freeze_year(db_path, paths, 2025, who="controller", submissions=submissions_manifest(paths))
    append_entry(YearEndLayout.of(paths), entry)
    return snapshot.snapshot_id


def late_declaration(paths: Paths, submission_id: str, agb: str, productcode: str, month_start: dt.date) -> None:
    row = {
        "submission_id": submission_id,
        "aanbieder_agb": agb,
        "gemeente_code": GEMEENTE,
        "productcode": productcode,
        "period_start_date": month_start,
        "bedrag_cents": 10_000,
    }
    write_submission(paths, "declaratie_regel", submission_id, [complete_row("declaratie_regel", row, 1)])


def table_types(db_path, table) -> dict[str, str]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        found = con.execute(
            "select column_name, lower(data_type) from information_schema.columns where table_name = ? "
            "order by ordinal_position",
            [table],
        ).fetchall()
    return dict(found)


def all_rows(db_path, table) -> list[tuple]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(f"select * from {table} order by all").fetchall()


def test_without_a_closed_year_both_tables_exist_with_fixed_types(paths, tmp_path):
    db_path = write_warehouse(tmp_path / "w.duckdb")
    apply_closed_years(db_path, paths)
    assert table_types(db_path, STATUS) == STATUS_COLUMNS
    assert table_types(db_path, CHANGES) == CHANGES_COLUMNS
    assert all_rows(db_path, STATUS) == [(2024, "open", *[None] * 6), (2025, "open", *[None] * 6)]
    assert all_rows(db_path, CHANGES) == []
    assert rows(db_path, RECON, 2025) == rows(write_warehouse(tmp_path / "fresh.duckdb"), RECON, 2025)

    bare = tmp_path / "bare.duckdb"
    duckdb.connect(str(bare)).close()
    apply_closed_years(bare, paths)
    assert (all_rows(bare, STATUS), all_rows(bare, CHANGES)) == ([], [])
    assert table_types(bare, CHANGES) == CHANGES_COLUMNS


def test_after_the_close_a_rebuild_keeps_the_frozen_rows_and_lists_the_changes(paths, tmp_path):
    closing = write_warehouse(tmp_path / "closing.duckdb")
    apply_closed_years(closing, paths)  # what run_dbt does at the end of every build, the close's included
    frozen = {table: rows(closing, table, 2025) for table in (RECON, "rpt_controller__bevindingen")}
    snapshot_id = closed_2025(paths, closing)
    assert all_rows(closing, STATUS)[1][:3] == (2025, "afgesloten", snapshot_id)

    # Next build: a late submission for 2025 (sub-3) and one for 2026 (sub-4) changed the live figures.
    late_declaration(paths, "sub-3", AGB_B, "02A01", dt.date(2025, 12, 1))
    late_declaration(paths, "sub-4", AGB_A, "45A01", dt.date(2026, 1, 1))
    rebuilt = write_warehouse(tmp_path / "next.duckdb", LATE_RECONCILIATIE, submissions=("sub-1", "sub-3", "sub-4"))
    live_2024 = rows(rebuilt, RECON, 2024)
    apply_closed_years(rebuilt, paths)

    assert rows(rebuilt, RECON, 2025) == frozen[RECON]
    assert rows(rebuilt, "rpt_controller__bevindingen", 2025) == frozen["rpt_controller__bevindingen"]
    assert rows(rebuilt, RECON, 2024) == live_2024
    changes = all_rows(rebuilt, CHANGES)
    assert changes == [
        (2025, snapshot_id, AGB_B, GEMEENTE, "02A01", "geaccepteerd_bedrag_cents", 280_000, 310_000, 30_000, ["sub-3"]),
        (2025, snapshot_id, AGB_B, GEMEENTE, "02A01", "gedeclareerd_bedrag_cents", 280_000, 310_000, 30_000, ["sub-3"]),
    ]
    (status_2025,) = [row for row in all_rows(rebuilt, STATUS) if row[0] == 2025]
    assert status_2025[:3] == (2025, "afgesloten", snapshot_id) and status_2025[4] == "controller"

    # A second application (close after a build that already overlaid) changes nothing.
    apply_closed_years(rebuilt, paths)
    assert all_rows(rebuilt, CHANGES) == changes
    assert rows(rebuilt, RECON, 2025) == frozen[RECON]


def test_a_line_gone_since_the_close_and_a_difference_without_a_late_submission(paths, tmp_path):
    snapshot_id = closed_2025(paths, write_warehouse(tmp_path / "closing.duckdb"))
    # A model change (no new submission) dropped one line and moved another's amount.
    changed = [RECONCILIATIE[0], RECONCILIATIE[1], (2025, AGB_A, GEMEENTE, "45A02", None, 120_500, 120_000, 500)]
    rebuilt = write_warehouse(tmp_path / "next.duckdb", changed)
    apply_closed_years(rebuilt, paths)
    assert all_rows(rebuilt, CHANGES) == [
        (2025, snapshot_id, AGB_A, GEMEENTE, "45A02", "afgewezen_bedrag_cents", 0, 500, 500, []),
        (2025, snapshot_id, AGB_A, GEMEENTE, "45A02", "gedeclareerd_bedrag_cents", 120_000, 120_500, 500, []),
        (2025, snapshot_id, AGB_B, GEMEENTE, "02A01", "afgewezen_bedrag_cents", 0, None, 0, []),
        (2025, snapshot_id, AGB_B, GEMEENTE, "02A01", "geaccepteerd_bedrag_cents", 280_000, None, -280_000, []),
        (2025, snapshot_id, AGB_B, GEMEENTE, "02A01", "gedeclareerd_bedrag_cents", 280_000, None, -280_000, []),
        (2025, snapshot_id, AGB_B, GEMEENTE, "02A01", "toegewezen_bedrag_cents", 300_000, None, -300_000, []),
    ]


def test_reopen_needs_a_reason_and_then_the_live_figures_return(paths, tmp_path):
    closed_2025(paths, write_warehouse(tmp_path / "closing.duckdb"))
    for reason in ("", "   ", None):
        with pytest.raises(YearEndError, match=r'Heropenen van 2025 vraagt een reden: .*--reason "\.\.\."'):
            reopen_year(paths, 2025, reason=reason, who="controller", rebuild=False)
    assert state_of(YearEndLayout.of(paths), 2025).closed

    reopen_year(paths, 2025, reason="Late correctie aanbieder", who="teamleider", rebuild=False)
    rebuilt = write_warehouse(tmp_path / "next.duckdb", LATE_RECONCILIATIE)
    live = rows(rebuilt, RECON, 2025)
    apply_closed_years(rebuilt, paths)
    assert rows(rebuilt, RECON, 2025) == live != rows(tmp_path / "closing.duckdb", RECON, 2025)
    (status_2025,) = [row for row in all_rows(rebuilt, STATUS) if row[0] == 2025]
    assert status_2025[:5] == (2025, "open", None, None, None)
    assert status_2025[6:] == ("teamleider", "Late correctie aanbieder")
    assert isinstance(status_2025[5], dt.datetime)
    assert all_rows(rebuilt, CHANGES) == []

    with pytest.raises(YearEndError, match="Verslagjaar 2025 is niet afgesloten: er valt niets te heropenen"):
        reopen_year(paths, 2025, reason="nogmaals", rebuild=False)
    assert [e.action for e in read_entries(YearEndLayout.of(paths))] == ["close", "reopen"]


def test_closing_a_closed_year_is_refused_before_any_build(paths, tmp_path):
    snapshot_id = closed_2025(paths, write_warehouse(tmp_path / "closing.duckdb"))
    # close_year would run dbt next; the refusal comes first (this home has no raw zone to build).
    with pytest.raises(
        YearEndError, match=f"Verslagjaar 2025 is al afgesloten \\(snapshot {snapshot_id}, .*reopen-year"
    ):
        close_year(paths, 2025, who="controller")
    assert len(read_entries(YearEndLayout.of(paths))) == 1


def test_a_year_without_data_or_a_warehouse_without_controller_tables_is_refused(paths, tmp_path):
    with pytest.raises(YearEndError, match="Verslagjaar 2023 heeft geen gegevens in rpt_controller__bevindingen"):
        freeze_year(write_warehouse(tmp_path / "w.duckdb"), paths, 2023, who="c", submissions=[])
    bare = tmp_path / "bare.duckdb"
    duckdb.connect(str(bare)).close()
    with pytest.raises(YearEndError, match="geen rpt_controller__-tabellen met een kolom verslagjaar"):
        freeze_year(bare, paths, 2025, who="c", submissions=[])
    assert not YearEndLayout.of(paths).audit_log.exists()


def test_a_tampered_snapshot_stops_the_overlay(paths, tmp_path):
    closed_2025(paths, write_warehouse(tmp_path / "closing.duckdb"))
    (snapshot_dir,) = (YearEndLayout.of(paths).snapshots / "2025").iterdir()
    snapshot_dir.chmod(0o755)
    target = snapshot_dir / f"{RECON}.parquet"
    target.chmod(0o644)
    target.write_bytes(target.read_bytes() + b"\0")
    with pytest.raises(YearEndError, match=f"{target}: SHA-256"):
        apply_closed_years(write_warehouse(tmp_path / "next.duckdb"), paths)


def test_a_model_changed_after_the_close_keeps_the_frozen_figures(paths, tmp_path):
    closing = write_warehouse(tmp_path / "closing.duckdb")
    frozen = {table: rows(closing, table, 2025) for table in (RECON, "rpt_controller__bevindingen")}
    closed_2025(paths, closing)
    rebuilt = write_warehouse(tmp_path / "next.duckdb")
    with duckdb.connect(str(rebuilt)) as con:
        con.execute(f"alter table {RECON} drop column oorzaak")
        con.execute(f"alter table {RECON} add column nieuwe_kolom varchar")
        con.execute(f"update {RECON} set nieuwe_kolom = 'live'")
        con.execute("drop table rpt_controller__bevindingen")
        con.execute("create table rpt_controller__nieuw as select 2025 as verslagjaar, 1 as n union all select 2024, 2")
    apply_closed_years(rebuilt, paths)

    frozen_columns = ", ".join(table_types(closing, RECON))
    with duckdb.connect(str(rebuilt), read_only=True) as con:
        query = f"select {frozen_columns} from {RECON} where verslagjaar = 2025 order by all"
        assert con.execute(query).fetchall() == frozen[RECON]
        assert con.execute(f"select distinct nieuwe_kolom from {RECON} where verslagjaar = 2025").fetchall() == [
            (None,)
        ]
    # A table dropped since the close keeps its frozen rows; one made since has none for the closed year.
    assert rows(rebuilt, "rpt_controller__bevindingen", 2025) == frozen["rpt_controller__bevindingen"]
    assert all_rows(rebuilt, "rpt_controller__nieuw") == [(2024, 2)]


def test_a_build_made_before_a_close_is_published_with_the_year_closed(paths, tmp_path):
    # A transform run built while the year was open; a controller closed the year before it published.
    from outcome_monitor.build import publish

    built = write_warehouse(paths.build / "warehouse.next.duckdb", LATE_RECONCILIATIE)
    with duckdb.connect(str(built)) as con:  # what publish records in build.json
        con.execute("create table rpt_build_info as select date '2026-03-01' as as_of_date, 'i' as dbt_invocation_id")
    apply_closed_years(built, paths)
    closing = write_warehouse(tmp_path / "closing.duckdb")
    apply_closed_years(closing, paths)
    frozen = rows(closing, RECON, 2025)
    snapshot_id = closed_2025(paths, closing)

    published = publish(built, paths)

    (status_2025,) = [row for row in all_rows(published, STATUS) if row[0] == 2025]
    assert status_2025[:3] == (2025, "afgesloten", snapshot_id)
    assert rows(published, RECON, 2025) == frozen
    assert [row[5:8] for row in all_rows(published, CHANGES)] == [
        ("geaccepteerd_bedrag_cents", 280_000, 310_000),
        ("gedeclareerd_bedrag_cents", 280_000, 310_000),
    ]


def test_the_year_end_lock_nests_in_one_process_and_excludes_others(paths):
    import subprocess
    import sys
    import threading

    layout = YearEndLayout.of(paths)
    probe = (
        "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR)\n"
        "try: fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "except BlockingIOError: sys.exit(3)\n"
    )
    outcome = {}

    def nested() -> None:
        with layout.lock(), layout.lock():  # a close that publishes takes it twice
            outcome["other process"] = subprocess.run(
                [sys.executable, "-c", probe, str(layout.root / ".lock")]
            ).returncode
        outcome["after"] = subprocess.run([sys.executable, "-c", probe, str(layout.root / ".lock")]).returncode

    worker = threading.Thread(target=nested, daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "the nested lock waited for itself"
    assert outcome == {"other process": 3, "after": 0}
