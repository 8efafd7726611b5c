"""Ingest throughput for a one-million-line declaration, as XML (a ZIP bundle of JW323 messages)
and as a CSV in the provider template, against DuckDB reading and writing the same CSV.

    python -m outcome_monitor.bench.ingest --lines 1000000 [--out bench/ingest.json]

Each measurement runs in its own child process so its peak memory (max RSS) is its own. The input is
built from a small generated sample region whose JW323 lines are repeated with fresh
referentienummers, so every line is valid and unique, as in a real large file.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

CSV_COLUMNS = [
    "gemeente_code",
    "aanbieder_agb",
    "domein",
    "declaratienummer",
    "declaratie_begindatum",
    "declaratie_einddatum",
    "declaratie_dagtekening",
    "referentienummer",
    "vorig_referentienummer",
    "toewijzingnummer",
    "bsn",
    "productcategorie",
    "productcode",
    "productperiode_begindatum",
    "productperiode_einddatum",
    "volume",
    "eenheid",
    "tarief",
    "bedrag",
    "debet_credit",
]
_REFERENCE = re.compile(rb"(<ijw:ReferentieNummer>)RN(\d+)(</ijw:ReferentieNummer>)")


def _sample_jw323_messages(work: Path) -> list[bytes]:
    from outcome_monitor.generate import generate

    generate(work / "sample", seed=11, scale=0.3, defect_rate=0.0)
    messages = []
    for bundle in sorted((work / "sample" / "submissions").glob("*aanbieder*.zip")):
        with zipfile.ZipFile(bundle) as archive:
            messages += [archive.read(name) for name in archive.namelist() if name.startswith("JW323")]
    return messages


def _lines_in(message: bytes) -> int:
    return message.count(b"<jw323:Prestatie>")


def build_xml_bundle(messages: list[bytes], lines: int, target: Path, lines_per_message: int = 2000) -> int:
    """A ZIP of JW323 messages of about `lines_per_message` prestaties (a typical monthly declaration),
    `lines` in all: each message repeats one sample message's clients with fresh referentienummers."""
    written, copy = 0, 0
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        while written < lines:
            for number, message in enumerate(messages):
                if written >= lines:
                    break
                head, _, rest = message.partition(b"<jw323:Clienten>")
                clients, _, tail = rest.partition(b"</jw323:Clienten>")
                per_copy = max(1, _lines_in(message))
                copies = max(1, min(lines_per_message, lines - written) // per_copy)
                body = b"".join(_REFERENCE.sub(rb"\g<1>R%06d\g<2>\g<3>" % (copy + k), clients) for k in range(copies))
                copy += copies
                archive.writestr(
                    f"JW323_{number:05d}_{copy:07d}.xml",
                    head + b"<jw323:Clienten>" + body + b"</jw323:Clienten>" + tail,
                )
                written += per_copy * copies
    return written


def build_csv(messages: list[bytes], lines: int, target: Path) -> int:
    """The same declarations as one provider's CSV in the template, written the Dutch Excel way.

    Every line gets its own referentienummer: one sender, so repeats would be 8021 rejections.
    """
    from outcome_monitor.ingest.messages import parse_message

    base = []
    for message in messages:
        parsed = parse_message(message)
        for record in parsed.records:
            base.append((parsed.header, record))

    def euros(cents: int | None) -> str:
        return "" if cents is None else f"{cents // 100},{cents % 100:02d}"

    def nl_date(value) -> str:
        return "" if value is None else value.strftime("%d-%m-%Y")

    sender = base[0][0]["afzender"]  # one provider's file: a CSV names one sender
    written = 0
    with target.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, delimiter=";")
        out.writerow(CSV_COLUMNS)
        copy = 0
        while written < lines:
            for header, r in base:
                if written >= lines:
                    break
                out.writerow(
                    [
                        header["ontvanger"],
                        sender,
                        "jeugd",
                        r["declaratienummer"],
                        nl_date(r["declaratie_begindatum"]),
                        nl_date(r["declaratie_einddatum"]),
                        nl_date(r["declaratie_dagtekening"]),
                        f"RB{written:010d}",
                        r["vorig_referentienummer"] or "",
                        r["toewijzingnummer"],
                        r["bsn"],
                        r["productcategorie"],
                        r["productcode"],
                        nl_date(r["period_start_date"]),
                        nl_date(r["period_end_date"]),
                        r["volume"],
                        r["eenheid"],
                        euros(r["tarief_cents"]),
                        euros(r["bedrag_cents"]),
                        r["debet_credit"],
                    ]
                )
                written += 1
            copy += 1
    return written


def measure_ingest(path: Path, home: Path) -> dict[str, Any]:
    """Child process: ingest `path` into `home`, report seconds per step and peak memory."""
    os.environ["OUTCOME_MONITOR_HOME"] = str(home)
    os.environ.setdefault("OUTCOME_MONITOR_PSEUDONYM_KEY", "bench-key")
    started = time.perf_counter()
    # What the warm Airflow workers have imported before a task starts (stack/warm_executor.py): pandas,
    # and duckdb through dbt-duckdb. Great Expectations is left out: files this large never reach it.
    import duckdb  # noqa: F401
    import pandas  # noqa: F401

    from outcome_monitor.config import Paths
    from outcome_monitor.ingest import ingest_file
    from outcome_monitor.ingest.submission import IngestTimings

    import_seconds = time.perf_counter() - started

    timings = IngestTimings()
    started, cpu_started = time.perf_counter(), time.process_time()
    report = ingest_file(path, Paths(home), timings=timings)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        "file": path.name,
        "bytes": path.stat().st_size,
        "lines": report["counts"]["received"],
        "accepted": report["counts"]["accepted"],
        "seconds": round(seconds, 2),
        # On a shared machine wall time includes waiting for a core; CPU time (all threads) does not.
        "cpu_seconds": round(cpu_seconds, 2),
        "lines_per_second": round(report["counts"]["received"] / seconds),
        "steps_seconds": {name: round(value, 2) for name, value in timings.seconds.items()},
        "steps_cpu_seconds": {name: round(value, 2) for name, value in timings.cpu_seconds.items()},
        "import_seconds": round(import_seconds, 2),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def measure_duckdb(path: Path, work: Path) -> dict[str, Any]:
    """Child process: the limit: DuckDB reading the same CSV (all columns typed) and writing Parquet."""
    import duckdb

    started, cpu_started = time.perf_counter(), time.process_time()
    con = duckdb.connect()
    rows = con.execute(
        f"copy (select * from read_csv('{path}', delim=';', header=true, dateformat='%d-%m-%Y', decimal_separator=','))"
        f" to '{work / 'duckdb.parquet'}' (format parquet)"
    ).fetchone()[0]
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        "lines": rows,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "lines_per_second": round(rows / seconds),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _child(kind: str, path: Path, work: Path) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "outcome_monitor.bench.ingest", "--child", kind, str(path), str(work)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{kind} measurement failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run(lines: int, out: Path | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        work = Path(tmp)
        load_before = round(os.getloadavg()[0], 1)
        started = time.perf_counter()
        messages = _sample_jw323_messages(work)
        xml_path, csv_path = work / "declaraties-1m.zip", work / "declaraties-1m.csv"
        build_xml_bundle(messages, lines, xml_path)
        build_csv(messages, lines, csv_path)
        prepare = time.perf_counter() - started
        results = {
            "lines_requested": lines,
            "prepare_seconds": round(prepare, 1),
            "csv": _child("ingest", csv_path, work / "home-csv"),
            "xml": _child("ingest", xml_path, work / "home-xml"),
            "duckdb_csv": _child("duckdb", csv_path, work),
            "machine": {"cpus": os.cpu_count(), "load_before": load_before},
        }
        results["machine"]["load_after"] = round(os.getloadavg()[0], 1)
    results["csv"]["ratio_to_duckdb"] = round(results["csv"]["seconds"] / results["duckdb_csv"]["seconds"], 1)
    _print(results)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


def _print(results: dict[str, Any]) -> None:
    machine = results["machine"]
    print(f"\nIngest benchmark, {results['lines_requested']:,} declaration lines ({machine['cpus']} cores)")
    print(f"{'input':<12}{'lines':>11}{'seconds':>9}{'CPU s':>8}{'lines/s':>10}{'peak MB':>9}  steps: s (CPU s)")
    for label in ("csv", "xml", "duckdb_csv"):
        r = results[label]
        cpu = r.get("steps_cpu_seconds", {})
        wall = r.get("steps_seconds", {})
        steps = ", ".join(f"{k} {v} ({cpu[k]})" if k in cpu else f"{k} {v}" for k, v in wall.items())
        figures = f"{r['lines']:>11,}{r['seconds']:>9}{r['cpu_seconds']:>8}"
        figures += f"{r['lines_per_second']:>10,}{r['peak_memory_mb']:>9}"
        print(f"{label:<12}{figures}  {steps}")
    print(
        f"CSV pipeline ÷ bare DuckDB: {results['csv']['ratio_to_duckdb']}×  (targets: CSV ≥ 100,000 lines/s, "
        "XML ≥ 20,000 lines/s, peak < 2,048 MB)"
    )
    # Wall time on a shared machine includes waiting for a core: the load says how far to trust it.
    print(f"load average at start/end: {machine['load_before']} / {machine['load_after']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--child", nargs=3, metavar=("KIND", "PATH", "WORK"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, path, work = args.child
        measure = measure_ingest if kind == "ingest" else measure_duckdb
        print(json.dumps(measure(Path(path), Path(work))))
        return 0
    run(args.lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
