"""Event latency: one monthly declaration dropped into a running pipeline, until a dashboard shows it.

    python -m outcome_monitor.bench.latency --home H [--drops 5] [--lines 2000] [--out latency.json]

With a home that already holds ingested submissions and a published warehouse, this starts a real
Airflow (scheduler, triggerer, dag-processor, api-server) and a real Superset on free ports, then
drops, one at a time, a fresh monthly declaration of about 2,000 lines (``_monthly_declaration``:
an existing provider's latest month moved to a new month) into the inbox by write-then-rename, and
times each until

- **detected**: the inbox watcher announced it (Airflow's asset event),
- **ingested**: its raw-zone folder is committed,
- **built**: the transform run that took it finished ``dbt build`` (and **checked** its mart checks),
- **published**: the published DuckDB file, opened read-only, lists its submission,
- **visible**: Superset's chart-data API (query forced past the cache) shows the month's total changed.

Each drop declares a month not declared before, so the figure goes from nothing to the month's
total. A warm-up drop (not counted) first takes the servers' first-run costs. The drops are real
submissions: they stay in the home. Both servers are stopped at the end, also on an error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

import duckdb

from outcome_monitor.bench._monthly_declaration import (
    MonthlyDeclaration,
    add_months,
    choose_source,
    write_monthly_declaration,
)
from outcome_monitor.bench._servers import (
    AirflowSession,
    RunningSuperset,
    SupersetSession,
    parse_time,
    running_airflow,
    running_superset,
    stop_servers_on_sigterm,
    superset_admin,
)
from outcome_monitor.bench._stats import summary
from outcome_monitor.config import Paths

# dashboards/charts/Totaal_gedeclareerd.yaml: the council's total, filtered here to the dropped month.
TOTAL_DECLARED_CHART_UUID = "16c7097f-9734-411c-894a-6515c9d4c4b3"
STAGES = ("detected", "ingested", "built", "checked", "published", "visible")
POLL_S = 0.2


class LatencyError(RuntimeError):
    pass


# --------------------------------------------------------------------------------------------
# what the warehouse and Superset say


def published_lines(paths: Paths, submission_id: str) -> tuple[int, int] | None:
    """(received, accepted) declaration lines of the submission in the published file; None if absent."""
    try:
        with duckdb.connect(str(paths.published_warehouse), read_only=True) as con:
            row = con.execute(
                "select count(*), count(*) filter (where status = 'geaccepteerd') "
                "from main.fct_declaration_line where submission_id = ?",
                [submission_id],
            ).fetchone()
    except duckdb.IOException:
        return None  # being swapped right now; the next poll opens the new file
    return (row[0], row[1]) if row[0] else None


def warehouse_month_total(paths: Paths, month) -> float:
    """The council's total for the month (jeugd), as the chart's metric SUM(bedrag_euro) computes it."""
    with duckdb.connect(str(paths.published_warehouse), read_only=True) as con:
        return con.execute(
            "select coalesce(sum(bedrag_euro), 0) from main.rpt_raad__gedeclareerd "
            "where domein = 'jeugd' and month_start_date = ?",
            [month],
        ).fetchone()[0]


def warehouse_size(paths: Paths) -> dict[str, Any]:
    with duckdb.connect(str(paths.published_warehouse), read_only=True) as con:
        lines, submissions = con.execute(
            "select (select count(*) from main.fct_declaration_line), "
            "(select count(distinct submission_id) from main.fct_submission)"
        ).fetchone()
    return {
        "file_mb": round(paths.published_warehouse.stat().st_size / 2**20, 1),
        "declaration_lines": lines,
        "submissions": submissions,
    }


def month_query(chart_query: dict[str, Any], month) -> dict[str, Any]:
    """The total-declared chart's query context, limited to one month."""
    until = add_months(month, 1)
    context = json.loads(json.dumps(chart_query))
    for query in context["queries"]:
        query["filters"] = [f for f in query["filters"] if f["col"] != "month_start_date"] + [
            {"col": "month_start_date", "op": "TEMPORAL_RANGE", "val": f"{month.isoformat()} : {until.isoformat()}"}
        ]
    return context


def shown_total(superset: SupersetSession, query: dict[str, Any]) -> float:
    (result,) = superset.chart_data(query)
    metric = query["queries"][0]["metrics"][0]
    rows = result["data"]
    return float(rows[0][metric] or 0) if rows else 0.0


# --------------------------------------------------------------------------------------------
# one drop


def _follow(
    paths: Paths, declaration: MonthlyDeclaration, superset: SupersetSession, query: dict[str, Any], timeout: float
) -> dict[str, Any]:
    """Drop the file and poll until each observed stage is reached; epoch seconds per stage."""
    from outcome_monitor.stack.demo import drop_into_inbox

    before = shown_total(superset, query)
    dropped = time.time()
    drop_into_inbox([declaration.path], paths.inbox)
    seen: dict[str, float] = {}
    shown = before
    while "visible" not in seen:
        now = time.time()
        if "claimed" not in seen and not (paths.inbox / declaration.path.name).exists():
            seen["claimed"] = now
        if "ingested" not in seen and paths.raw_submission(declaration.submission_id).exists():
            seen["ingested"] = now
        if "published" not in seen and published_lines(paths, declaration.submission_id):
            seen["published"] = now
        if "published" in seen:
            shown = shown_total(superset, query)
            if shown != before:
                seen["visible"] = time.time()
                break
        if now - dropped > timeout:
            reached = ", ".join(sorted(seen, key=seen.get)) or "nothing"
            raise LatencyError(
                f"{declaration.path.name} not visible after {timeout:.0f} s (reached: {reached}); "
                f"see {paths.logs / 'airflow'} and {paths.feedback / (declaration.submission_id + '.json')}"
            )
        time.sleep(POLL_S)
    return {"dropped": dropped, **seen, "figure_before": before, "figure_after": shown}


def _quote(run_id: str) -> str:
    return urllib.parse.quote(run_id, safe="")


def airflow_timeline(airflow: AirflowSession, declaration: MonthlyDeclaration, since: float) -> dict[str, float]:
    """Epoch seconds of what Airflow recorded for the drop: the watcher's event, the ingest and transform runs."""
    marks: dict[str, float] = {}
    for run in airflow.runs_since("ingest_submissions", since):
        run_id = _quote(run["dag_run_id"])
        events = airflow.consumed_events("ingest_submissions", run_id)
        ours = [
            e for e in events if (e.get("extra") or {}).get("payload", {}).get("original_name") == declaration.path.name
        ]
        if ours:
            task = airflow.task_instances("ingest_submissions", run_id)["ingest"]
            marks.update(
                announced=parse_time(ours[0]["timestamp"]),
                ingest_queued=parse_time(run["queued_at"]),
                ingest_start=parse_time(task["start_date"]),
                ingest_end=parse_time(task["end_date"]),
            )
            break
    for run in airflow.runs_since("transform_publish", since):
        run_id = _quote(run["dag_run_id"])
        events = airflow.consumed_events("transform_publish", run_id)
        if any(declaration.submission_id in (e.get("extra") or {}).get("submission_ids", []) for e in events):
            tasks = airflow.task_instances("transform_publish", run_id)
            marks["transform_queued"] = parse_time(run["queued_at"])
            for task_id in ("dbt_build", "check_marts", "publish"):
                marks[f"{task_id}_start"] = parse_time(tasks[task_id]["start_date"])
                marks[f"{task_id}_end"] = parse_time(tasks[task_id]["end_date"])
            break
    return marks


def dbt_profile(paths: Paths) -> dict[str, Any]:
    """What the last ``dbt build`` spent its time on, from its run_results.json (read before the next build)."""
    results_file = paths.build / "dbt" / "target" / "run_results.json"
    if not results_file.exists():
        return {}
    results = json.loads(results_file.read_text(encoding="utf-8"))["results"]
    timings = [t for r in results for t in r["timing"] if t.get("started_at")]
    by_type: dict[str, float] = {}
    for result in results:
        kind = result["unique_id"].split(".")[0]
        by_type[kind] = round(by_type.get(kind, 0.0) + result["execution_time"], 2)
    slowest = sorted(results, key=lambda r: -r["execution_time"])[:3]
    return {
        "first_node_started": parse_time(min(t["started_at"] for t in timings)) if timings else None,
        "last_node_completed": parse_time(max(t["completed_at"] for t in timings)) if timings else None,
        "nodes": len(results),
        "node_seconds_by_type": by_type,
        "slowest_nodes": {r["unique_id"]: round(r["execution_time"], 2) for r in slowest},
    }


def _seconds(later: float | None, earlier: float | None) -> float | None:
    return None if later is None or earlier is None else round(later - earlier, 2)


def observed_claim(seen: dict[str, Any], marks: dict[str, float]) -> float | None:
    """When the watcher claimed the file. The poll sees it late by up to one poll round, which under
    load can outlast the watcher's own announcement: the claim cannot have come after that."""
    claimed = seen.get("claimed")
    if claimed is not None and marks.get("announced") is not None:
        claimed = min(claimed, marks["announced"])
    return claimed


def drop_report(
    declaration: MonthlyDeclaration, seen: dict[str, Any], marks: dict[str, float], dbt: dict[str, Any], paths: Paths
) -> dict[str, Any]:
    t0 = seen["dropped"]
    claimed = observed_claim(seen, marks)
    stages = {
        "detected": _seconds(marks.get("announced", claimed), t0),
        "ingested": _seconds(seen.get("ingested"), t0),
        "built": _seconds(marks.get("dbt_build_end"), t0),
        "checked": _seconds(marks.get("check_marts_end"), t0),
        "published": _seconds(seen.get("published"), t0),
        "visible": _seconds(seen.get("visible"), t0),
    }
    # Where the time goes, step by step (Airflow's own timestamps where it has them).
    steps = {
        "watcher_claim": _seconds(claimed, t0),
        "watcher_announce": _seconds(marks.get("announced"), claimed),
        "ingest_scheduling": _seconds(marks.get("ingest_start"), marks.get("announced")),
        "ingest_task": _seconds(marks.get("ingest_end"), marks.get("ingest_start")),
        "transform_scheduling": _seconds(marks.get("dbt_build_start"), marks.get("ingest_end")),
        "dbt_build_task": _seconds(marks.get("dbt_build_end"), marks.get("dbt_build_start")),
        # of which: dbt's start-up in the task (imports, project parse) and its nodes
        "dbt_startup": _seconds(dbt.get("first_node_started"), marks.get("dbt_build_start")),
        "dbt_nodes": _seconds(dbt.get("last_node_completed"), dbt.get("first_node_started")),
        "check_marts_scheduling": _seconds(marks.get("check_marts_start"), marks.get("dbt_build_end")),
        "check_marts_task": _seconds(marks.get("check_marts_end"), marks.get("check_marts_start")),
        "publish_scheduling": _seconds(marks.get("publish_start"), marks.get("check_marts_end")),
        "publish_swap": _seconds(seen.get("published"), marks.get("publish_start")),
        "superset_visible": _seconds(seen.get("visible"), seen.get("published")),
    }
    received, accepted = published_lines(paths, declaration.submission_id) or (0, 0)
    return {
        "file": declaration.path.name,
        "submission_id": declaration.submission_id,
        "aanbieder_agb": declaration.aanbieder_agb,
        "month": declaration.month.isoformat(),
        "lines": declaration.lines,
        "repeated_lines": declaration.repeated_lines,
        "published_lines": received,
        "accepted_lines": accepted,
        "figure_before": seen["figure_before"],
        "figure_after": seen["figure_after"],
        "warehouse_figure": warehouse_month_total(paths, declaration.month),
        "seconds": stages,
        "steps_seconds": steps,
        "dbt": {key: dbt[key] for key in ("nodes", "node_seconds_by_type", "slowest_nodes") if key in dbt},
    }


# --------------------------------------------------------------------------------------------
# the measurement


def measure_event_latency(
    paths: Paths,
    drops: int = 5,
    *,
    lines: int = 2000,
    warmup: int = 1,
    timeout: float = 900.0,
    superset_url: str | None = None,
) -> dict[str, Any]:
    """Start Airflow and Superset, drop `warmup` + `drops` monthly declarations one at a time, time them.

    With `superset_url`, the home's Superset already running there is used (and left running).

    Returns the warehouse size, p50/p95/max per stage over the counted drops, the median of each step,
    and every drop's own figures. Raises LatencyError if a drop is not visible within `timeout` s.
    """
    if drops < 1:
        raise ValueError("drops must be at least 1")
    size = warehouse_size(paths)
    source = choose_source(paths, lines)
    months_after_source = (
        (source.last_declared_month.year - source.month.year) * 12
        + source.last_declared_month.month
        - source.month.month
    )
    measured: list[dict[str, Any]] = []
    started = time.perf_counter()
    with contextlib.ExitStack() as servers:
        work = servers.enter_context(tempfile.TemporaryDirectory(prefix="latency-drops-"))
        if superset_url:
            superset_server = RunningSuperset(superset_url, *superset_admin(paths))
        else:
            superset_server = servers.enter_context(running_superset(paths))
        airflow_server = servers.enter_context(running_airflow(paths))
        servers_ready = time.perf_counter() - started
        superset = superset_server.session()
        chart_query = superset.forced_query_context(superset.chart_by_uuid(TOTAL_DECLARED_CHART_UUID))
        for number in range(warmup + drops):
            declaration = write_monthly_declaration(paths, source, months_after_source + number + 1, lines, Path(work))
            query = month_query(chart_query, declaration.month)
            seen = _follow(paths, declaration, superset, query, timeout)
            dbt = dbt_profile(paths)
            marks = airflow_timeline(airflow_server.session, declaration, seen["dropped"])
            report = drop_report(declaration, seen, marks, dbt, paths)
            report["warmup"] = number < warmup
            measured.append(report)
            print(_drop_line(report), flush=True)
            print("        steps: " + json.dumps(report["steps_seconds"]), flush=True)
    counted = [r for r in measured if not r["warmup"]]
    return {
        "warehouse": size,
        # Other work on the machine stretches every figure: a load above the core count means waiting.
        "machine": {"cpus": os.cpu_count(), "load_average_1m_at_end": round(os.getloadavg()[0], 1)},
        "source": {
            "aanbieder_agb": source.aanbieder_agb,
            "month": source.month.isoformat(),
            "lines_in_month": source.lines,
        },
        "drops": len(counted),
        "lines_per_drop": lines,
        "servers_start_seconds": round(servers_ready, 1),
        "seconds": {stage: summary([r["seconds"][stage] for r in counted]) for stage in STAGES},
        "steps_median_seconds": {
            step: summary([r["steps_seconds"][step] for r in counted])["p50"] for step in counted[0]["steps_seconds"]
        },
        "each_drop": measured,
    }


# --------------------------------------------------------------------------------------------
# command line


def _drop_line(report: dict[str, Any]) -> str:
    stages = "  ".join(f"{s} {report['seconds'][s] if report['seconds'][s] is not None else '-':>6}" for s in STAGES)
    label = "warm-up" if report.get("warmup") else "drop"
    return f"{label:<8}{report['month']}  {report['lines']:>5} lines ({report['accepted_lines']} accepted)  {stages}"


def print_table(result: dict[str, Any]) -> None:
    size = result["warehouse"]
    print(
        f"\nEvent latency over {result['drops']} drops of about {result['lines_per_drop']:,} lines, warehouse "
        f"{size['file_mb']} MB ({size['declaration_lines']:,} declaration lines, {size['submissions']} submissions); "
        f"{result['machine']['cpus']} cores, load {result['machine']['load_average_1m_at_end']}"
    )
    print(f"{'stage (s after drop)':<24}{'p50':>8}{'p95':>8}{'max':>8}")
    for stage, figures in result["seconds"].items():
        print(f"{stage:<24}{figures['p50']:>8}{figures['p95']:>8}{figures['max']:>8}")
    print("\nwhere the time goes (median seconds per step)")
    for step, seconds in result["steps_median_seconds"].items():
        print(f"  {step:<24}{seconds:>8}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="a home with a published warehouse")
    parser.add_argument("--drops", type=int, default=5)
    parser.add_argument("--lines", type=int, default=2000, help="lines per monthly declaration")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per drop")
    parser.add_argument("--superset-url", help="a running Superset of this home (default: start one)")
    parser.add_argument("--out", type=Path, help="write the result as JSON here")
    args = parser.parse_args(argv)
    stop_servers_on_sigterm()
    home = args.home.resolve()
    os.environ["OUTCOME_MONITOR_HOME"] = str(home)
    result = measure_event_latency(Paths(home), args.drops, lines=args.lines, warmup=args.warmup, timeout=args.timeout)
    print_table(result)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
