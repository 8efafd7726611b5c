"""The whole pipeline against DuckDB's own speed, at region, large-municipality or national scale.

    python -m outcome_monitor.bench.pipeline --scale large [--out bench/results.json] [--skip-latency]

In one run, on the data of ``bench.scale_data`` (generated once, then reused from bench/data/):

1. full rebuild: every submission of the year ingested (``ingest_file``, one after another) and
   built to a published file (``run_dbt``, ``check_marts``, ``publish`` with the feedback update):
   wall time and peak memory per stage (parse, validate, write, ... of the ingest; dbt; checks;
   publish);
2. the limit: bare DuckDB reading the same records and computing the key figures (``bench.bare``);
   the ratio pipeline / bare;
3. event latency and chart queries of the latency helper (``bench.latency``, ``bench.charts``),
   unless ``--skip-latency``; a part that is not run says so in the results.

Each stage runs in its own child process, so its peak memory (max RSS) is its own; library imports
(Great Expectations, dbt) are timed apart, as Airflow's warm workers pay them once. Machine facts
(cores, memory, load average at the start) go into the results: the figures mean little without.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from outcome_monitor.bench.scale_data import DEFAULT_ROOT, FILE_PERIODS, ensure_scale_data, inbox_files, plan_for

INGEST_STEPS = ("archive", "parse", "validate", "pseudonymise", "sort", "write", "overig")
BUILD_STAGES = ("dbt", "checks", "publish")
NOT_RUN = "niet gemeten"
STAGES_FILE = "bench-stages.json"  # in the run's home: the stages measured so far (see run's resume)
SKIPPED = "overgeslagen"


# --- the stages, each run in a child process ----------------------------------------------------------


def stage_ingest(home: Path, manifest: dict[str, Any], rule_engine: str = "duckdb", workers: int = 1) -> dict[str, Any]:
    """Every inbox file through ``ingest_file``, by `workers` processes at once (Airflow's workers do the same).

    Per step, the workers' seconds are added up (``steps_worker_seconds``) and, so that the steps add up
    to the stage's wall time, scaled by wall / their sum (``steps_seconds``).
    """
    import multiprocessing

    from outcome_monitor.bench.memory import process_peak_mb

    started = time.perf_counter()
    import great_expectations  # noqa: F401 - imported once by a warm worker, so timed apart

    import outcome_monitor.ingest  # noqa: F401

    imported = time.perf_counter()
    shares = _balanced_shares(list(inbox_files(manifest)), workers)
    began = time.perf_counter()
    if workers == 1:
        parts = [_ingest_share(home, shares[0], rule_engine)]
    else:
        # Forked after the imports above, as Airflow's warm workers are.
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.starmap(_ingest_share, [(home, share, rule_engine) for share in shares])
    seconds = time.perf_counter() - began
    counts = {key: sum(part["counts"][key] for part in parts) for key in ("files", "received", "accepted", "rejected")}
    worker_steps: dict[str, float] = {}
    steps_peak: dict[str, int] = {}
    for part in parts:
        for name, value in part["steps_seconds"].items():
            worker_steps[name] = worker_steps.get(name, 0.0) + value
        for name, value in part["steps_peak_mb"].items():
            steps_peak[name] = steps_peak.get(name, 0) + value  # the workers run side by side
    busy = sum(worker_steps.values())
    scale = seconds / busy if busy else 0.0
    return {
        "seconds": round(seconds, 2),
        "import_seconds": round(imported - started, 2),
        # Side by side, the workers' peaks add up (an upper bound: forked pages are shared).
        "peak_mb": max(process_peak_mb(), sum(part["peak_mb"] for part in parts)),
        "workers": workers,
        "steps_seconds": {name: round(value * scale, 2) for name, value in worker_steps.items()},
        "steps_worker_seconds": {name: round(value, 2) for name, value in worker_steps.items()},
        "steps_peak_mb": steps_peak,
        **counts,
        "lines_per_second": round(counts["received"] / seconds) if seconds else None,
        "statuses": _added(part["statuses"] for part in parts),
        "rows_by_record_type": _added(part["rows_by_record_type"] for part in parts),
        "rule_engine": rule_engine,
    }


def _balanced_shares(files: list[Path], workers: int) -> list[list[Path]]:
    """`files` split into `workers` lists of about equal bytes (largest first to the lightest share)."""
    shares: list[list[Path]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for path in sorted(files, key=lambda p: p.stat().st_size, reverse=True):
        lightest = loads.index(min(loads))
        shares[lightest].append(path)
        loads[lightest] += path.stat().st_size
    order = {path: index for index, path in enumerate(files)}
    return [sorted(share, key=order.__getitem__) for share in shares]


def _ingest_share(home: Path, files: list[Path], rule_engine: str) -> dict[str, Any]:
    from outcome_monitor.bench.memory import OUTSIDE_STEPS, SampledTimings, process_peak_mb
    from outcome_monitor.config import Paths
    from outcome_monitor.ingest import ingest_file
    from outcome_monitor.raw_zone import sync_all

    paths = Paths(home)
    timings = SampledTimings().start()
    counts = {"files": 0, "received": 0, "accepted": 0, "rejected": 0}
    statuses: dict[str, int] = {}
    by_record_type: dict[str, int] = {}
    began = time.perf_counter()
    for path in files:
        # As a replay: a bulk write into a fresh raw zone, synced once at the end.
        report = ingest_file(path, paths, timings=timings, rule_engine=rule_engine, durable=False)
        counts["files"] += 1
        for key in ("received", "accepted", "rejected"):
            counts[key] += report["counts"][key]
        statuses[report["status"]] = statuses.get(report["status"], 0) + 1
        for record_type, split in report["counts"].get("by_record_type", {}).items():
            by_record_type[record_type] = by_record_type.get(record_type, 0) + sum(split.values())
    with timings.step("write"):
        sync_all()
    seconds = time.perf_counter() - began
    timings.stop()
    steps = dict(timings.seconds)
    steps[OUTSIDE_STEPS] = max(0.0, seconds - sum(steps.values()))  # reports, manifests, file handling
    return {
        "counts": counts,
        "statuses": statuses,
        "rows_by_record_type": by_record_type,
        "steps_seconds": steps,
        "steps_peak_mb": timings.peak_mb(),
        "peak_mb": process_peak_mb(),
    }


def _added(dicts) -> dict[str, int]:
    total: dict[str, int] = {}
    for figures in dicts:
        for key, value in figures.items():
            total[key] = total.get(key, 0) + value
    return total


def stage_dbt(home: Path) -> dict[str, Any]:
    from outcome_monitor.bench.memory import process_peak_mb

    started = time.perf_counter()
    import dbt.cli.main  # noqa: F401 - timed apart: a warm worker has it

    from outcome_monitor.build import run_dbt
    from outcome_monitor.config import Paths

    imported = time.perf_counter()
    paths = Paths(home)
    db_path = run_dbt(paths, unit_tests=False)  # as the transform DAG: unit tests check SQL, not data
    seconds = time.perf_counter() - imported
    run_results = json.loads((paths.build / "dbt" / "target" / "run_results.json").read_text(encoding="utf-8"))
    nodes = sorted(run_results["results"], key=lambda r: r["execution_time"], reverse=True)
    node_seconds = sum(r["execution_time"] for r in nodes)
    by_type: dict[str, dict[str, float]] = {}  # model, test, unit_test, seed: where dbt's time goes
    for r in nodes:
        figures = by_type.setdefault(r["unique_id"].split(".", 1)[0], {"nodes": 0, "seconds": 0.0})
        figures["nodes"] += 1
        figures["seconds"] = round(figures["seconds"] + r["execution_time"], 2)
    return {
        "seconds": round(seconds, 2),
        "import_seconds": round(imported - started, 2),
        "peak_mb": process_peak_mb(),
        "nodes": len(nodes),
        "nodes_seconds": round(node_seconds, 2),
        "dbt_elapsed_seconds": round(run_results.get("elapsed_time", 0.0), 2),
        "by_resource_type": by_type,
        "slowest_nodes": [{"node": r["unique_id"], "seconds": round(r["execution_time"], 2)} for r in nodes[:12]],
        "warehouse_mb": round(db_path.stat().st_size / 2**20),
    }


def stage_checks(home: Path) -> dict[str, Any]:
    from outcome_monitor.bench.memory import process_peak_mb

    started = time.perf_counter()
    from outcome_monitor.build import check_marts, next_warehouse_path
    from outcome_monitor.config import Paths

    imported = time.perf_counter()
    checks = check_marts(next_warehouse_path(Paths(home)))
    seconds = time.perf_counter() - imported
    return {
        "seconds": round(seconds, 2),
        "import_seconds": round(imported - started, 2),
        "peak_mb": process_peak_mb(),
        "expectations": len(checks),
        "failed_signaleringen": sum(1 for c in checks if not c.success),
    }


def stage_publish(home: Path) -> dict[str, Any]:
    from outcome_monitor.bench.memory import process_peak_mb
    from outcome_monitor.build import next_warehouse_path, publish
    from outcome_monitor.config import Paths
    from outcome_monitor.relational_feedback import update_feedback_reports

    paths = Paths(home)
    started = time.perf_counter()
    published = publish(next_warehouse_path(paths), paths)
    swapped = time.perf_counter()
    rewritten = update_feedback_reports(published, paths)  # as the DAG's publish task does
    done = time.perf_counter()
    return {
        "seconds": round(done - started, 2),
        "swap_seconds": round(swapped - started, 2),
        "feedback_seconds": round(done - swapped, 2),
        "feedback_rewritten": len(rewritten),
        "peak_mb": process_peak_mb(),
        "published_mb": round(published.stat().st_size / 2**20),
    }


def stage_bare(work: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    from outcome_monitor.bench.bare import run_bare
    from outcome_monitor.bench.memory import process_peak_mb

    result = run_bare(Path(manifest["inbox"]), Path(manifest["xml_equivalent"]), work / "bare.duckdb")
    return {**result, "peak_mb": process_peak_mb()}


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the runner dies (a killed run leaves no stage behind)."""
    import ctypes
    import signal

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _run_child(stage: str, home: Path, manifest: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """Run one stage in a fresh interpreter; its last stdout line is the stage's JSON."""
    spec = home / f".bench-{stage}.json"
    spec.write_text(json.dumps({"manifest": manifest, "options": options}), encoding="utf-8")
    env = {**os.environ, "OUTCOME_MONITOR_HOME": str(home)}
    env.setdefault("OUTCOME_MONITOR_PSEUDONYM_KEY", "bench-sleutel")
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "outcome_monitor.bench.pipeline", "--child", stage, str(home), str(spec)],
        capture_output=True, text=True, check=False, env=env, preexec_fn=_die_with_parent,
    )  # fmt: skip
    wall = time.perf_counter() - started
    spec.unlink(missing_ok=True)
    if result.returncode != 0:
        raise RuntimeError(f"stage {stage} mislukt (exit {result.returncode}):\n{result.stderr[-4000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["process_wall_seconds"] = round(wall, 2)
    return figures


def _child_main(stage: str, home: Path, spec: Path) -> int:
    given = json.loads(spec.read_text(encoding="utf-8"))
    manifest, options = given["manifest"], given["options"]
    runners = {
        "ingest": lambda: stage_ingest(home, manifest, options["rule_engine"], options["ingest_workers"]),
        "dbt": lambda: stage_dbt(home),
        "checks": lambda: stage_checks(home),
        "publish": lambda: stage_publish(home),
        "bare": lambda: stage_bare(home, manifest),
    }
    print(json.dumps(runners[stage]()))
    return 0


# --- latency and chart queries (the latency helper's modules) ------------------------------------------


def latency_headline(figures: dict[str, Any]) -> dict[str, Any]:
    """From drop into the inbox until Superset's chart-data API shows it, over the counted drops."""
    visible = figures["seconds"]["visible"]
    return {"p50_seconds": visible["p50"], "p95_seconds": visible["p95"]}


def charts_headline(figures: dict[str, Any]) -> dict[str, Any]:
    """The target is per chart (every p95 under 1 s): the worst chart's p95, the worst dashboard's p50."""
    return {
        "p50_seconds": max(d["seconds"]["p50"] for d in figures["dashboards"].values()),
        "p95_seconds": figures["slowest_chart"]["p95"],
    }


def _optional_measure(
    module: str, function: str, headline, home: Path, skip: str | None, **kwargs: Any
) -> dict[str, Any]:
    """The figures of bench.<module>.<function>, or why they were not measured (`skip`: the option that said so)."""
    if skip:
        return {"status": SKIPPED, "reason": f"{skip}: niet gevraagd in deze run"}
    if importlib.util.find_spec(f"outcome_monitor.bench.{module}") is None:
        return {"status": NOT_RUN, "reason": f"outcome_monitor.bench.{module} bestaat (nog) niet"}
    from importlib import import_module

    from outcome_monitor.config import Paths

    measure = getattr(import_module(f"outcome_monitor.bench.{module}"), function, None)
    if measure is None:
        return {"status": NOT_RUN, "reason": f"outcome_monitor.bench.{module}.{function} ontbreekt"}
    started = time.perf_counter()
    figures = measure(Paths(home), **kwargs)
    return {"status": "gemeten", "seconds": round(time.perf_counter() - started, 1), **headline(figures), **figures}


# --- the run ------------------------------------------------------------------------------------------


def machine_facts() -> dict[str, Any]:
    import duckdb

    meminfo = {}
    with open("/proc/meminfo", encoding="ascii") as handle:
        for line in handle:
            name, value = line.split(":", 1)
            meminfo[name] = int(value.split()[0])
    return {
        "cpus": os.cpu_count(),
        "memory_total_mb": round(meminfo.get("MemTotal", 0) / 1024),
        "memory_available_mb": round(meminfo.get("MemAvailable", 0) / 1024),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
    }


def run(
    scale: str,
    seed: int = 42,
    out: Path = Path("bench/results.json"),
    data_root: Path = DEFAULT_ROOT,
    skip_latency: bool = False,
    home: Path | None = None,
    keep_home: bool = False,
    note: str = "",
    file_period: str = "month",
    rule_engine: str = "duckdb",
    ingest_workers: int = 1,
    resume: bool = False,
    latency_drops: int = 5,
) -> dict[str, Any]:
    """One benchmark run; with `resume` (and a `home`), stages measured earlier in that home are kept.

    A national run takes hours: each stage's figures are saved in ``<home>/bench-stages.json`` as soon
    as it ends, so a run that stops half-way resumes at the stage that did not finish.
    """
    if resume and home is None:
        raise ValueError("--resume: geef --home, de map van de eerdere run")
    machine = machine_facts()
    plan = plan_for(scale, seed, file_period)
    started = time.perf_counter()
    cached = (data_root / plan.key / "manifest.json").exists()
    manifest = ensure_scale_data(plan, data_root, log=lambda text: print(f"[data] {text}", flush=True))
    data_seconds = time.perf_counter() - started

    own_home = home is None
    home = Path(tempfile.mkdtemp(prefix="bench-home-")) if own_home else home
    home.mkdir(parents=True, exist_ok=True)
    saved = home / STAGES_FILE
    stages: dict[str, Any] = json.loads(saved.read_text(encoding="utf-8")) if resume and saved.exists() else {}
    try:
        for stage in ("ingest", *BUILD_STAGES, "bare"):
            if stage in stages:
                print(f"[bench] {stage}: hervat, gemeten in een eerdere run ({stages[stage]['seconds']} s)", flush=True)
                continue
            print(f"[bench] {stage} ...", flush=True)
            options = {"rule_engine": rule_engine, "ingest_workers": ingest_workers}
            stages[stage] = _run_child(stage, home, manifest, options)
            saved.write_text(json.dumps(stages, indent=2), encoding="utf-8")
            print(f"[bench] {stage}: {stages[stage]['seconds']} s, piek {stages[stage]['peak_mb']} MB", flush=True)
        # Charts first: the latency drops add submissions (and months) to the warehouse.
        skip = "--skip-latency" if skip_latency else None
        charts = _optional_measure("charts", "measure_chart_queries", charts_headline, home, skip)
        skip = skip or ("--latency-drops 0" if latency_drops == 0 else None)
        latency = _optional_measure(
            "latency", "measure_event_latency", latency_headline, home, skip, drops=latency_drops
        )
    except Exception as exc:
        # What was measured before the failure is kept: an ingest of a large scale costs minutes.
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = {"scale": plan.name, "error": str(exc)[-2000:], "machine": machine, "details": stages}
        out.write_text(json.dumps(partial, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        raise
    finally:
        if own_home and not keep_home:
            shutil.rmtree(home, ignore_errors=True)

    results = summarise(plan, manifest, machine, stages, latency, charts, data_seconds, cached, note)
    if own_home and keep_home:
        results["home"] = str(home)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print_table(results)
    print(f"\nresultaten: {out}")
    return results


def summarise(plan, manifest, machine, stages, latency, charts, data_seconds, cached, note) -> dict[str, Any]:
    ingest = stages["ingest"]
    table = {
        step: {
            "seconds": ingest["steps_seconds"].get(step, 0.0),
            "peak_mb": ingest["steps_peak_mb"].get(step),
        }
        for step in INGEST_STEPS
    }
    for stage in BUILD_STAGES:
        table[stage] = {"seconds": stages[stage]["seconds"], "peak_mb": stages[stage]["peak_mb"]}
    pipeline_seconds = round(ingest["seconds"] + sum(stages[s]["seconds"] for s in BUILD_STAGES), 2)
    bare = stages["bare"]
    return {
        "scale": plan.name,
        "plan": asdict(plan),
        "note": note,
        "machine": machine,
        "data": {
            "cached": cached,
            "seconds": round(data_seconds, 1),
            "files": manifest["files"],
            "xml_bundles": manifest["xml_bundles"],
            "declaration_lines": manifest["declaration_lines"],
            "rows_by_kind": manifest["rows_by_kind"],
            "gemeenten": manifest["gemeenten"],
            "providers": manifest["providers"],
            "clients": manifest["clients"],
            "toewijzingen": manifest["toewijzingen"],
            "megabytes": round(manifest["bytes"] / 2**20),
            "generation_seconds": manifest["seconds"],
        },
        "full_rebuild": {
            "seconds": pipeline_seconds,
            "peak_mb": max(ingest["peak_mb"], *(stages[s]["peak_mb"] for s in BUILD_STAGES)),
            "stages": table,
            "import_seconds": {s: stages[s]["import_seconds"] for s in ("ingest", "dbt", "checks")},
            "rule_engine": ingest["rule_engine"],
            "ingest_workers": ingest["workers"],
        },
        "bare_duckdb": {
            "seconds": bare["seconds"],
            "peak_mb": bare["peak_mb"],
            "read_seconds": bare["read_seconds"],
            "aggregate_seconds": bare["aggregate_seconds"],
            "rows": bare["rows"],
        },  # fmt: skip
        "ratio_pipeline_to_bare": round(pipeline_seconds / bare["seconds"], 1) if bare["seconds"] else None,
        "event_latency": latency,
        "chart_queries": charts,
        "details": stages,
    }


def print_table(results: dict[str, Any]) -> None:
    data, machine = results["data"], results["machine"]
    print(
        f"\nBenchmark {results['scale']}: {data['declaration_lines']:,} declaratieregels, {data['files']:,} bestanden, "
        f"{data['providers']} aanbieders, {data['gemeenten']} gemeenten "
        f"({machine['cpus']} cores, {machine['memory_total_mb']:,} MB, load {machine['load_average_at_start']})"
    )
    print(f"{'stap':<16}{'seconden':>10}{'piek MB':>9}")
    for name, figures in results["full_rebuild"]["stages"].items():
        peak = "" if figures["peak_mb"] is None else f"{figures['peak_mb']:>9,}"
        print(f"{name:<16}{figures['seconds']:>10.1f}{peak:>9}")
    full, bare = results["full_rebuild"], results["bare_duckdb"]
    print(f"{'volledig':<16}{full['seconds']:>10.1f}{full['peak_mb']:>9,}")
    print(f"{'kale DuckDB':<16}{bare['seconds']:>10.1f}{bare['peak_mb']:>9,}")
    print(f"pijplijn ÷ kale DuckDB: {results['ratio_pipeline_to_bare']}×  (doel: ≤ 3×, < 15 min, < 8 GB)")
    print(f"imports (apart, warme workers betalen ze één keer): {full['import_seconds']}")
    for label, key in (("gebeurtenis-latentie", "event_latency"), ("grafiekqueries", "chart_queries")):
        part = results[key]
        if part.get("status") != "gemeten":
            print(f"{label}: {part['status']} ({part['reason']})")
        else:
            print(f"{label}: p50 {part['p50_seconds']} s, p95 {part['p95_seconds']} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default=os.environ.get("BENCH_SCALE", "region"),
                        help="region, large, national, of een deel van national (0.01)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--file-period", choices=FILE_PERIODS, default="month",
                        help="month: as providers send; year: one file per sender and kind (quick runs)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("bench/results.json"))
    parser.add_argument("--data-root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--home", type=Path, help="OUTCOME_MONITOR_HOME to build in (default: a fresh temp folder)")
    parser.add_argument("--keep-home", action="store_true", help="keep the temp home (raw zone, warehouse)")
    parser.add_argument("--skip-latency", action="store_true", help="no event latency and chart queries")
    parser.add_argument("--rule-engine", choices=("duckdb", "auto"), default="duckdb",
                        help="duckdb: the row suites in DuckDB for every file, as a replay does; "
                             "auto: Great Expectations up to 50,000 rows, as a file arriving alone")  # fmt: skip
    parser.add_argument("--ingest-workers", type=int, default=os.cpu_count() or 1,
                        help="processes ingesting side by side (default: one per core)")  # fmt: skip
    parser.add_argument("--resume", action="store_true",
                        help="with --home: keep the stages an earlier run in that home measured")  # fmt: skip
    parser.add_argument("--latency-drops", type=int, default=5,
                        help="declarations dropped for the event latency (0: chart queries only)")  # fmt: skip
    parser.add_argument("--note", default="", help="free text stored with the results (e.g. 'machine shared')")
    parser.add_argument("--child", nargs=3, metavar=("STAGE", "HOME", "SPEC"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        stage, home, spec = args.child
        return _child_main(stage, Path(home), Path(spec))
    run(**{name: value for name, value in vars(args).items() if name != "child"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
