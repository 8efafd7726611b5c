"""The submission service as a background process: pid file in <home>/run, log in <home>/logs."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from pathlib import Path

from outcome_monitor.config import Paths
from outcome_monitor.stack import process

NAME = "submission-service"
DEFAULT_PORT = 8090
HEALTH_TIMEOUT_S = 60


def _run_dir(paths: Paths) -> Path:
    return paths.home / "run"


def log_file(paths: Paths) -> Path:
    return paths.logs / f"{NAME}.log"


def start(
    paths: Paths,
    port: int = DEFAULT_PORT,
    host: str = "127.0.0.1",
    max_upload_bytes: int | None = None,
    timeout: float = HEALTH_TIMEOUT_S,
) -> int:
    """Start `outcome-monitor serve` detached and wait until it answers; return its pid."""
    run_dir = _run_dir(paths)
    if process.is_running(NAME, run_dir):
        return int((run_dir / f"{NAME}.pid").read_text())
    argv = [sys.executable, "-m", "outcome_monitor.cli", "serve", "--host", host, "--port", str(port)]
    if max_upload_bytes is not None:
        argv += ["--max-upload-bytes", str(max_upload_bytes)]
    env = {**os.environ, "OUTCOME_MONITOR_HOME": str(paths.home)}
    pid = process.start(NAME, argv, env, run_dir, paths.logs)
    try:
        process.wait_for_http(f"http://{host}:{port}/health", timeout, "The submission service", log_file(paths))
    except RuntimeError:
        process.stop(NAME, run_dir)
        raise
    return pid


def stop(paths: Paths) -> bool:
    pid_file = _run_dir(paths) / f"{NAME}.pid"
    if pid_file.exists():
        # When this process started the server (tests, the demo), the exited server stays a zombie
        # until reaped, and process.stop would wait its whole timeout for the zombie to go away.
        threading.Thread(target=_reap, args=(int(pid_file.read_text()),), daemon=True).start()
    return process.stop(NAME, _run_dir(paths))


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):  # not our child: init reaps it
        os.waitpid(pid, 0)


def is_running(paths: Paths) -> bool:
    return process.is_running(NAME, _run_dir(paths))
