"""The small helpers of outcome_monitor.build, the raw-zone test fixture and the committed seeds.

Fast: no dbt run and no Great Expectations (tests/integration/test_dbt_build.py does those).
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pyarrow.parquet as pq
import pytest
from fixtures_raw import write_raw_zone

from outcome_monitor import build
from outcome_monitor.config import Paths
from outcome_monitor.raw_schema import SCHEMAS

REPO = Path(__file__).resolve().parents[2]


# --- arguments and names -----------------------------------------------------------------------


def test_dbt_state_goes_under_build_not_into_the_repository(tmp_path):
    paths = Paths(tmp_path)
    args = build.dbt_build_args(paths)
    assert args[0] == "build"
    assert args[args.index("--target-path") + 1] == str(tmp_path / "build" / "dbt" / "target")
    assert args[args.index("--log-path") + 1] == str(tmp_path / "build" / "dbt" / "logs")
    assert args[args.index("--project-dir") + 1] == str(build.DBT_PROJECT_DIR)
    assert "--no-send-anonymous-usage-stats" in args
    assert "--vars" not in args  # dbt then takes the current date


def test_as_of_date_is_passed_to_dbt_as_an_iso_date(tmp_path):
    args = build.dbt_build_args(Paths(tmp_path), dt.date(2026, 1, 15))
    assert json.loads(args[args.index("--vars") + 1]) == {"as_of_date": "2026-01-15"}


def test_event_rebuilds_can_leave_out_the_unit_tests_ci_runs(tmp_path):
    assert "--exclude-resource-type" not in build.dbt_build_args(Paths(tmp_path))
    args = build.dbt_build_args(Paths(tmp_path), unit_tests=False)
    assert args[args.index("--exclude-resource-type") + 1] == "unit_test"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, None),
        ("2026-01-15", "2026-01-15"),
        (dt.date(2026, 1, 15), "2026-01-15"),
        (dt.datetime(2026, 1, 15, 23, 59), "2026-01-15"),
    ],
)
def test_as_of_date_accepts_dates_and_iso_strings(given, expected):
    assert build.normalise_as_of_date(given) == expected


@pytest.mark.parametrize("given", ["15-01-2026", "2026-13-01", "gisteren"])
def test_as_of_date_that_is_not_a_date_is_refused(given):
    with pytest.raises(build.BuildError, match="geen datum"):
        build.normalise_as_of_date(given)


def test_build_goes_to_a_next_file_beside_its_wal(tmp_path):
    paths = Paths(tmp_path)
    assert build.next_warehouse_path(paths) == tmp_path / "build" / "warehouse.next.duckdb"
    assert build.wal_path(paths.published_warehouse) == tmp_path / "published" / "warehouse.duckdb.wal"


def test_mart_suites_map_to_their_tables(tmp_path):
    for name in ("mart_fct_indicator.json", "mart_fct_declaration_line.json", "declaratie.json"):
        (tmp_path / name).write_text("{}")
    assert build.mart_suites(tmp_path) == {
        "mart_fct_declaration_line": "fct_declaration_line",
        "mart_fct_indicator": "fct_indicator",
    }


def test_the_repository_has_a_mart_suite_for_each_published_fact():
    suites = build.mart_suites(REPO / "expectations")
    assert {"fct_indicator", "fct_declaration_line"} <= set(suites.values())
    for name in suites:
        suite = json.loads((REPO / "expectations" / f"{name}.json").read_text(encoding="utf-8"))
        assert suite["name"] == name
        for expectation in suite["expectations"]:
            assert expectation["meta"]["code"] and expectation["meta"]["message"]
            assert expectation["meta"]["severity"] in ("afwijzing", "signalering")


def test_dbt_failures_name_failing_nodes_and_skip_the_rest():
    def result(unique_id, status, message):
        return SimpleNamespace(node=SimpleNamespace(unique_id=unique_id), status=status, message=message)

    results = [
        result("model.outcome_monitor.fct_indicator", "success", "OK"),
        result("test.outcome_monitor.unique_x", SimpleNamespace(value="fail"), "Got 2 results,\n configured"),
        result("model.outcome_monitor.rpt_x", "skipped", None),
        result("model.outcome_monitor.fct_y", "error", "Binder Error: column z"),
        result("test.outcome_monitor.stg_check", "warn", "Got 1 result"),
    ]
    assert build.dbt_failures(results) == [
        "test.outcome_monitor.unique_x: Got 2 results, configured",
        "model.outcome_monitor.fct_y: Binder Error: column z",
    ]
    assert build.dbt_failures(results, statuses=("warn",)) == ["test.outcome_monitor.stg_check: Got 1 result"]


def test_environment_is_restored_after_the_dbt_run(monkeypatch):
    monkeypatch.setenv("OUTCOME_MONITOR_HOME", "/before")
    monkeypatch.delenv("OUTCOME_MONITOR_BUILD_DB", raising=False)
    with build._environ({"OUTCOME_MONITOR_HOME": "/during", "OUTCOME_MONITOR_BUILD_DB": "/x.duckdb"}):
        assert os.environ["OUTCOME_MONITOR_HOME"] == "/during"
    assert os.environ["OUTCOME_MONITOR_HOME"] == "/before"
    assert "OUTCOME_MONITOR_BUILD_DB" not in os.environ


def test_importing_build_loads_neither_dbt_nor_great_expectations():
    code = (
        "import sys, outcome_monitor.build; "
        "print(sorted(m for m in ('dbt', 'great_expectations', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- publish -----------------------------------------------------------------------------------


def _tiny_warehouse(path: Path, rows: int) -> Path:
    """A DuckDB file with the tables publish reads, and `rows` declaration lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create table fct_submission as select 'S1' as submission_id, 'declaratie_regel' as record_type")
        con.execute(
            "create table rpt_build_info as select date '2026-01-15' as as_of_date, 'inv-1' as dbt_invocation_id"
        )
        con.execute(f"create table fct_declaration_line as select range as line_number from range({rows})")
        con.execute("create table gemeenten as select '0363' as gemeente_code")  # a seed: not counted
    return path


def test_publish_replaces_the_published_file_and_records_the_build(tmp_path):
    paths = Paths(tmp_path)
    _tiny_warehouse(paths.published_warehouse, rows=1)
    new = _tiny_warehouse(build.next_warehouse_path(paths), rows=3)
    assert build.publish(new, paths) == paths.published_warehouse
    assert not new.exists()
    with duckdb.connect(str(paths.published_warehouse), read_only=True) as con:
        assert con.execute("select count(*) from fct_declaration_line").fetchone() == (3,)
    info = json.loads((paths.published / "build.json").read_text(encoding="utf-8"))
    # The year-end status tables come with every published warehouse (no year closed here: empty).
    assert info["row_counts"] == {
        "fct_declaration_line": 3,
        "fct_submission": 1,
        "rpt_build_info": 1,
        "rpt_controller__jaarstatus": 0,
        "rpt_controller__wijzigingen_na_afsluiting": 0,
    }
    assert info["submissions"] == ["S1"]
    assert info["as_of_date"] == "2026-01-15"
    assert not list(paths.published.glob("*.tmp"))


def test_a_workspace_builds_beside_the_default_build(tmp_path):
    paths = Paths(tmp_path)
    assert build.next_warehouse_path(paths, "close") == tmp_path / "build" / "close" / "warehouse.next.duckdb"
    args = build.dbt_build_args(paths, workspace="close")
    assert args[args.index("--target-path") + 1] == str(tmp_path / "build" / "close" / "dbt" / "target")
    assert args[args.index("--log-path") + 1] == str(tmp_path / "build" / "close" / "dbt" / "logs")


def test_publish_refuses_a_database_with_a_wal_beside_it(tmp_path):
    paths = Paths(tmp_path)
    new = _tiny_warehouse(build.next_warehouse_path(paths), rows=1)
    build.wal_path(new).write_bytes(b"not checkpointed")
    with pytest.raises(build.BuildError, match=r"\.wal"):
        build.publish(new, paths)
    assert not paths.published_warehouse.exists()


def test_publish_refuses_a_missing_build(tmp_path):
    with pytest.raises(build.BuildError, match="bestaat niet"):
        build.publish(tmp_path / "nothing.duckdb", Paths(tmp_path))


# --- the raw-zone fixture ----------------------------------------------------------------------


def test_fixture_writes_accepted_and_rejected_files_with_the_contract_columns(tmp_path):
    paths = write_raw_zone(
        tmp_path,
        {
            "stop_zorg": [
                {"submission_id": "S1", "reden_beeindiging": "31"},
                {
                    "submission_id": "S1",
                    "reden_beeindiging": "32",
                    "status": "afgewezen",
                    "finding_codes": ["9338"],
                },
            ]
        },
    )
    folder = paths.raw_submission("S1") / "stop_zorg"
    accepted = pq.read_table(folder / "accepted.parquet")
    rejected = pq.read_table(folder / "rejected.parquet")
    assert accepted.schema.equals(SCHEMAS["stop_zorg"]) and rejected.schema.equals(SCHEMAS["stop_zorg"])
    assert accepted.column("line_number").to_pylist() == [1]
    assert accepted.column("finding_codes").to_pylist() == [[]]
    assert rejected.column("line_number").to_pylist() == [2]
    assert rejected.column("finding_codes").to_pylist() == [["9338"]]
    for record_type in SCHEMAS:
        assert paths.raw_schema_file(record_type).exists()


def test_fixture_refuses_a_column_the_contract_does_not_have(tmp_path):
    with pytest.raises(KeyError, match="bsn"):
        write_raw_zone(tmp_path, {"declaratie_regel": [{"bsn": "123456782"}]})


# --- seeds -------------------------------------------------------------------------------------


def test_gemeenten_seed_is_the_cbs_list_of_342_municipalities():
    script = REPO / "dbt_project" / "scripts" / "extract_gemeenten.py"
    spec = importlib.util.spec_from_file_location("extract_gemeenten", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    extracted = module.extract(module.SOURCE.read_text(encoding="utf-8"))
    with (REPO / "dbt_project" / "seeds" / "gemeenten.csv").open(encoding="utf-8", newline="") as handle:
        seeded = [tuple(row) for row in csv.reader(handle)][1:]
    assert seeded == [tuple(row) for row in extracted]
    assert len(seeded) == 342
    assert ("0363", "Amsterdam", "Noord-Holland", "Amsterdam-Amstelland") in seeded


def test_reden_beeindiging_seed_has_both_code_lists_and_only_20_is_not_an_end():
    with (REPO / "dbt_project" / "seeds" / "reden_beeindiging.csv").open(encoding="utf-8") as handle:
        reasons = list(csv.DictReader(handle))
    by_domain = {(row["domein"], row["reden_code"]): row for row in reasons}
    for code in ("31", "32", "33", "34"):
        assert ("jeugd", code) in by_domain
    for code in ("19", "21", "22", "23"):
        assert ("wmo", code) in by_domain
    assert {key for key, row in by_domain.items() if row["is_einde_traject"] == "false"} == {
        ("jeugd", "20"),
        ("wmo", "20"),
    }
