"""Dashboard queries: every chart of every dashboard through Superset's chart-data API, timed.

    python -m outcome_monitor.bench.charts --home H [--repeats 5] [--superset-url URL] [--out charts.json]

Starts Superset on the home's published warehouse (set-up and dashboard import as ``make demo`` does)
unless the URL of a running one is given, logs in as the admin and, for each chart of each dashboard
in ``dashboards/dashboards/``, posts the chart's saved query context with ``force: true`` (Superset's
cache is bypassed, so the query really runs against DuckDB) once cold and then `repeats` times.
Reports p50 and p95 per chart and per dashboard, and the slowest chart. The time is the whole
request as a browser sees it: Superset's own work plus DuckDB's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from outcome_monitor.bench._servers import (
    REPO_ROOT,
    RunningSuperset,
    SupersetSession,
    running_superset,
    stop_servers_on_sigterm,
    superset_admin,
)
from outcome_monitor.bench._stats import summary
from outcome_monitor.config import Paths

DASHBOARDS_DIR = REPO_ROOT / "dashboards" / "dashboards"


def dashboards_in_repository(folder: Path = DASHBOARDS_DIR) -> dict[str, set[str]]:
    """Slug -> uuids of the charts its layout places, from the dashboard YAML files."""
    found = {}
    for path in sorted(folder.glob("*.yaml")):
        dashboard = yaml.safe_load(path.read_text(encoding="utf-8"))
        charts = {
            item["meta"]["uuid"]
            for item in dashboard["position"].values()
            if isinstance(item, dict) and item.get("type") == "CHART"
        }
        found[dashboard["slug"]] = charts
    return found


def time_sql_in_duckdb(warehouse: Path, statements: list[str], repeats: int) -> list[float]:
    """The chart's SQL run straight in DuckDB, a new read-only connection each time as Superset opens one."""
    import duckdb

    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        with duckdb.connect(str(warehouse), read_only=True, config={"enable_external_access": False}) as con:
            for sql in statements:
                con.execute(sql).fetchall()
        timings.append(time.perf_counter() - started)
    return timings


def time_chart(superset: SupersetSession, chart: dict[str, Any], repeats: int, warehouse: Path) -> dict[str, Any]:
    """One cold run, then `repeats` timed runs of the chart's forced query; the rows it returned; and
    the same SQL straight in DuckDB, to tell Superset's share from the query's."""
    query = superset.forced_query_context(chart)
    timings = []
    rows = 0
    for _ in range(repeats + 1):
        started = time.perf_counter()
        results = superset.chart_data(query)
        timings.append(time.perf_counter() - started)
        rows = sum(result.get("rowcount", len(result.get("data", []))) for result in results)
    statements = [result["query"] for result in superset.chart_data({**query, "result_type": "query"})]
    return {
        "id": chart["id"],
        "name": chart["slice_name"],
        "viz_type": chart["viz_type"],
        "rows": rows,
        "cold_seconds": round(timings[0], 3),
        "seconds": summary(timings[1:]),
        "each_seconds": [round(t, 3) for t in timings[1:]],
        "duckdb_seconds": summary(time_sql_in_duckdb(warehouse, statements, repeats)),
    }


def measure_with(superset: SupersetSession, repeats: int, warehouse: Path) -> dict[str, Any]:
    dashboards = {}
    for slug, expected_uuids in dashboards_in_repository().items():
        charts = superset.dashboard_charts(slug)
        if len(charts) != len(expected_uuids):
            raise RuntimeError(
                f"dashboard {slug}: Superset has {len(charts)} charts, dashboards/ places {len(expected_uuids)}; "
                "import the dashboards again (outcome-monitor superset setup)"
            )
        timed = [time_chart(superset, superset.chart(c["id"]), repeats, warehouse) for c in charts]
        every_run = [t for chart in timed for t in chart["each_seconds"]]
        dashboards[slug] = {"charts": timed, "seconds": summary(every_run)}
    all_charts = [chart for dashboard in dashboards.values() for chart in dashboard["charts"]]
    slowest = max(all_charts, key=lambda c: c["seconds"]["p95"])
    return {
        "repeats": repeats,
        "dashboards": dashboards,
        "slowest_chart": {"name": slowest["name"], "p95": slowest["seconds"]["p95"]},
        "charts_p95_over_1s": sorted(c["name"] for c in all_charts if c["seconds"]["p95"] > 1.0),
    }


def measure_chart_queries(paths: Paths, repeats: int = 5, superset_url: str | None = None) -> dict[str, Any]:
    """Time every chart of every dashboard; starts (and stops) Superset unless `superset_url` is given."""
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    with contextlib.ExitStack() as stack:
        if superset_url:
            username, password = superset_admin(paths)
            server = RunningSuperset(superset_url, username, password)
        else:
            server = stack.enter_context(running_superset(paths))
        result = measure_with(server.session(), repeats, paths.published_warehouse)
    result["warehouse_mb"] = round(paths.published_warehouse.stat().st_size / 2**20, 1)
    result["machine"] = {"cpus": os.cpu_count(), "load_average_1m_at_end": round(os.getloadavg()[0], 1)}
    return result


def print_table(result: dict[str, Any]) -> None:
    machine = result["machine"]
    print(
        f"\nChart queries (force=true, {result['repeats']} runs after one cold run), warehouse "
        f"{result['warehouse_mb']} MB; {machine['cpus']} cores, load {machine['load_average_1m_at_end']}"
    )
    print(f"{'dashboard / chart':<58}{'rows':>7}{'cold':>8}{'p50':>8}{'p95':>8}{'duckdb p50':>12}")
    for slug, dashboard in result["dashboards"].items():
        figures = dashboard["seconds"]
        print(f"{slug:<58}{'':>7}{'':>8}{figures['p50']:>8}{figures['p95']:>8}")
        for chart in dashboard["charts"]:
            s = chart["seconds"]
            duck = chart["duckdb_seconds"]["p50"]
            name = chart["name"][:54]
            print(f"  {name:<56}{chart['rows']:>7}{chart['cold_seconds']:>8}{s['p50']:>8}{s['p95']:>8}{duck:>12}")
    slowest = result["slowest_chart"]
    print(
        f"slowest chart: {slowest['name']} (p95 {slowest['p95']} s); "
        f"p95 over 1 s: {', '.join(result['charts_p95_over_1s']) or 'none'}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="a home with a published warehouse")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--superset-url", help="a running Superset of this home (default: start one)")
    parser.add_argument("--out", type=Path, help="write the result as JSON here")
    args = parser.parse_args(argv)
    stop_servers_on_sigterm()
    home = args.home.resolve()
    os.environ["OUTCOME_MONITOR_HOME"] = str(home)
    result = measure_chart_queries(Paths(home), args.repeats, args.superset_url)
    print_table(result)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
