"""`outcome-monitor`: the same functions the DAGs call, for people and scripts."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from outcome_monitor.config import paths


def _generate(args: argparse.Namespace) -> int:
    from outcome_monitor.generate import generate

    truth = generate(
        Path(args.out),
        seed=args.seed,
        scale=args.scale,
        defect_rate=args.defect_rate,
        start=date.fromisoformat(args.start),
        end=date.fromisoformat(args.end),
    )
    print(truth)
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from outcome_monitor.ingest import ingest_file

    for name in args.files:
        report = ingest_file(Path(name), paths())
        print(json.dumps(report, ensure_ascii=False), flush=True)
    return 0


def _build(args: argparse.Namespace) -> int:
    from outcome_monitor.build import BuildError, build_and_publish

    try:
        summary = build_and_publish(paths(), as_of_date=date.fromisoformat(args.as_of) if args.as_of else None)
    except BuildError as error:
        print(f"niet gepubliceerd: {error}", file=sys.stderr)
        return 1
    print(json.dumps(summary, ensure_ascii=False, default=str))
    return 0


def _replay(args: argparse.Namespace) -> int:
    from outcome_monitor.replay import discard, replay

    result = replay(paths(), into=Path(args.into) if args.into else None, apply=args.apply)
    print(json.dumps(result.summary(), ensure_ascii=False, indent=2))
    if not args.apply and not args.into and not args.keep:
        discard(result)
    return 0 if result.is_identical or args.apply else 1


def _superset(args: argparse.Namespace) -> int:
    from outcome_monitor.stack import superset

    return superset.main(args.rest)


def _demo(args: argparse.Namespace) -> int:
    from outcome_monitor.stack.demo import run_demo

    return run_demo()


def _stop(args: argparse.Namespace) -> int:
    from outcome_monitor.stack.demo import stop_all

    return stop_all()


def _export_year(args: argparse.Namespace) -> int:
    from outcome_monitor.year_end.export import ExportError, export_year, verify

    if args.verify:
        result = verify(Path(args.verify))
        for problem in result.problems:
            print(f"afwijking: {problem}", file=sys.stderr)
        print(f"{args.verify}: {'klopt met het manifest' if result.ok else 'klopt NIET met het manifest'}")
        return 0 if result.ok else 1
    if args.year is None or not args.out:
        print("geef een verslagjaar en --out MAP (of --verify MAP)", file=sys.stderr)
        return 2
    try:
        result = export_year(args.year, Path(args.out), paths().published_warehouse, voorlopig=args.voorlopig)
    except ExportError as error:
        print(f"geen pakket gemaakt: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result.summary(), ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="outcome-monitor", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="generate a sample region's submissions and ground truth")
    generate.add_argument("--out", default="data/sample")
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument("--scale", type=float, default=1.0)
    generate.add_argument("--defect-rate", type=float, default=0.02)
    generate.add_argument("--start", default="2025-01-01")
    generate.add_argument("--end", default="2026-06-30")
    generate.set_defaults(func=_generate)

    ingest = commands.add_parser("ingest", help="ingest files; prints one feedback report per file (JSON lines)")
    ingest.add_argument("files", nargs="+")
    ingest.set_defaults(func=_ingest)

    build = commands.add_parser("build", help="dbt build, check the marts, publish; exits 1 if not published")
    build.add_argument("--as-of", help="date that decides provisional/final (default: today)")
    build.set_defaults(func=_build)

    replay_ = commands.add_parser(
        "replay", help="rebuild the raw zone from the archive and compare; exits 1 if it differs (unless --apply)"
    )
    replay_.add_argument("--apply", action="store_true", help="swap the rebuilt raw zone in (old one kept aside)")
    replay_.add_argument("--into", help="folder to rebuild into (kept); default: a temporary folder under the home")
    replay_.add_argument("--keep", action="store_true", help="keep the rebuilt raw zone for inspection")
    replay_.set_defaults(func=_replay)

    superset = commands.add_parser("superset", help="set up, start or stop Superset")
    superset.add_argument("rest", nargs=argparse.REMAINDER)
    superset.set_defaults(func=_superset)

    demo = commands.add_parser("demo", help="start everything and feed the sample region through it")
    demo.set_defaults(func=_demo)
    stop = commands.add_parser("stop", help="stop the servers `demo` started")
    stop.set_defaults(func=_stop)

    export_year = commands.add_parser(
        "export-year", help="the auditor's package of a verslagjaar (XLSX, CSV, manifest), or --verify one"
    )
    export_year.add_argument("year", type=int, nargs="?", help="verslagjaar, e.g. 2025")
    export_year.add_argument("--out", help="new or empty folder for the package")
    export_year.add_argument("--voorlopig", action="store_true", help="allow a year that is not closed (provisional)")
    export_year.add_argument("--verify", metavar="DIR", help="check a package's files against its manifest.json")
    export_year.set_defaults(func=_export_year)

    from outcome_monitor.service.commands import add_service_commands  # serve, tokens

    add_service_commands(commands)

    from outcome_monitor.year_end.commands import add_year_end_commands  # close-year, reopen-year

    add_year_end_commands(commands)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
