"""The two benchmarks that need running servers, on a small home: real Airflow, dbt, DuckDB and Superset.

A generated region is ingested and built without Airflow (as the e2e fixtures do); then the event
latency benchmark starts Airflow and Superset and drops monthly declarations, and the chart benchmark
starts Superset and times every chart of every dashboard. The figures must be real: each dropped
submission ends up in the published file and changes the figure Superset shows.
"""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest

from outcome_monitor.bench._servers import running_superset
from outcome_monitor.bench.charts import dashboards_in_repository, measure_chart_queries
from outcome_monitor.bench.latency import STAGES, measure_event_latency
from outcome_monitor.config import Paths
from outcome_monitor.stack import airflow, process

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def bench_home(tmp_path_factory):
    """A small region, ingested and published; the environment points at it for the whole module."""
    from outcome_monitor.build import build_and_publish
    from outcome_monitor.generate import generate
    from outcome_monitor.ingest import ingest_file

    region = tmp_path_factory.mktemp("region")
    generate(region, seed=7, scale=0.1, defect_rate=0.03, start=date(2025, 1, 1), end=date(2025, 12, 31))
    paths = Paths(tmp_path_factory.mktemp("home"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OUTCOME_MONITOR_HOME", str(paths.home))
        patch.setenv("OUTCOME_MONITOR_PSEUDONYM_KEY", "bench-test-key")
        for submission in sorted((region / "submissions").iterdir()):
            ingest_file(submission, paths)
        build_and_publish(paths)
        yield paths


@pytest.fixture(scope="module")
def superset_server(bench_home):
    """One Superset (set up, dashboards imported) for both benchmarks: its set-up is the slow part."""
    with running_superset(bench_home) as server:
        yield server


@pytest.fixture(scope="module")
def latency(bench_home, superset_server):
    # No warm-up drop, to keep the test short: the first drop also pays the servers' first-run costs.
    return measure_event_latency(bench_home, drops=2, warmup=0, superset_url=superset_server.url)


def test_every_drop_reaches_each_stage_in_order(latency):
    drops = latency["each_drop"]
    assert [d["warmup"] for d in drops] == [False, False]
    assert latency["drops"] == 2
    for drop in drops:
        seconds = [drop["seconds"][stage] for stage in STAGES]
        assert all(s is not None and s > 0 for s in seconds), drop
        assert seconds == sorted(seconds), drop
        assert all(v is not None and v >= 0 for v in drop["steps_seconds"].values()), drop
    for stage in STAGES:
        figures = latency["seconds"][stage]
        assert figures["n"] == 2
        assert 0 < figures["p50"] <= figures["p95"] <= figures["max"]
    assert latency["seconds"]["visible"]["max"] == max(d["seconds"]["visible"] for d in drops)


def test_each_dropped_declaration_is_in_the_published_file(latency, bench_home):
    months = [d["month"] for d in latency["each_drop"]]
    assert len(set(months)) == len(months), "every drop declares a month of its own"
    with duckdb.connect(str(bench_home.published_warehouse), read_only=True) as con:
        for drop in latency["each_drop"]:
            assert drop["lines"] >= 2000
            # Lines copied from the source month's own defects (a period in the month before) stay rejected;
            # every accepted line lies in the dropped month.
            received, accepted, agbs, accepted_months = con.execute(
                "select count(*), count(*) filter (where status = 'geaccepteerd'), list(distinct aanbieder_agb), "
                "list(distinct strftime(month_start_date, '%Y-%m-%d')) filter (where status = 'geaccepteerd') "
                "from main.fct_declaration_line where submission_id = ?",
                [drop["submission_id"]],
            ).fetchone()
            assert (received, accepted) == (drop["lines"], drop["accepted_lines"])
            assert accepted > 0
            assert (agbs, accepted_months) == ([drop["aanbieder_agb"]], [drop["month"]])
            (file_name,) = con.execute(
                "select distinct file_name from main.fct_submission where submission_id = ?", [drop["submission_id"]]
            ).fetchone()
            assert file_name == drop["file"]


def test_the_chart_figure_changed_to_what_the_warehouse_holds(latency):
    for drop in latency["each_drop"]:
        assert drop["figure_before"] == 0
        assert drop["figure_after"] > 0
        assert drop["figure_after"] == pytest.approx(drop["warehouse_figure"])


def test_airflow_is_stopped_afterwards(latency, bench_home):
    run = bench_home.home / "run"
    assert not [c for c in airflow.COMPONENTS if process.is_running(f"airflow-{c}", run)]
    assert latency["servers_start_seconds"] > 0
    assert latency["warehouse"]["declaration_lines"] > 0


def test_every_chart_of_every_dashboard_is_timed(latency, bench_home, superset_server):
    result = measure_chart_queries(bench_home, repeats=2, superset_url=superset_server.url)
    expected = dashboards_in_repository()
    assert set(result["dashboards"]) == set(expected)
    for slug, dashboard in result["dashboards"].items():
        assert len(dashboard["charts"]) == len(expected[slug])
        assert dashboard["seconds"]["n"] == 2 * len(expected[slug])
        for chart in dashboard["charts"]:
            assert chart["cold_seconds"] > 0
            assert len(chart["each_seconds"]) == 2 and all(s > 0 for s in chart["each_seconds"])
            assert 0 < chart["seconds"]["p50"] <= chart["seconds"]["p95"]
            assert chart["duckdb_seconds"]["n"] == 2 and chart["duckdb_seconds"]["p50"] > 0
    charts = [c for d in result["dashboards"].values() for c in d["charts"]]
    assert sum(c["rows"] > 0 for c in charts) >= len(charts) - 2, json.dumps(
        {c["name"]: c["rows"] for c in charts}, ensure_ascii=False
    )
    slowest = max(charts, key=lambda c: c["seconds"]["p95"])
    assert result["slowest_chart"] == {"name": slowest["name"], "p95": slowest["seconds"]["p95"]}
