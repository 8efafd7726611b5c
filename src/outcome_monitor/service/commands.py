"""The `serve` and `tokens` subcommands of `outcome-monitor`; light to import (no FastAPI until used)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from outcome_monitor.config import paths

MAX_UPLOAD_ENV = "OUTCOME_MONITOR_UPLOAD_MAX_BYTES"
DEFAULT_PORT = 8090


def add_service_commands(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="run the submission service (API and upload page)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument(
        "--max-upload-bytes",
        type=int,
        default=int(os.environ.get(MAX_UPLOAD_ENV, 200 * 1024 * 1024)),
        help=f"largest accepted file (default 200 MB, or ${MAX_UPLOAD_ENV})",
    )
    serve.set_defaults(func=serve_command)

    tokens = commands.add_parser("tokens", help="issue, revoke or list submission tokens")
    actions = tokens.add_subparsers(dest="action", required=True)
    issue = actions.add_parser("issue", help="issue a token; it is printed once and stored only as a hash")
    who = issue.add_mutually_exclusive_group(required=True)
    who.add_argument("--aanbieder", metavar="AGB", help="8-digit AGB code of the provider")
    who.add_argument("--gemeente", metavar="CBS", help="4-digit CBS code of the municipality")
    revoke = actions.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("token_id")
    actions.add_parser("list", help="list tokens (ids, holders, dates; never the tokens)")
    tokens.set_defaults(func=tokens_command)


def serve_command(args: argparse.Namespace) -> int:
    import uvicorn

    from outcome_monitor.service.app import Settings, create_app

    app = create_app(Settings(paths(), max_upload_bytes=args.max_upload_bytes))
    uvicorn.run(app, host=args.host, port=args.port, server_header=False, proxy_headers=False, log_level="info")
    return 0


def tokens_command(args: argparse.Namespace) -> int:
    from outcome_monitor.service import tokens

    if args.action == "issue":
        kind, code = ("aanbieder", args.aanbieder) if args.aanbieder else ("gemeente", args.gemeente)
        try:
            principal = tokens.Principal(kind, code)
        except ValueError as error:
            print(f"fout: {error}", file=sys.stderr)
            return 2
        issued = tokens.issue(paths(), principal)
        print(f"token id: {issued.token_id} ({principal.label})", file=sys.stderr)
        print("Bewaar dit token nu: het wordt niet opnieuw getoond.", file=sys.stderr)
        print(issued.token)
        return 0
    if args.action == "revoke":
        if tokens.revoke(paths(), args.token_id):
            print(f"ingetrokken: {args.token_id}")
            return 0
        print(f"fout: geen actief token met id {args.token_id}", file=sys.stderr)
        return 1
    for entry in tokens.listing(paths()):
        print(json.dumps(entry, ensure_ascii=False))
    return 0
