"""Snapshots: which tables, content-hash ids, byte-stable Parquet, verification, read-only files."""

from __future__ import annotations

import hashlib
import json
import os
import stat

import duckdb
import pytest
from fixtures_year_end import RECONCILIATIE, write_warehouse

from outcome_monitor.year_end.layout import YearEndError, YearEndLayout
from outcome_monitor.year_end.snapshot import (
    load_snapshot,
    require_intact,
    snapshot_id_for,
    verify_snapshot,
    write_snapshot,
)
from outcome_monitor.year_end.tables import year_tables

YEAR_TABLES = ["rpt_controller__bevindingen", "rpt_controller__reconciliatie", "rpt_controller__tolerantietoets"]


def snapshot_of(db_path, layout, year=2025):
    with duckdb.connect(str(db_path), read_only=True) as con:
        return write_snapshot(
            con,
            layout,
            year,
            created_at="2026-04-01T10:00:00+00:00",
            created_by="controller",
            submissions=[{"submission_id": "sub-1", "sha256": "ab" * 32}],
            code_version={"package_version": "0.1.0"},
        )


def test_year_tables_are_discovered_by_prefix_and_column(tmp_path):
    db_path = write_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(db_path)) as con:
        assert year_tables(con) == YEAR_TABLES
        # The overlay's own tables never become part of a snapshot; a look-alike prefix does not match.
        con.execute("create table rpt_controller__jaarstatus (verslagjaar integer)")
        con.execute("create table rpt_controllerX_x (verslagjaar integer)")
        assert year_tables(con) == YEAR_TABLES


def test_snapshot_holds_exactly_the_years_rows_and_verifies(tmp_path):
    db_path = write_warehouse(tmp_path / "w.duckdb")
    layout = YearEndLayout(tmp_path / "year_end")
    snapshot = snapshot_of(db_path, layout)

    assert snapshot.folder == layout.snapshots / "2025" / snapshot.snapshot_id
    assert sorted(p.name for p in snapshot.folder.iterdir()) == sorted(
        [f"{t}.parquet" for t in YEAR_TABLES] + ["snapshot.json"]
    )
    expected = sorted(row for row in RECONCILIATIE if row[0] == 2025)
    with duckdb.connect() as con:
        frozen = con.execute(
            "select verslagjaar, aanbieder_agb, gemeente_code, productcode, toegewezen_bedrag_cents, "
            "gedeclareerd_bedrag_cents, geaccepteerd_bedrag_cents, afgewezen_bedrag_cents "
            f"from read_parquet('{snapshot.parquet('rpt_controller__reconciliatie')}')"
        ).fetchall()
    assert frozen == expected
    document = json.loads((snapshot.folder / "snapshot.json").read_text())
    assert document["verslagjaar"] == 2025 and document["created_by"] == "controller"
    assert document["submissions"] == [{"submission_id": "sub-1", "sha256": "ab" * 32}]
    assert {t: i["rows"] for t, i in document["tables"].items()} == {
        "rpt_controller__bevindingen": 1,
        "rpt_controller__reconciliatie": 3,
        "rpt_controller__tolerantietoets": 1,
    }
    for table, info in document["tables"].items():
        assert hashlib.sha256((snapshot.folder / info["file"]).read_bytes()).hexdigest() == info["sha256"], table
    assert snapshot.snapshot_id == snapshot_id_for({t: i["sha256"] for t, i in document["tables"].items()})
    assert verify_snapshot(load_snapshot(layout, 2025, snapshot.snapshot_id)) == []
    assert not any(p.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) for p in snapshot.folder.iterdir())
    assert not snapshot.folder.stat().st_mode & stat.S_IWUSR
    assert not list((layout.snapshots / "2025").glob(".staging-*"))


def test_same_figures_same_id_changed_figures_new_id(tmp_path):
    layout = YearEndLayout(tmp_path / "year_end")
    first = snapshot_of(write_warehouse(tmp_path / "a.duckdb"), layout)
    again = snapshot_of(write_warehouse(tmp_path / "b.duckdb"), layout)
    assert again.snapshot_id == first.snapshot_id  # a rebuild of the same data writes the same bytes
    changed = [*RECONCILIATIE[:-1], (*RECONCILIATIE[-1][:5], 280_001, 280_001, 0)]
    other = snapshot_of(write_warehouse(tmp_path / "c.duckdb", changed), layout)
    assert other.snapshot_id != first.snapshot_id
    assert sorted(p.name for p in (layout.snapshots / "2025").iterdir()) == sorted(
        [first.snapshot_id, other.snapshot_id]
    )
    # Other years' figures do not enter 2025's snapshot.
    changed_2024 = [(2024, *RECONCILIATIE[0][1:5], 1, 1, 0), *RECONCILIATIE[1:]]
    assert snapshot_of(write_warehouse(tmp_path / "d.duckdb", changed_2024), layout).snapshot_id == first.snapshot_id


def test_a_changed_file_is_reported_with_its_path(tmp_path):
    layout = YearEndLayout(tmp_path / "year_end")
    snapshot = snapshot_of(write_warehouse(tmp_path / "w.duckdb"), layout)
    target = snapshot.parquet("rpt_controller__tolerantietoets")
    os.chmod(snapshot.folder, 0o755)
    os.chmod(target, 0o644)
    target.write_bytes(target.read_bytes()[:-1] + b"X")
    (snapshot.folder / "extra.csv").write_text("x")

    problems = verify_snapshot(load_snapshot(layout, 2025, snapshot.snapshot_id))
    assert any(str(target) in p and "SHA-256" in p for p in problems)
    assert any("extra.csv" in p and "hoort niet bij de snapshot" in p for p in problems)
    with pytest.raises(YearEndError, match=f"snapshot {snapshot.snapshot_id} van 2025 is aangetast"):
        require_intact(load_snapshot(layout, 2025, snapshot.snapshot_id))


def test_a_missing_snapshot_is_named(tmp_path):
    with pytest.raises(YearEndError, match="snapshot 0123456789abcdef van 2025 ontbreekt"):
        load_snapshot(YearEndLayout(tmp_path), 2025, "0123456789abcdef")
