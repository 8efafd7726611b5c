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

import duckdb
import pytest
import requests

from outcome_monitor.stack import superset

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "artifacts"

GEMEENTEN = [
    ("1731", "Midden-Drenthe"),
    ("1699", "Noordenveld"),
    ("1730", "Tynaarlo"),
    ("1969", "Westerkwartier"),
]
PERIODS = [("2024-H2", "definitief"), ("2025-H1", "definitief"), ("2025-H2", "voorlopig")]


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
def published_warehouse(home: Path) -> Path:
    """The published DuckDB file with the two tables the council dashboard reads.

    A stand-in for the pipeline's output (dbt's rpt_ models): the same table and column names
    and types, deterministic values for 4 gemeenten, 2 domains, 3 half-years and 18 months.
    """
    path = home / "published" / "warehouse.duckdb"
    path.parent.mkdir(parents=True, exist_ok=True)
    indicator_rows = []
    for g, (gemeente_code, gemeente_naam) in enumerate(GEMEENTEN):
        for d, domein in enumerate(("jeugd", "wmo")):
            for p, (period, status) in enumerate(PERIODS):
                denominator = 38 + 17 * g + 11 * p + 25 * (1 - d)
                uitval = round(denominator * (0.09 + 0.025 * g + 0.015 * d - 0.01 * p))
                volgens_plan = round(denominator * (0.72 - 0.03 * g - 0.02 * d + 0.015 * p))
                for code, naam, numerator in (
                    ("UITVAL", "Uitval", uitval),
                    ("VOLGENS_PLAN", "Volgens plan beëindigd", volgens_plan),
                ):
                    indicator_rows.append(
                        (
                            code,
                            naam,
                            gemeente_code,
                            gemeente_naam,
                            domein,
                            period,
                            numerator,
                            denominator,
                            numerator / denominator,
                            status,
                        )
                    )
    providers = {"jeugd": [("98000001", "45"), ("98000002", "43")], "wmo": [("98000003", "02"), ("98000004", "01")]}
    amount_rows = []
    for g, (gemeente_code, gemeente_naam) in enumerate(GEMEENTEN):
        for d, domein in enumerate(("jeugd", "wmo")):
            for a, (agb, productcategorie) in enumerate(providers[domein]):
                for m in range(18):  # July 2024 .. December 2025
                    month = date(2024 + (6 + m) // 12, (6 + m) % 12 + 1, 1)
                    lines = 40 + 9 * g + 5 * a + (m % 6) - 12 * d
                    cents = lines * (61_250 + 3_100 * g - 14_000 * d + 450 * (m % 4) + 1_700 * a)
                    amount_rows.append(
                        (gemeente_code, gemeente_naam, domein, agb, productcategorie, month, cents, cents / 100, lines)
                    )
    tmp = path.with_name("warehouse.next.duckdb")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        con.execute(
            """
            create table rpt_raad__indicatoren (
                indicator_code varchar, indicator_naam varchar, gemeente_code varchar,
                gemeente_naam varchar, domein varchar, period varchar, numerator bigint,
                denominator bigint, value double, status varchar)
            """
        )
        con.executemany("insert into rpt_raad__indicatoren values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", indicator_rows)
        con.execute(
            """
            create table rpt_raad__gedeclareerd (
                gemeente_code varchar, gemeente_naam varchar, domein varchar, aanbieder_agb varchar,
                productcategorie varchar, month_start_date date, bedrag_cents bigint,
                bedrag_euro double, line_count bigint)
            """
        )
        con.executemany("insert into rpt_raad__gedeclareerd values (?, ?, ?, ?, ?, ?, ?, ?, ?)", amount_rows)
        con.execute("checkpoint")
    finally:
        con.close()
    tmp.replace(path)  # published atomically, as the pipeline's publish step does
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def superset_server(home: Path, published_warehouse: Path, timings: dict[str, float]):
    """Superset set up under `home` and running on a free port; stopped after the session."""
    started = time.monotonic()
    credentials = superset.setup(home, published_warehouse, REPO_ROOT)
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
