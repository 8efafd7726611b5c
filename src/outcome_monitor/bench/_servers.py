"""Running Airflow and Superset for a benchmark, and the little of their REST APIs it needs.

Both servers are started on free ports for a home that already holds a published warehouse, and
stopped when the ``with`` block ends, also on an error. A server this module did not start is never
stopped: if one already runs for the home, starting refuses rather than measure someone else's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from outcome_monitor.config import Paths

REPO_ROOT = Path(__file__).resolve().parents[3]
READY_TIMEOUT_S = 240.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def parse_time(value: str | None) -> float | None:
    """An Airflow timestamp (ISO 8601, UTC) as seconds since the epoch; None stays None."""
    return None if value is None else dt.datetime.fromisoformat(value).timestamp()


# --------------------------------------------------------------------------------------------
# Superset


class SupersetSession:
    """A logged-in admin session on Superset's REST API: JWT bearer plus CSRF token."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.url = url.rstrip("/")
        self.credentials = {"username": username, "password": password, "provider": "db", "refresh": False}
        self.login()

    def login(self) -> None:
        self.http = requests.Session()
        response = self.http.post(f"{self.url}/api/v1/security/login", json=self.credentials, timeout=30)
        response.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        csrf = self.http.get(f"{self.url}/api/v1/security/csrf_token/", timeout=30)
        csrf.raise_for_status()
        self.http.headers["X-CSRFToken"] = csrf.json()["result"]
        self.http.headers["Referer"] = self.url

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One request; after 401 (the access token lasts minutes, a benchmark longer) log in again once."""
        response = self.http.request(method, f"{self.url}{path}", **kwargs)
        if response.status_code == 401:
            self.login()
            response = self.http.request(method, f"{self.url}{path}", **kwargs)
        return response

    def get(self, path: str) -> dict[str, Any]:
        response = self._send("GET", path, timeout=60)
        if response.status_code != 200:
            raise RuntimeError(f"Superset GET {path}: HTTP {response.status_code}: {response.text[:300]}")
        return response.json()

    def dashboard_charts(self, slug: str) -> list[dict[str, Any]]:
        return self.get(f"/api/v1/dashboard/{slug}/charts")["result"]

    def chart(self, chart_id: int) -> dict[str, Any]:
        return self.get(f"/api/v1/chart/{chart_id}")["result"]

    def chart_by_uuid(self, uuid: str) -> dict[str, Any]:
        query = f"(filters:!((col:uuid,opr:eq,value:'{uuid}')),columns:!(id))"
        found = self.get(f"/api/v1/chart/?q={query}")["result"]
        if len(found) != 1:
            raise RuntimeError(f"Superset has {len(found)} charts with uuid {uuid}: are the dashboards imported?")
        return self.chart(found[0]["id"])

    def forced_query_context(self, chart: dict[str, Any]) -> dict[str, Any]:
        """The chart's saved query context with force=true: Superset's cache is bypassed, the query runs."""
        if not chart.get("query_context"):
            raise RuntimeError(f"chart {chart.get('slice_name')!r} has no saved query context")
        return {**json.loads(chart["query_context"]), "force": True}

    def chart_data(self, query_context: dict[str, Any]) -> list[dict[str, Any]]:
        """POST /api/v1/chart/data; the results (one per query), or an error naming the answer."""
        response = self._send("POST", "/api/v1/chart/data", json=query_context, timeout=300)
        if response.status_code != 200:
            raise RuntimeError(f"Superset chart-data: HTTP {response.status_code}: {response.text[:500]}")
        return response.json()["result"]


@dataclass(frozen=True)
class RunningSuperset:
    url: str
    username: str
    password: str

    def session(self) -> SupersetSession:
        return SupersetSession(self.url, self.username, self.password)


@contextlib.contextmanager
def running_superset(paths: Paths, port: int | None = None) -> Iterator[RunningSuperset]:
    """Superset set up for the home's published warehouse (dashboards imported) and running; stopped after."""
    from outcome_monitor.stack import superset

    port = port or free_port()
    credentials = superset.setup(paths.home, paths.published_warehouse, REPO_ROOT, port)
    superset.start(paths.home, port)
    try:
        yield RunningSuperset(f"http://127.0.0.1:{port}", credentials["username"], credentials["password"])
    finally:
        superset.stop(paths.home)


def superset_admin(paths: Paths) -> tuple[str, str]:
    """The admin credentials the home's Superset set-up generated."""
    from outcome_monitor.stack import superset

    stored = json.loads(superset.credentials_path(paths.home).read_text(encoding="utf-8"))
    return stored["username"], stored["password"]


# --------------------------------------------------------------------------------------------
# Airflow


class AirflowSession:
    """The REST API (v2) of a running Airflow, with a JWT."""

    def __init__(self, port: int, username: str, password: str) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.http = requests.Session()
        response = self.http.post(
            f"{self.base}/auth/token", json={"username": username, "password": password}, timeout=30
        )
        response.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.http.get(f"{self.base}/api/v2{path}", params=params, timeout=30)
        response.raise_for_status()
        return response.json()

    def status(self, path: str) -> int:
        return self.http.get(f"{self.base}/api/v2{path}", timeout=30).status_code

    def runs_since(self, dag_id: str, since: float) -> list[dict[str, Any]]:
        """The DAG's runs queued at or after `since` (epoch seconds), oldest first."""
        runs = self.get(f"/dags/{dag_id}/dagRuns", limit=100, order_by="-run_after")["dag_runs"]
        return sorted(
            (r for r in runs if (parse_time(r.get("queued_at")) or 0) >= since - 1),
            key=lambda r: r["queued_at"],
        )

    def consumed_events(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}/upstreamAssetEvents")["asset_events"]

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
        found = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
        return {ti["task_id"]: ti for ti in found}


@dataclass(frozen=True)
class RunningAirflow:
    port: int
    session: AirflowSession


def _wait_until_ready(session: AirflowSession, timeout: float, log: Path) -> None:
    """Both DAGs parsed and the inbox watched by a live triggerer: a drop from now on starts a run."""
    deadline = time.monotonic() + timeout
    missing = "the DAGs"
    while time.monotonic() < deadline:
        dags_ready = all(session.status(f"/dags/{d}") == 200 for d in ("ingest_submissions", "transform_publish"))
        assets = session.get("/assets", name_pattern="inbox")["assets"] if dags_ready else []
        watched = any(asset["watchers"] for asset in assets)
        triggerer = session.get("/monitor/health").get("triggerer", {}).get("status") == "healthy"
        if dags_ready and watched and triggerer:
            return
        missing = "the DAGs" if not dags_ready else "the inbox watcher" if not watched else "the triggerer"
        time.sleep(1)
    raise RuntimeError(f"Airflow not ready after {timeout:.0f} s: waiting for {missing}; see {log}")


@contextlib.contextmanager
def running_airflow(paths: Paths, port: int | None = None) -> Iterator[RunningAirflow]:
    """The four Airflow components for the home on a free port, ready for drops; stopped after."""
    from outcome_monitor.stack import airflow, process

    already = [c for c in airflow.COMPONENTS if process.is_running(f"airflow-{c}", paths.home / "run")]
    if already:
        raise RuntimeError(
            f"Airflow draait al voor {paths.home} ({', '.join(already)}): stop het eerst (make stop); "
            "een meting gebruikt een eigen Airflow"
        )
    port = port or free_port()
    airflow.init(paths, REPO_ROOT, port)
    try:
        airflow.start(paths, REPO_ROOT, port)
        login = airflow.credentials(paths)
        session = AirflowSession(port, login["username"], login["password"])
        _wait_until_ready(session, READY_TIMEOUT_S, paths.logs / "airflow-triggerer.log")
        yield RunningAirflow(port, session)
    finally:
        airflow.stop(paths)


def stop_servers_on_sigterm() -> None:
    """Make SIGTERM unwind like Ctrl-C, so the `with` blocks stop the servers (a background job ignores SIGINT)."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)
