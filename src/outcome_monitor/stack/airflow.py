"""Airflow on one machine: SQLite metadata (or PostgreSQL), the four Airflow 3 components, generated credentials.

Configuration is environment variables only (no airflow.cfg edits), so the same settings show up
in docker-compose for production with PostgreSQL instead of SQLite.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from outcome_monitor.config import Paths, secret_file
from outcome_monitor.stack import process

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
USER = "admin"
DB_URL_VARIABLE = "OUTCOME_MONITOR_AIRFLOW_DB_URL"


def _bin() -> Path:
    return Path(sys.executable).parent


def _secret(paths: Paths, name: str) -> str:
    return secret_file(paths.secrets / name)


def metadata_db_url(airflow_home: Path) -> str:
    """$OUTCOME_MONITOR_AIRFLOW_DB_URL (PostgreSQL in production), else SQLite in the home folder."""
    return os.environ.get(DB_URL_VARIABLE) or f"sqlite:///{airflow_home / 'airflow.db'}"


def environment(paths: Paths, repo_root: Path, port: int = 8080) -> dict[str, str]:
    airflow_home = paths.home / "airflow"
    env = {
        **os.environ,
        "PATH": f"{_bin()}{os.pathsep}{os.environ.get('PATH', '')}",
        "OUTCOME_MONITOR_HOME": str(paths.home),
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(repo_root / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__EXECUTOR": "outcome_monitor.stack.warm_executor.WarmLocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(paths.secrets / "airflow-passwords.json"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_db_url(airflow_home),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API__SECRET_KEY": _secret(paths, "airflow-api-secret"),
        "AIRFLOW__API_AUTH__JWT_SECRET": _secret(paths, "airflow-jwt-secret"),
        # New and changed DAG files are picked up within seconds, not minutes.
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(paths.logs / "airflow"),
        "GX_ANALYTICS_ENABLED": "False",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    return env


def credentials(paths: Paths) -> dict[str, str]:
    """The generated admin password, created on first use; never a default one."""
    file = paths.secrets / "airflow-passwords.json"
    if not file.exists():
        file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({USER: secrets.token_urlsafe(16)}, handle)
    return {"username": USER, "password": json.loads(file.read_text())[USER]}


def init(paths: Paths, repo_root: Path, port: int = 8080) -> None:
    """Create or migrate the metadata database; idempotent."""
    env = environment(paths, repo_root, port)
    credentials(paths)
    (paths.home / "airflow").mkdir(parents=True, exist_ok=True)
    log = paths.logs / "airflow-init.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as handle:
        result = subprocess.run(
            [str(_bin() / "airflow"), "db", "migrate"], env=env, stdout=handle, stderr=subprocess.STDOUT
        )
    if result.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed; see {log}")


def start(paths: Paths, repo_root: Path, port: int = 8080, timeout: float = 180) -> None:
    env = environment(paths, repo_root, port)
    for component in COMPONENTS:
        if not process.is_running(f"airflow-{component}", paths.home / "run"):
            argv = [str(_bin() / "airflow"), component]
            if component == "api-server":
                argv += ["--port", str(port), "--host", "127.0.0.1"]
            process.start(f"airflow-{component}", argv, env, paths.home / "run", paths.logs)
    process.wait_for_http(
        f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout, "Airflow", paths.logs / "airflow-api-server.log"
    )


def stop(paths: Paths) -> None:
    for component in reversed(COMPONENTS):
        process.stop(f"airflow-{component}", paths.home / "run")


class AirflowClient:
    """A little of the REST API (v2), with a JWT from /auth/token."""

    def __init__(self, port: int, username: str, password: str) -> None:
        import requests

        self.base = f"http://127.0.0.1:{port}"
        self.session = requests.Session()
        response = self.session.post(
            f"{self.base}/auth/token", json={"username": username, "password": password}, timeout=30
        )
        response.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def get(self, path: str, **params) -> dict:
        response = self.session.get(f"{self.base}/api/v2{path}", params=params, timeout=30)
        response.raise_for_status()
        return response.json()

    def patch(self, path: str, body: dict) -> dict:
        response = self.session.patch(f"{self.base}/api/v2{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def dag_runs(self, dag_id: str) -> list[dict]:
        return self.get(f"/dags/{dag_id}/dagRuns", limit=1000, order_by="-start_date")["dag_runs"]
