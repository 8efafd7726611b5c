"""The `close-year` and `reopen-year` subcommands of `outcome-monitor`."""

from __future__ import annotations

import argparse
import json
import sys


def _close(args: argparse.Namespace) -> int:
    from outcome_monitor.build import BuildError
    from outcome_monitor.config import paths
    from outcome_monitor.year_end.close import PackageNotStored, close_year
    from outcome_monitor.year_end.layout import YearEndError

    try:
        result = close_year(paths(), args.year, who=args.door, reason=args.reason, as_of_date=args.as_of)
    except PackageNotStored as error:
        print(f"afgesloten, zonder pakket: {error}", file=sys.stderr)
        return 1
    except (YearEndError, BuildError) as error:
        print(f"niet afgesloten: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def _reopen(args: argparse.Namespace) -> int:
    from outcome_monitor.build import BuildError
    from outcome_monitor.config import paths
    from outcome_monitor.year_end.close import reopen_year
    from outcome_monitor.year_end.layout import YearEndError

    try:
        result = reopen_year(
            paths(), args.year, reason=args.reason, who=args.door, rebuild=not args.no_build, as_of_date=args.as_of
        )
    except YearEndError as error:
        print(f"niet heropend: {error}", file=sys.stderr)
        return 1
    except BuildError as error:
        print(f"heropend, maar de build is niet gepubliceerd: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def add_year_end_commands(commands) -> None:
    close = commands.add_parser("close-year", help="freeze a verslagjaar's controller figures (build, snapshot)")
    close.add_argument("year", type=int)
    close.add_argument("--door", help="who closes (default: the OS user)")
    close.add_argument("--reason", help="optional note recorded in the audit log")
    close.add_argument("--as-of", help="date that decides provisional/final (default: today)")
    close.set_defaults(func=_close)

    reopen = commands.add_parser("reopen-year", help="reopen a closed verslagjaar (recorded with the reason)")
    reopen.add_argument("year", type=int)
    reopen.add_argument("--reason", required=True, help="why the year is reopened (required, recorded)")
    reopen.add_argument("--door", help="who reopens (default: the OS user)")
    reopen.add_argument("--as-of", help="date that decides provisional/final for the rebuild (default: today)")
    reopen.add_argument("--no-build", action="store_true", help="only record; the next build shows live figures")
    reopen.set_defaults(func=_reopen)
