"""Dashboards per role, row-level security and chart speed, against a real Superset and DuckDB file.

The session's Superset (conftest.py) is set up with demo users: ``raad``, ``controller`` and
``aanbieder-<agb>`` for every provider in the test warehouse. Each role opens its dashboard in
headless Chromium; providers ask the chart-data API of every dataset and every dashboard chart and
may only ever get their own rows and the regional benchmark (``*``); the council is refused on
the providers' datasets; a role nobody configured sees no row (deny by default); and every chart
query of every dashboard is timed through the chart-data API.
"""

from __future__ import annotations

import json
import re
import secrets
import statistics
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from conftest import ARTIFACTS, SupersetApi
from playwright.sync_api import sync_playwright
from superset_browser import log_in

from outcome_monitor.stack import superset_security as security

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS_DIR = REPO_ROOT / "dashboards"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RENDER_TIMEOUT_S = 120
COLUMN = security.PROVIDER_COLUMN
QUERY_REPEATS = 5


# --------------------------------------------------------------------------------------------
# helpers


def _dashboards_yaml() -> dict[str, dict[str, Any]]:
    docs = [yaml.safe_load(p.read_text()) for p in (DASHBOARDS_DIR / "dashboards").glob("*.yaml")]
    return {doc["slug"]: doc for doc in docs}


def _placed_chart_names(slug: str) -> set[str]:
    position = _dashboards_yaml()[slug]["position"]
    return {n["meta"]["sliceName"] for n in position.values() if isinstance(n, dict) and n.get("type") == "CHART"}


@pytest.fixture(scope="module")
def warehouse(superset_server):
    con = duckdb.connect(str(superset_server["warehouse"]), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def datasets(api) -> dict[str, dict[str, Any]]:
    """Every dataset of the installation (as the administrator sees them), by table name, with columns."""
    listed = api.get("/api/v1/dataset/", params={"q": "(page_size:100)"}).json()["result"]
    found = {}
    for item in listed:
        detail = api.get(f"/api/v1/dataset/{item['id']}").json()["result"]
        found[item["table_name"]] = {"id": item["id"], "columns": {c["column_name"] for c in detail["columns"]}}
    return found


@pytest.fixture(scope="module")
def dashboard_charts(api) -> dict[str, dict[str, Any]]:
    """Every dashboard by slug with its id and its charts (id, name, dataset id)."""
    found = {}
    for slug in _dashboards_yaml():
        dashboard = api.get(f"/api/v1/dashboard/{slug}")
        assert dashboard.status_code == 200, (slug, dashboard.text[:300])
        charts = api.get(f"/api/v1/dashboard/{slug}/charts").json()["result"]
        found[slug] = {
            "id": dashboard.json()["result"]["id"],
            "charts": [
                {"id": c["id"], "name": c["slice_name"], "dataset_id": c["form_data"]["datasource"].split("__")[0]}
                for c in charts
            ],
        }
    return found


def _login(users: dict[str, dict[str, str]], url: str, username: str) -> SupersetApi:
    return SupersetApi(url, username, users[username]["password"])


def _provider_users(users: dict[str, dict[str, str]]) -> list[str]:
    return sorted(name for name in users if name.startswith(security.PROVIDER_ROLE_PREFIX))


def _rows_per_provider(client: SupersetApi, dataset_id: int, form_data: dict | None = None):
    """The chart-data API's answer to "how many rows per aanbieder_agb" for one dataset."""
    body: dict[str, Any] = {
        "datasource": {"id": dataset_id, "type": "table"},
        "queries": [
            {
                "columns": [COLUMN],
                "metrics": [{"expressionType": "SQL", "sqlExpression": "COUNT(*)", "label": "rijen"}],
                "row_limit": 100000,
            }
        ],
        "result_format": "json",
        "result_type": "full",
    }
    if form_data:
        body["form_data"] = form_data
    return client.post("/api/v1/chart/data", json=body)


def _count_rows(client: SupersetApi, dataset_id: int):
    return client.post(
        "/api/v1/chart/data",
        json={
            "datasource": {"id": dataset_id, "type": "table"},
            "queries": [{"metrics": [{"expressionType": "SQL", "sqlExpression": "COUNT(*)", "label": "rijen"}]}],
            "result_format": "json",
            "result_type": "full",
        },
    )


# --------------------------------------------------------------------------------------------
# 1. each dashboard in the browser, as its role

_CHART_STATE_JS = """
() => Array.from(document.querySelectorAll('[data-test="chart-grid-component"]')).map((chart) => {
  const canvas = chart.querySelector('canvas');
  let painted = 0;
  if (canvas && canvas.width > 0 && canvas.height > 0) {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 4) {
      const grey = Math.abs(data[i] - data[i + 1]) < 8 && Math.abs(data[i + 1] - data[i + 2]) < 8;
      if (data[i + 3] > 200 && !grey) painted += 1;  // coloured pixels: bars and lines, not axes or text
    }
  }
  return {
    name: chart.getAttribute('data-test-chart-name'),
    viz: chart.getAttribute('data-test-viz-type'),
    loading: chart.querySelectorAll('[data-test="loading-indicator"], .loading').length,
    errors: Array.from(chart.querySelectorAll('.ant-alert, [data-test="empty-state"]'))
      .map((el) => el.innerText.trim()).filter(Boolean),
    text: chart.innerText.slice(0, 1000),
    tableRows: chart.querySelectorAll('table tbody tr').length,
    painted: painted,
  };
})
"""

_FAILURE_TEXTS = ("No results", "Geen resultaten", "Er is een fout", "Unexpected error", "Error", "Fout:")


def _render_problem(state: dict[str, Any], expected_rows: dict[str, int]) -> str | None:
    if state["loading"]:
        return "still loading"
    if state["errors"]:
        return f"shows {state['errors']}"
    if any(text in state["text"] for text in _FAILURE_TEXTS):
        return f"shows an error or empty text: {state['text'][:200]!r}"
    if state["viz"] == "table":
        wanted = expected_rows.get(state["name"])
        if state["tableRows"] == 0 or (wanted is not None and state["tableRows"] != wanted):
            return f"{state['tableRows']} table rows, expected {wanted or 'some'}"
        return None
    if state["viz"].startswith("echarts_"):
        return None if state["painted"] >= 400 else f"only {state['painted']} coloured pixels drawn"
    if state["viz"] == "big_number_total":
        return None if re.search(r"\d", state["text"]) else f"no number: {state['text']!r}"
    return f"no render check for viz type {state['viz']}"


def _wait_until_rendered(page, expected_rows: dict[str, int], started: float, picture: Path, what: str) -> list[dict]:
    """Poll the charts until every one shows its data; fail with a picture after RENDER_TIMEOUT_S."""
    while True:
        states = page.evaluate(_CHART_STATE_JS)
        problems = {s["name"]: p for s in states if (p := _render_problem(s, expected_rows))}
        if states and not problems:
            return states
        if time.monotonic() - started > RENDER_TIMEOUT_S:
            page.screenshot(path=str(picture.with_suffix(".failed.png")), full_page=True)
            pytest.fail(f"{what}: charts not rendered after {RENDER_TIMEOUT_S} s: {problems}")
        page.wait_for_timeout(250)


def _largest_provider(warehouse) -> str:
    (agb,) = warehouse.execute(
        "select aanbieder_agb from rpt_aanbieder__volledigheid where aanbieder_agb <> '*' "
        "group by all order by count(*) desc, aanbieder_agb limit 1"
    ).fetchone()
    return agb


def test_each_dashboard_renders_every_chart_for_its_role(superset_server, demo_users, warehouse, timings):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)")
    url = superset_server["url"]
    agb = _largest_provider(warehouse)
    (open_rows,) = warehouse.execute(
        "select count(*) from rpt_aanbieder__volledigheid where aanbieder_agb = ? "
        "and status in ('onvolledig', 'te_laat') and period_type in ('halfjaar', 'jaar')",
        [agb],
    ).fetchone()
    visits = [
        (security.ROLE_RAAD, security.COUNCIL_DASHBOARD, {}),
        (security.ROLE_CONTROLLER, security.CONTROLLER_DASHBOARD, {}),
        # RLS seen in the browser: the provider's table lists exactly its own open deliveries.
        (
            security.provider_role(agb),
            security.PROVIDER_DASHBOARD,
            {"Aanleveringen die nog niet compleet zijn": open_rows},
        ),
    ]
    ARTIFACTS.mkdir(exist_ok=True)
    report = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for username, slug, expected_rows in visits:
                context = browser.new_context(bypass_csp=True, viewport={"width": 1600, "height": 1000}, locale="nl-NL")
                context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
                page = context.new_page()
                log_in(page, url, username, demo_users[username]["password"])

                started = time.monotonic()
                page.goto(f"{url}/superset/dashboard/{slug}/")
                page.wait_for_selector('[data-test="chart-grid-component"]', timeout=RENDER_TIMEOUT_S * 1000)
                picture = ARTIFACTS / f"dashboard-{slug}-as-{username}.png"
                states = _wait_until_rendered(page, expected_rows, started, picture, f"{slug} as {username}")
                timings[f"render_{slug}_as_{username}_s"] = round(time.monotonic() - started, 1)
                # A full-page picture of a tall dashboard resizes the window, and Superset redraws
                # every chart: make the window as tall as the page and wait for the redraw first.
                height = page.evaluate("document.documentElement.scrollHeight")
                page.set_viewport_size({"width": 1600, "height": max(1000, height)})
                page.wait_for_timeout(500)
                _wait_until_rendered(page, expected_rows, time.monotonic(), picture, f"{slug} as {username}")
                page.wait_for_timeout(800)  # let the animations settle for the picture
                page.screenshot(path=str(picture), full_page=True)
                report[f"{slug} as {username}"] = [{k: v for k, v in s.items() if k != "text"} for s in states]
                assert {s["name"] for s in states} == _placed_chart_names(slug), (slug, username)
                assert len(states) == len(_placed_chart_names(slug))
                context.close()
        finally:
            browser.close()
    (ARTIFACTS / "dashboards-per-role.json").write_text(json.dumps(report, indent=2) + "\n")


# --------------------------------------------------------------------------------------------
# 2. providers: never a row of another provider


def test_no_provider_gets_a_row_of_another_provider(
    superset_server, api, demo_users, datasets, dashboard_charts, warehouse
):
    providers = _provider_users(demo_users)
    in_warehouse = {
        f"{security.PROVIDER_ROLE_PREFIX}{a}" for a in security.agbs_from_warehouse(superset_server["warehouse"])
    }
    assert providers and set(providers) == in_warehouse, "a demo user per provider in the warehouse"
    row_level = {name for name, d in datasets.items() if COLUMN in d["columns"]}
    assert "rpt_aanbieder__volledigheid" in row_level
    own_rows_seen = 0
    for username in providers:
        agb = username.removeprefix(security.PROVIDER_ROLE_PREFIX)
        client = _login(demo_users, superset_server["url"], username)
        reachable = set()
        for name, dataset in datasets.items():  # EVERY dataset of the installation, not only the listed ones
            if COLUMN in dataset["columns"]:
                response = _rows_per_provider(client, dataset["id"])
            else:
                response = _count_rows(client, dataset["id"])
            if response.status_code == 403:
                continue
            assert response.status_code == 200, (username, name, response.text[:300])
            reachable.add(name)
            assert name in row_level, f"{username} reaches {name}, which has no {COLUMN} to filter on"
            data = response.json()["result"][0]["data"]
            seen = {row[COLUMN]: row["rijen"] for row in data}
            assert set(seen) <= {agb, security.BENCHMARK_AGB}, (
                f"{username} sees rows of {set(seen) - {agb, '*'}} in {name}"
            )
            expected = dict(
                warehouse.execute(
                    f"select {COLUMN}, count(*) from {name} where {COLUMN} in (?, ?) group by all",
                    [agb, security.BENCHMARK_AGB],
                ).fetchall()
            )
            assert seen == expected, (username, name)
            own_rows_seen += seen.get(agb, 0)
        # what the provider can list is what it can reach: only the provider datasets
        listed = {
            d["table_name"] for d in client.get("/api/v1/dataset/", params={"q": "(page_size:100)"}).json()["result"]
        }
        assert listed == reachable == {n for n in row_level if n.startswith("rpt_aanbieder__")}, username

        # through a dashboard's context (DASHBOARD_RBAC grants datasets of granted dashboards)
        for slug, dashboard in dashboard_charts.items():
            for chart in dashboard["charts"]:
                dataset_name = next(n for n, d in datasets.items() if str(d["id"]) == chart["dataset_id"])
                if COLUMN not in datasets[dataset_name]["columns"]:
                    response = _count_rows(client, datasets[dataset_name]["id"])
                    assert response.status_code == 403, (username, slug, chart["name"])
                    continue
                form_data = {"dashboardId": dashboard["id"], "slice_id": chart["id"]}
                response = _rows_per_provider(client, datasets[dataset_name]["id"], form_data)
                if slug != security.PROVIDER_DASHBOARD:
                    assert response.status_code == 403, (username, slug, chart["name"], response.text[:200])
                    continue
                assert response.status_code == 200, response.text[:300]
                seen = {row[COLUMN] for row in response.json()["result"][0]["data"]}
                assert seen <= {agb, security.BENCHMARK_AGB}, (username, slug, chart["name"], seen)
        dashboards = {d["slug"] for d in client.get("/api/v1/dashboard/").json()["result"]}
        assert dashboards == {security.PROVIDER_DASHBOARD}, username
    assert own_rows_seen > 0, "the providers saw none of their own rows: the test proves nothing"


def test_a_role_nobody_configured_sees_no_row(superset_server, api, datasets):
    """Deny by default: a new role given access to a provider dataset, but in no row filter, sees 0 rows."""
    dataset = datasets["rpt_aanbieder__volledigheid"]
    admin_rows = _count_rows(api, dataset["id"]).json()["result"][0]["data"][0]["rijen"]
    assert admin_rows > 0
    wanted_view = f"[uitkomstenmonitor].[rpt_aanbieder__volledigheid](id:{dataset['id']})"
    pvm_id = None
    page = 0
    while pvm_id is None:
        response = api.get("/api/v1/security/permissions-resources/", params={"q": f"(page:{page},page_size:100)"})
        assert response.status_code == 200, response.text[:300]
        result = response.json()["result"]
        assert result, f"no permission datasource_access on {wanted_view}"
        for item in result:
            if item["permission"]["name"] == "datasource_access" and item["view_menu"]["name"] == wanted_view:
                pvm_id = item["id"]
        page += 1
    role = api.post("/api/v1/security/roles/", json={"name": f"proef-{secrets.token_hex(3)}"})
    assert role.status_code == 201, role.text[:300]
    role_id = role.json()["id"]
    granted = api.post(f"/api/v1/security/roles/{role_id}/permissions", json={"permission_view_menu_ids": [pvm_id]})
    assert granted.status_code == 200, granted.text[:300]
    roles = api.get("/api/v1/security/roles/", params={"q": "(page_size:100)"}).json()["result"]
    gamma_id = next(r["id"] for r in roles if r["name"] == "Gamma")
    password = secrets.token_urlsafe(16)
    username = f"proef-{secrets.token_hex(3)}"
    user = api.post(
        "/api/v1/security/users/",
        json={
            "username": username,
            "first_name": "Proef",
            "last_name": "Gebruiker",
            "active": True,
            "email": f"{username}@uitkomstenmonitor.invalid",
            "roles": [gamma_id, role_id],
            "password": password,
        },
    )
    assert user.status_code == 201, user.text[:300]
    client = SupersetApi(superset_server["url"], username, password)
    response = _rows_per_provider(client, dataset["id"])
    assert response.status_code == 200, response.text[:300]  # allowed the dataset, ...
    assert response.json()["result"][0]["data"] == []  # ... but not a single row


# --------------------------------------------------------------------------------------------
# 3. the council and the controller: refused on the providers' datasets, no SQL Lab


def test_council_is_refused_on_row_level_datasets(superset_server, demo_users, datasets, dashboard_charts):
    for username in (security.ROLE_RAAD, security.ROLE_CONTROLLER):
        client = _login(demo_users, superset_server["url"], username)
        listed = {
            d["table_name"] for d in client.get("/api/v1/dataset/", params={"q": "(page_size:100)"}).json()["result"]
        }
        allowed = ("rpt_raad__", "rpt_controller__") if username == security.ROLE_CONTROLLER else ("rpt_raad__",)
        assert listed == {n for n in datasets if n.startswith(allowed)}, username
        refused = [n for n in datasets if n.startswith("rpt_aanbieder__")]
        assert refused, "no provider dataset to be refused on"
        for name in refused:
            dataset_id = datasets[name]["id"]
            response = _rows_per_provider(client, dataset_id)
            assert response.status_code == 403, (username, name, response.text[:200])
            assert client.get(f"/api/v1/dataset/{dataset_id}").status_code in (403, 404), (username, name)
            provider = dashboard_charts[security.PROVIDER_DASHBOARD]
            for chart in provider["charts"]:  # not through the provider dashboard's context either
                form_data = {"dashboardId": provider["id"], "slice_id": chart["id"]}
                response = _rows_per_provider(client, int(chart["dataset_id"]), form_data)
                assert response.status_code == 403, (username, chart["name"])
        assert client.get(f"/api/v1/dashboard/{security.PROVIDER_DASHBOARD}").status_code in (403, 404), username
    # the council dashboard is the council's; the controller dashboard is not
    council = _login(demo_users, superset_server["url"], security.ROLE_RAAD)
    assert {d["slug"] for d in council.get("/api/v1/dashboard/").json()["result"]} == {security.COUNCIL_DASHBOARD}


def test_sql_lab_is_for_administrators_only(superset_server, api, demo_users):
    database_id = api.get("/api/v1/database/").json()["result"][0]["id"]
    body = {"database_id": database_id, "sql": "select 1 as x", "schema": "main", "runAsync": False}
    assert api.post("/api/v1/sqllab/execute/", json={**body, "client_id": "admin1"}).status_code == 200
    for username in (security.ROLE_RAAD, security.ROLE_CONTROLLER, _provider_users(demo_users)[0]):
        client = _login(demo_users, superset_server["url"], username)
        response = client.post("/api/v1/sqllab/execute/", json={**body, "client_id": f"{username[:6]}1"})
        assert response.status_code in (401, 403), (username, response.status_code, response.text[:200])


def test_demo_users_file_is_private_and_complete(superset_server, demo_users):
    path = security.demo_users_path(superset_server["home"])
    assert path.stat().st_mode & 0o777 == 0o600
    assert {security.ROLE_RAAD, security.ROLE_CONTROLLER} <= set(demo_users)
    assert all(len(user["password"]) >= 16 for user in demo_users.values())
    assert len({user["password"] for user in demo_users.values()}) == len(demo_users)


# --------------------------------------------------------------------------------------------
# 4. speed: every chart query of every dashboard through the chart-data API, as its role


def test_every_chart_query_answers_uncached_for_its_role(
    superset_server, demo_users, dashboard_charts, warehouse, timings
):
    roles = {
        security.COUNCIL_DASHBOARD: security.ROLE_RAAD,
        security.CONTROLLER_DASHBOARD: security.ROLE_CONTROLLER,
        security.PROVIDER_DASHBOARD: security.provider_role(_largest_provider(warehouse)),
    }
    assert set(roles) == set(dashboard_charts)
    measured: dict[str, dict[str, Any]] = {}
    for slug, username in roles.items():
        client = _login(demo_users, superset_server["url"], username)
        durations = []
        for chart in dashboard_charts[slug]["charts"]:
            for _ in range(QUERY_REPEATS):
                started = time.perf_counter()
                response = client.get(f"/api/v1/chart/{chart['id']}/data/", params={"force": "true"})
                durations.append(time.perf_counter() - started)
                assert response.status_code == 200, (slug, chart["name"], response.text[:300])
        durations.sort()
        p95 = durations[min(len(durations) - 1, round(0.95 * (len(durations) - 1)))]
        measured[slug] = {
            "as": username,
            "queries": len(durations),
            "p50_s": round(statistics.median(durations), 3),
            "p95_s": round(p95, 3),
            "max_s": round(durations[-1], 3),
        }
        print(
            f"{slug:<28} as {username:<20} {len(durations):>3} queries  p50 {measured[slug]['p50_s']:.3f} s  "
            f"p95 {measured[slug]['p95_s']:.3f} s"
        )
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "chart-query-times.json").write_text(json.dumps(measured, indent=2) + "\n")
    # Figures only: the 1-second target is judged by the benchmark (outcome_monitor.bench.charts) on a quiet
    # machine at scale, not by wall time in a test run that shares its cores.
    timings.update({f"chart_p95_{slug}_s": m["p95_s"] for slug, m in measured.items()})
