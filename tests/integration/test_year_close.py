"""The year close on a generated region: real ingest, real dbt builds, a real Airflow run of close_year.

One scenario, in order, because each step builds on the last: close 2025 (which puts the
auditor's package in the package store) -> a late 2025 submission arrives and the warehouse is
rebuilt -> the closed figures stay byte-identical and the change is listed -> the export_year DAG
(dag.test) makes a fresh package of the same snapshot that lists the change -> reopen (with a
reason) -> the close_year DAG (dag.test) closes again under a new snapshot id, with the live
figures and its own package, and the audit log holds all three steps.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
from references import REPO_ROOT

from outcome_monitor.config import Paths
from outcome_monitor.ingest import ingest_file
from outcome_monitor.raw_zone import committed_submissions
from outcome_monitor.year_end.audit import read_entries
from outcome_monitor.year_end.close import close_year, publish_with_overlay, reopen_year
from outcome_monitor.year_end.export import verify
from outcome_monitor.year_end.layout import YearEndError, YearEndLayout
from outcome_monitor.year_end.package_store import stored_packages
from outcome_monitor.year_end.snapshot import load_snapshot, verify_snapshot

pytestmark = pytest.mark.integration

LATE_FILE = "2025-H2_aanbieder-42100317.zip"


@pytest.fixture(scope="module")
def region(tmp_path_factory) -> Path:
    from outcome_monitor.generate import generate

    out = tmp_path_factory.mktemp("region")
    generate(out, seed=7, scale=0.1, start=date(2025, 1, 1), end=date(2025, 12, 31))
    return out / "submissions"


def frozen_columns(snapshot, table: str) -> str:
    """The snapshot's columns of `table`: a model may gain a column later (null in a closed year)."""
    return ", ".join(f'"{name}"' for name in snapshot.tables[table]["columns"])


def published_year_rows(paths: Paths, snapshot, table: str) -> list[tuple]:
    with duckdb.connect(str(paths.published_warehouse), read_only=True) as con:
        return con.execute(
            f"select {frozen_columns(snapshot, table)} from {table} where verslagjaar = ? order by all",
            [snapshot.year],
        ).fetchall()


def published_year_parquet_sha256(paths: Paths, snapshot, table: str, out: Path) -> str:
    """The published rows written exactly as a snapshot writes them: equal hashes, equal bytes of data."""
    query = f"select {frozen_columns(snapshot, table)} from {table} where verslagjaar = {snapshot.year} order by all"
    with duckdb.connect(str(paths.published_warehouse), read_only=True) as con:
        con.execute(f"copy ({query}) to '{out}' (format parquet)")
    return hashlib.sha256(out.read_bytes()).hexdigest()


def published(paths: Paths, sql: str) -> list[tuple]:
    with duckdb.connect(str(paths.published_warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def run_dag(paths: Paths, dag_id: str, conf: dict, airflow_home: Path) -> str:
    """Trigger a DAG through Airflow's own dag.test() in its own metadata database; its run state."""
    env = {
        **os.environ,
        "OUTCOME_MONITOR_HOME": str(paths.home),
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
    }
    if not (airflow_home / "airflow.db").exists():
        airflow_home.mkdir(parents=True, exist_ok=True)
        bin_dir = Path(sys.executable).parent
        subprocess.run([str(bin_dir / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True)
    script = (
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(REPO_ROOT / 'dags' / f'{dag_id}.py')!r})\n"
        "assert bag.import_errors == {}, bag.import_errors\n"
        f"run = bag.dags[{dag_id!r}].test(run_conf={conf!r})\n"
        "print('RUN_STATE', run.state)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    states = [line.split()[-1] for line in result.stdout.splitlines() if line.startswith("RUN_STATE")]
    assert states, result.stdout[-3000:] + result.stderr[-3000:]
    return states[0]


def test_close_late_submission_reopen_and_close_again(region, home, tmp_path):
    # Built with today's date as peildatum (as the DAG does): the 2025 declaration term has long ended.
    paths = Paths(home)
    layout = YearEndLayout.of(paths)
    for file in sorted(region.glob("*.zip")):
        if file.name != LATE_FILE:
            ingest_file(file, paths)
    on_time = committed_submissions(paths)

    # 1. Close 2025: built, frozen and published at once.
    started = time.perf_counter()
    closed = close_year(paths, 2025, who="controller")
    close_seconds = time.perf_counter() - started
    print(f"\nclose-year 2025: {close_seconds:.1f} s, {json.dumps(closed['durations_seconds'])}")
    first_id = closed["snapshot_id"]
    # The close builds in a workspace of its own, never in the transform's build/warehouse.next.duckdb.
    assert (paths.build / "close" / "dbt" / "target" / "run_results.json").exists()
    assert not (paths.build / "dbt" / "target" / "run_results.json").exists()
    snapshot = load_snapshot(layout, 2025, first_id)
    assert verify_snapshot(snapshot) == []
    assert {"rpt_controller__reconciliatie", "rpt_controller__bevindingen"} <= set(snapshot.tables)
    assert snapshot.tables["rpt_controller__reconciliatie"]["rows"] > 0
    # The manifest is every submission the build used, each with the hash of its archived file.
    assert sorted(snapshot.submission_ids) == on_time
    for entry in snapshot.document["submissions"]:
        archived = paths.archive / entry["archive_path"]
        assert hashlib.sha256(archived.read_bytes()).hexdigest() == entry["sha256"], entry["submission_id"]
    assert snapshot.document["code_version"]["dbt_project_sha256"]
    assert abs((date.fromisoformat(snapshot.document["build"]["as_of_date"]) - date.today()).days) <= 1
    assert published(paths, "select status, snapshot_id from rpt_controller__jaarstatus where verslagjaar = 2025") == [
        ("afgesloten", first_id)
    ]
    frozen_rows = {table: published_year_rows(paths, snapshot, table) for table in snapshot.tables}
    # The close put the auditor's package of that snapshot in the store, whole.
    (at_close,) = stored_packages(paths, 2025)
    assert at_close.ok and at_close.snapshot_id == first_id and at_close.label == "definitief"
    assert closed["pakket"]["pakket"] == at_close.name and verify(at_close.folder).ok

    with pytest.raises(YearEndError, match="Verslagjaar 2025 is al afgesloten"):
        close_year(paths, 2025, who="controller")

    # 2. A late submission for 2025 arrives and the warehouse is rebuilt: the closed figures do not move.
    late = ingest_file(region / LATE_FILE, paths)
    assert late["counts"]["accepted"] > 0
    publish_with_overlay(paths)
    assert verify_snapshot(load_snapshot(layout, 2025, first_id)) == []
    for table, info in snapshot.tables.items():
        assert published_year_rows(paths, snapshot, table) == frozen_rows[table], table
        assert published_year_parquet_sha256(paths, snapshot, table, tmp_path / f"{table}.parquet") == info["sha256"]
    changes = published(
        paths,
        "select aanbieder_agb, gemeente_code, productcode, kolom, actueel_cents, verschil_cents, submission_ids "
        f"from rpt_controller__wijzigingen_na_afsluiting where verslagjaar = 2025 and snapshot_id = '{first_id}'",
    )
    assert any(change[3] == "gedeclareerd_bedrag_cents" and change[5] != 0 for change in changes), changes
    assert {sid for *_, ids in changes for sid in ids} == {late["submission_id"]}

    # The controller refreshes the package through Airflow: same snapshot, now with the change listed.
    airflow_home = tmp_path / "airflow"
    assert run_dag(paths, "export_year", {"verslagjaar": 2025, "voorlopig": False}, airflow_home) == "success"
    refreshed, original = stored_packages(paths, 2025)
    assert original.name == at_close.name and original.ok, "the close's package stays as it was"
    assert refreshed.ok and refreshed.snapshot_id == first_id and refreshed.name != at_close.name
    sheets = {
        sheet["blad"]: sheet["regels"]
        for sheet in json.loads((refreshed.folder / "manifest.json").read_text())["bladen"]
    }
    assert sheets["Wijzigingen na afsluiting"] == len(changes) > 0

    # 3. Reopen: a reason is required, and it is recorded; the next build publishes the live figures.
    with pytest.raises(YearEndError, match="vraagt een reden"):
        reopen_year(paths, 2025, reason=" ", who="controller", rebuild=False)
    reopen_year(paths, 2025, reason="Late declaratie van 42100317 meenemen", who="controller", rebuild=False)

    # 4. The controller closes again through Airflow: a new snapshot, and the audit log shows both closes.
    reclose = {"verslagjaar": 2025, "reden": "na de late declaratie"}
    assert run_dag(paths, "close_year", reclose, airflow_home) == "success"
    entries = read_entries(layout)
    assert [(e.action, e.year) for e in entries] == [("close", 2025), ("reopen", 2025), ("close", 2025)]
    second_id = entries[-1].snapshot_id
    assert second_id != first_id and entries[0].snapshot_id == first_id
    assert entries[-1].who == "dag_test" and entries[-1].reason == "na de late declaratie"
    assert entries[-1].request_id.startswith("airflow:close_year:")
    second = load_snapshot(layout, 2025, second_id)
    assert verify_snapshot(second) == [] and verify_snapshot(load_snapshot(layout, 2025, first_id)) == []
    assert late["submission_id"] in second.submission_ids
    assert published(paths, "select status, snapshot_id from rpt_controller__jaarstatus where verslagjaar = 2025") == [
        ("afgesloten", second_id)
    ]
    newest = stored_packages(paths, 2025)[0]
    assert newest.ok and newest.snapshot_id == second_id and len(stored_packages(paths, 2025)) == 3
    # The figures closed now are the live ones the post-closing changes announced.
    with duckdb.connect(str(paths.published_warehouse), read_only=True) as con:
        for agb, gemeente, productcode, kolom, actueel, *_ in changes:
            (value,) = con.execute(
                f"select {kolom} from rpt_controller__reconciliatie where verslagjaar = 2025 "
                "and aanbieder_agb is not distinct from ? and gemeente_code is not distinct from ? "
                "and productcode is not distinct from ?",
                [agb, gemeente, productcode],
            ).fetchone() or (None,)
            assert value == actueel, (agb, gemeente, productcode, kolom)
