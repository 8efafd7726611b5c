"""The pipeline benchmark end to end at a tiny scale: real generator, ingest, dbt, checks, publish, DuckDB.

`make bench` runs the same runner at region, large or national scale; this test proves that one run
writes every figure into results.json, and that the parts it was asked to skip say so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from outcome_monitor.bench.scale_data import fresh_bsns, passes_elfproef, plan_for

REPO = Path(__file__).resolve().parents[2]
STAGES = ("archive", "parse", "validate", "pseudonymise", "sort", "write", "overig", "dbt", "checks", "publish")


def test_fresh_bsns_are_distinct_and_pass_the_elfproef() -> None:
    numbers = fresh_bsns(0, 50_000)
    assert len(set(numbers.tolist())) == 50_000
    assert all(passes_elfproef(f"{n:09d}") for n in numbers.tolist())


def test_a_fraction_of_national_always_tiles_at_least_twice() -> None:
    plan = plan_for("0.0001")
    assert plan.tiles == 2
    assert plan.base_scale * plan.tiles * 19_350 == pytest.approx(1_500, rel=0.01)
    with pytest.raises(ValueError, match="BENCH_SCALE 'heel groot'"):
        plan_for("heel groot")


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("bench")
    out = work / "results.json"
    env = {**os.environ, "OUTCOME_MONITOR_PSEUDONYM_KEY": "test-sleutel", "TMPDIR": str(work)}
    result = subprocess.run(
        [sys.executable, "-m", "outcome_monitor.bench.pipeline", "--scale", "0.0001", "--file-period", "year",
         "--data-root", str(work / "data"), "--out", str(out), "--skip-latency", "--keep-home",
         "--note", "test"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    return {"results": json.loads(out.read_text(encoding="utf-8")), "stdout": result.stdout, "work": work}


def test_results_hold_every_figure_of_what_was_run(bench_run: dict) -> None:
    results = bench_run["results"]
    full = results["full_rebuild"]
    for stage in STAGES:
        assert full["stages"][stage]["seconds"] >= 0, stage
    for stage in ("parse", "validate", "write", "dbt", "checks", "publish"):
        assert full["stages"][stage]["seconds"] > 0, stage
        assert full["stages"][stage]["peak_mb"] > 50, stage  # a Python process with pyarrow loaded
    assert full["seconds"] == pytest.approx(
        sum(figures["seconds"] for figures in full["stages"].values()), abs=0.1 * len(STAGES)
    )
    assert results["bare_duckdb"]["seconds"] > 0 and results["bare_duckdb"]["peak_mb"] > 0
    assert results["ratio_pipeline_to_bare"] == pytest.approx(full["seconds"] / results["bare_duckdb"]["seconds"], 0.1)
    machine = results["machine"]
    assert machine["cpus"] >= 1 and machine["memory_total_mb"] > 0 and len(machine["load_average_at_start"]) == 3
    assert "pijplijn ÷ kale DuckDB" in bench_run["stdout"]


def test_skipped_parts_say_so(bench_run: dict) -> None:
    for part in ("event_latency", "chart_queries"):
        assert bench_run["results"][part]["status"] == "overgeslagen"
        assert "--skip-latency" in bench_run["results"][part]["reason"]
        assert not any(key.startswith(("p50", "p95")) for key in bench_run["results"][part])


def test_pipeline_and_bare_duckdb_read_the_same_lines(bench_run: dict) -> None:
    results = bench_run["results"]
    lines = results["data"]["declaration_lines"]
    assert lines > 0
    assert results["bare_duckdb"]["rows"]["declaratie"] == lines
    assert results["details"]["ingest"]["rows_by_record_type"]["declaratie_regel"] == lines
    assert results["details"]["ingest"]["files"] == results["data"]["files"]


def test_copies_keep_the_relations_so_the_published_figures_scale(bench_run: dict) -> None:
    """Tile 1 is tile 0 with other identities: its gemeenten declare as much as the base's."""
    home = Path(bench_run["results"]["home"])
    with duckdb.connect(str(home / "published" / "warehouse.duckdb"), read_only=True) as con:
        per_tile = dict(
            con.execute(
                "select aanbieder_agb like '7%' as copy, sum(bedrag_cents) from fct_declared_amount_monthly group by 1"
            ).fetchall()
        )
        accepted = dict(
            con.execute(
                "select aanbieder_agb like '7%', count(*) filter (where status = 'geaccepteerd') * 1.0 / count(*)"
                " from fct_declaration_line group by 1"
            ).fetchall()
        )
    assert per_tile[True] == pytest.approx(per_tile[False], rel=0.02)
    assert accepted[True] == pytest.approx(accepted[False], abs=0.02)
    assert accepted[True] > 0.8


def test_a_resumed_run_keeps_the_stages_measured_before(bench_run: dict) -> None:
    """A national run takes hours: a second run in the same home with --resume measures nothing again."""
    first = bench_run["results"]
    work, out = bench_run["work"], bench_run["work"] / "resumed.json"
    env = {**os.environ, "OUTCOME_MONITOR_PSEUDONYM_KEY": "test-sleutel", "TMPDIR": str(work)}
    result = subprocess.run(
        [sys.executable, "-m", "outcome_monitor.bench.pipeline", "--scale", "0.0001", "--file-period", "year",
         "--data-root", str(work / "data"), "--out", str(out), "--skip-latency", "--home", first["home"],
         "--resume"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.count("hervat") == 5  # ingest, dbt, checks, publish, bare
    resumed = json.loads(out.read_text(encoding="utf-8"))
    assert resumed["full_rebuild"] == first["full_rebuild"]
    assert resumed["details"] == first["details"]
