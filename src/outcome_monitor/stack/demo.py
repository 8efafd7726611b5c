"""`make demo`: the whole product on one machine, fed the sample region through the real event path.

Each step says what it does; a failing step names itself and the log to read. The servers keep
running afterwards; `make stop` stops them.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from outcome_monitor.config import Paths, paths

REPO_ROOT = Path(__file__).resolve().parents[3]
AIRFLOW_PORT = int(os.environ.get("OUTCOME_MONITOR_AIRFLOW_PORT", "8080"))
SUPERSET_PORT = int(os.environ.get("OUTCOME_MONITOR_SUPERSET_PORT", "8088"))
SERVICE_PORT = int(os.environ.get("OUTCOME_MONITOR_SERVICE_PORT", "8000"))


class StepFailed(Exception):
    pass


def step(name: str, log: Path, action: Callable[[], Any]) -> Any:
    started = time.monotonic()
    print(f"==> {name} …", flush=True)
    try:
        result = action()
    except Exception as error:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as handle:
            handle.write(f"step '{name}' failed:\n{traceback.format_exc()}\n")
        raise StepFailed(f"step '{name}' failed: {error}\n    log: {log}") from error
    print(f"    done in {time.monotonic() - started:.0f} s", flush=True)
    return result


def drop_into_inbox(files: list[Path], inbox: Path) -> None:
    """Write-then-rename, as the submission service does: the watcher never sees half a file."""
    inbox.mkdir(parents=True, exist_ok=True)
    for file in files:
        part = inbox / f"{file.name}.part"
        part.write_bytes(file.read_bytes())
        os.replace(part, inbox / file.name)


def submission_ids(files: list[Path]) -> set[str]:
    from outcome_monitor.ingest.submission import submission_id_for

    return {submission_id_for(hashlib.sha256(file.read_bytes()).hexdigest()) for file in files}


def published_submissions(current: Paths) -> set[str]:
    info = current.published / "build.json"
    if not info.exists():
        return set()
    try:
        return set(json.loads(info.read_text(encoding="utf-8")).get("submissions", []))
    except json.JSONDecodeError:
        return set()  # being replaced right now; the next poll reads it


def wait_until_published(current: Paths, expected: set[str], timeout: float) -> float:
    """Block until every expected submission is in the published warehouse; return the seconds waited."""
    started = time.monotonic()
    last_report = -1
    while True:
        missing = expected - published_submissions(current)
        if not missing:
            return time.monotonic() - started
        elapsed = time.monotonic() - started
        if elapsed > timeout:
            raise TimeoutError(
                f"{len(missing)} of {len(expected)} submissions not published after {timeout:.0f} s; "
                f"see {current.logs / 'airflow'} and the scheduler log"
            )
        done = len(expected) - len(missing)
        if done != last_report:
            print(f"    {done}/{len(expected)} submissions published", flush=True)
            last_report = done
        time.sleep(2)


def build_quietly(log: Path) -> None:
    """Build and publish in a child process, so dbt's chatter goes to the log, not the console."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as handle:
        subprocess.run(
            [sys.executable, "-m", "outcome_monitor.cli", "build"], stdout=handle, stderr=subprocess.STDOUT, check=True
        )


def demo_tokens(current: Paths, files: list[Path]) -> dict[str, str]:
    """One submission-service token per sample sender (aanbieder or gemeente), issued once."""
    from outcome_monitor.service.tokens import DEMO_TOKEN_FILE, Principal, issue_demo_tokens, store_demo_tokens

    stored = current.secrets / DEMO_TOKEN_FILE
    if stored.exists():
        return json.loads(stored.read_text(encoding="utf-8"))
    senders = sorted({tuple(file.stem.split("_")[1].split("-")[:2]) for file in files})
    tokens = issue_demo_tokens(current, [Principal(kind, code) for kind, code in senders])
    store_demo_tokens(current, tokens)
    return tokens


def demo_user_lines(current: Paths) -> str:
    """The Superset demo users with their dashboard and password, one indented line each."""
    from outcome_monitor.stack import superset_security

    users = json.loads(superset_security.demo_users_path(current.home).read_text(encoding="utf-8"))["users"]
    return "\n".join(
        f"        {u['username']:<20} password {u['password']}   /superset/dashboard/{u['dashboard']}/" for u in users
    )


def run_demo() -> int:
    from outcome_monitor.generate import generate
    from outcome_monitor.stack import airflow, submission_service, superset, superset_security

    current = paths()
    logs = current.logs
    sample = current.home / "sample"
    try:
        step(
            "generate the sample region (4 gemeenten, ~15 aanbieders, 3 half-years)",
            logs / "demo.log",
            lambda: (sample / "ground_truth.json").exists() or generate(sample, seed=42),
        )
        files = sorted((sample / "submissions").iterdir())
        step(
            "prepare the Airflow metadata database",
            logs / "airflow-init.log",
            lambda: airflow.init(current, REPO_ROOT, AIRFLOW_PORT),
        )
        step(
            "build an empty warehouse so Superset has a file to open",
            logs / "build.log",
            lambda: current.published_warehouse.exists() or build_quietly(logs / "build.log"),
        )
        admin = step(
            "set up Superset, import the dashboards, make a demo user per role",
            logs / "superset-setup.log",
            lambda: superset.setup(
                current.home,
                current.published_warehouse,
                REPO_ROOT,
                SUPERSET_PORT,
                provider_agbs=superset_security.agbs_from_file_names(files),
                demo_users=True,
            ),
        )
        step(
            "start Airflow (api-server, scheduler, dag-processor, triggerer)",
            logs / "airflow-api-server.log",
            lambda: airflow.start(current, REPO_ROOT, AIRFLOW_PORT),
        )
        step("start Superset", logs / "superset.log", lambda: superset.start(current.home, SUPERSET_PORT))
        tokens = step(
            "start the submission service and issue a token per sample sender",
            submission_service.log_file(current),
            lambda: (submission_service.start(current, SERVICE_PORT), demo_tokens(current, files))[1],
        )
        expected = submission_ids(files)
        step(
            f"drop {len(files)} submissions into {current.inbox}",
            logs / "demo.log",
            lambda: drop_into_inbox(files, current.inbox),
        )
        waited = step(
            "wait until Airflow has ingested, built and published them",
            logs / "demo.log",
            lambda: wait_until_published(current, expected, timeout=1200),
        )
    except StepFailed as failure:
        print(f"\nFAILED: {failure}", flush=True)
        return 1

    airflow_login = airflow.credentials(current)
    print(
        f"""
Published {len(expected)} submissions in {waited:.0f} s.

  Dashboard (Superset):  http://127.0.0.1:{SUPERSET_PORT}/superset/dashboard/maatschappelijke-resultaten/
      user {admin["username"]}   password {admin["password"]}
      demo users per role (raad, controller, aanbieder-<agb>): {superset_security.demo_users_path(current.home)}
{demo_user_lines(current)}
  Airflow:               http://127.0.0.1:{AIRFLOW_PORT}/
      user {airflow_login["username"]}   password {airflow_login["password"]}
  Submission service:    http://127.0.0.1:{SERVICE_PORT}/   (API: /api/v1/submissions, docs/api.md)
      {len(tokens)} demo tokens, one per sender: {current.secrets}/demo-tokens.json
  Feedback reports:      {current.feedback}/<submission>.html
  Published warehouse:   {current.published_warehouse}

Credentials are stored in {current.secrets}. Drop more files into {current.inbox}; `make stop` stops the servers.
""",
        flush=True,
    )
    return 0


def stop_all() -> int:
    from outcome_monitor.stack import airflow, submission_service, superset

    current = paths()
    submission_service.stop(current)
    superset.stop(current.home)
    airflow.stop(current)
    print("stopped the submission service, Superset and Airflow")
    return 0
