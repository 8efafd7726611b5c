"""End-to-end fixtures: one Superset server with the imported dashboards for the whole session.

The session builds a home folder under pytest's tmp, writes a published warehouse, runs
``setup()`` and ``start()`` on a free port, and stops the server at the end. Durations of the
set-up, the server start and the dashboard render are collected in ``timings`` and written to
``artifacts/e2e-timings.json``.
"""

from __future__ import annotations

import json
import socket
import time
from datetime import date
from pathlib import Path

import pytest
import requests

from outcome_monitor.stack import superset

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "artifacts"


@pytest.fixture(scope="session")
def timings() -> dict[str, float]:
    measured: dict[str, float] = {}
    yield measured
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "e2e-timings.json").write_text(json.dumps(measured, indent=2) + "\n")


@pytest.fixture(scope="session")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outcome-monitor-home")


@pytest.fixture(scope="session")
def published_warehouse(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real pipeline's output: a generated region, ingested and built without Airflow."""
    from outcome_monitor.build import build_and_publish
    from outcome_monitor.config import Paths
    from outcome_monitor.generate import generate
    from outcome_monitor.ingest import ingest_file

    region = tmp_path_factory.mktemp("region")
    generate(region, seed=11, scale=0.5, start=date(2025, 1, 1), end=date(2026, 6, 30))
    paths = Paths(home)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OUTCOME_MONITOR_HOME", str(home))
        for submission in sorted((region / "submissions").iterdir()):
            ingest_file(submission, paths)
        build_and_publish(paths, as_of_date=date(2026, 11, 22))
    return paths.published_warehouse


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def superset_server(home: Path, published_warehouse: Path, timings: dict[str, float]):
    """Superset set up under `home` and running on a free port; stopped after the session."""
    started = time.monotonic()
    credentials = superset.setup(home, published_warehouse, REPO_ROOT, demo_users=True)
    timings["setup_s"] = round(time.monotonic() - started, 1)
    port = _free_port()
    started = time.monotonic()
    pid = superset.start(home, port)
    timings["start_s"] = round(time.monotonic() - started, 1)
    url = f"http://127.0.0.1:{port}"
    try:
        yield {**credentials, "url": url, "pid": pid, "home": home, "warehouse": published_warehouse}
    finally:
        superset.stop(home)


class SupersetApi:
    """A logged-in REST client: JWT bearer token plus a CSRF token for write calls."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.url = url
        self.session = requests.Session()
        response = self.session.post(
            f"{url}/api/v1/security/login",
            json={"username": username, "password": password, "provider": "db", "refresh": False},
            timeout=30,
        )
        response.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        csrf = self.session.get(f"{url}/api/v1/security/csrf_token/", timeout=30)
        csrf.raise_for_status()
        self.session.headers["X-CSRFToken"] = csrf.json()["result"]
        self.session.headers["Referer"] = url

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(f"{self.url}{path}", timeout=60, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.session.post(f"{self.url}{path}", timeout=60, **kwargs)


@pytest.fixture(scope="session")
def api(superset_server) -> SupersetApi:
    return SupersetApi(superset_server["url"], superset_server["username"], superset_server["password"])


@pytest.fixture(scope="session")
def demo_users(superset_server) -> dict[str, dict[str, str]]:
    """The demo users the set-up made (raad, controller, aanbieder-<agb>), by user name."""
    from outcome_monitor.stack import superset_security

    document = json.loads(superset_security.demo_users_path(superset_server["home"]).read_text())
    return {user["username"]: user for user in document["users"]}
