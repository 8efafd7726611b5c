"""The council dashboard, end to end: real Superset, real DuckDB file, headless Chromium.

One Superset server serves the whole module (see conftest.py). The browser test logs in through
the login form, as a council member would, and checks that every chart on
"Maatschappelijke resultaten" draws its data; the API tests compare the figures with the
warehouse and prove that the registered database can neither write nor read the server's files.
"""

from __future__ import annotations

import json
import re
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests
import yaml
from playwright.sync_api import sync_playwright
from superset_browser import log_in

from outcome_monitor.stack import superset

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "artifacts"

SLUG = "maatschappelijke-resultaten"
DASHBOARDS_DIR = REPO_ROOT / "dashboards"
DEFAULT_DOMEIN = "jeugd"  # the dashboard's required "Domein" filter starts on jeugd
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
RENDER_TIMEOUT_S = 90


# --------------------------------------------------------------------------------------------
# the assets as written in the repository


def _dashboard_yaml(slug: str = SLUG) -> dict[str, Any]:
    dashboards = [yaml.safe_load(p.read_text()) for p in (DASHBOARDS_DIR / "dashboards").glob("*.yaml")]
    (dashboard,) = [d for d in dashboards if d["slug"] == slug]
    return dashboard


def _charts_yaml() -> dict[str, dict[str, Any]]:
    """Chart YAML by slice name, for the charts placed on the dashboard."""
    placed = {
        node["meta"]["uuid"]
        for node in _dashboard_yaml()["position"].values()
        if isinstance(node, dict) and node.get("type") == "CHART"
    }
    charts = [yaml.safe_load(p.read_text()) for p in (DASHBOARDS_DIR / "charts").glob("*.yaml")]
    return {chart["slice_name"]: chart for chart in charts if chart["uuid"] in placed}


# --------------------------------------------------------------------------------------------
# the warehouse: what the charts must show


@pytest.fixture(scope="module")
def warehouse(superset_server) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(superset_server["warehouse"]), read_only=True)
    yield con
    con.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> list[tuple]:
    return con.execute(sql, list(params)).fetchall()


def _indicator_values(con, indicator_code: str, domein: str = DEFAULT_DOMEIN) -> dict[tuple[str, str], float]:
    return {
        (period, gemeente): value
        for period, gemeente, value in _rows(
            con,
            "select period, gemeente_naam, value from rpt_raad__indicatoren "
            "where indicator_code = ? and domein = ? and period_type = 'halfjaar' and informant = '*'",
            indicator_code,
            domein,
        )
    }


def _pivoted(data: list[dict[str, Any]], index: str) -> dict[tuple[Any, str], float]:
    """Superset's pivoted time-series result ({index, <series>: value}) as {(index, series): value}."""
    return {(row[index], series): value for row in data for series, value in row.items() if series != index}


def _approx(mapping: dict) -> dict:
    return {key: pytest.approx(value, rel=1e-9) if value is not None else None for key, value in mapping.items()}


def _euro(amount: float) -> str:
    """Dutch thousands separators, as the dashboard's D3 locale formats ',.0f' with currency EUR."""
    return "€ " + f"{round(amount):,}".replace(",", ".")


# --------------------------------------------------------------------------------------------
# 1. the browser


_CHART_STATE_JS = """
(colors) => {
  const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const targets = Object.entries(colors).map(([name, hex]) => [name, rgb(hex)]);
  return Array.from(document.querySelectorAll('[data-test="chart-grid-component"]')).map((chart) => {
    const state = {
      id: chart.getAttribute('data-test-chart-id'),
      name: chart.getAttribute('data-test-chart-name'),
      viz: chart.getAttribute('data-test-viz-type'),
      loading: chart.querySelectorAll('[data-test="loading-indicator"], .loading').length,
      errors: Array.from(chart.querySelectorAll('.ant-alert, [data-test="empty-state"]'))
        .map((el) => el.innerText.trim()).filter(Boolean),
      text: chart.innerText.slice(0, 2000),
      tableRows: chart.querySelectorAll('table tbody tr').length,
      bigNumber: (chart.querySelector('.header-line') || {}).innerText || null,
      colorPixels: {},
      painted: 0,
    };
    const canvas = chart.querySelector('canvas');
    if (canvas && canvas.width > 0 && canvas.height > 0) {
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (const [name] of targets) state.colorPixels[name] = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] < 200) continue;
        const grey = Math.abs(data[i] - data[i + 1]) < 8 && Math.abs(data[i + 1] - data[i + 2]) < 8;
        if (!grey) state.painted += 1;  // coloured: bars and lines, not axes or text
        for (const [name, [r, g, b]] of targets) {
          if (Math.abs(data[i] - r) < 14 && Math.abs(data[i + 1] - g) < 14 && Math.abs(data[i + 2] - b) < 14) {
            state.colorPixels[name] += 1;
            break;
          }
        }
      }
    }
    return state;
  });
}
"""

# bar and line charts with one series per gemeente, each in the gemeente's colour
PER_GEMEENTE = {
    "Uitval per gemeente en halfjaar",
    "Volgens plan beëindigd per gemeente en halfjaar",
    "Gedeclareerd bedrag per maand per gemeente",
}
_FAILURE_TEXTS = ("No results", "Geen resultaten", "Er is een fout", "Unexpected error", "Error", "Fout:")


def _chart_problem(state: dict[str, Any], expected: dict[str, Any]) -> str | None:
    """Why this chart does not (yet) show its data, or None when it does."""
    if state["loading"]:
        return "still loading"
    if state["errors"]:
        return f"shows {state['errors']}"
    if any(text in state["text"] for text in _FAILURE_TEXTS):
        return f"shows an error or empty text: {state['text'][:200]!r}"
    viz = state["viz"]
    if viz in ("echarts_timeseries_bar", "echarts_timeseries_line") and state["name"] not in PER_GEMEENTE:
        return None if state["painted"] >= 400 else f"only {state['painted']} coloured pixels drawn"
    if viz in ("echarts_timeseries_bar", "echarts_timeseries_line"):
        # Each gemeente's series is drawn in its own colour: count the pixels of each colour on
        # the canvas (a legend key alone is about 100 pixels, bars and lines are thousands).
        missing = {name: n for name, n in state["colorPixels"].items() if n < 400}
        return f"too few pixels of series {missing}" if missing or not state["colorPixels"] else None
    if viz == "table":
        wanted = expected["table_rows"][state["name"]]
        if state["tableRows"] != wanted:
            return f"{state['tableRows']} table rows, expected {wanted}"
        return None
    if viz == "big_number_total":
        if state["bigNumber"] != expected["big_number"]:
            return f"big number {state['bigNumber']!r}, expected {expected['big_number']!r}"
        return None
    return f"no render check for viz type {viz}"


def test_council_dashboard_renders_every_chart_with_data(superset_server, warehouse, timings):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)")
    url = superset_server["url"]
    colors_by_gemeente = _dashboard_yaml()["metadata"]["label_colors"]
    # the region's municipalities (not the "Hele regio" total, which has no declared amounts)
    sql = "select distinct gemeente_naam from rpt_raad__indicatoren where gemeente_code <> '*'"
    gemeenten = {g for (g,) in _rows(warehouse, sql)}
    (table_rows,) = _rows(
        warehouse,
        "select count(*) from rpt_raad__indicatoren where domein = ? and period_type = 'halfjaar'",
        DEFAULT_DOMEIN,
    )[0]
    (total,) = _rows(warehouse, "select sum(bedrag_euro) from rpt_raad__gedeclareerd where domein = ?", DEFAULT_DOMEIN)[
        0
    ]
    table_rows = {
        "Indicatoren per gemeente en halfjaar": table_rows,
        "Afgesproken resultaten: stand van zaken": _rows(warehouse, "select count(*) from rpt_raad__afspraken")[0][0],
        "Afspraken per beoordeling": _rows(
            warehouse, "select count(*) from (select distinct period, beoordeling, status from rpt_raad__afspraken)"
        )[0][0],
        "Cliëntervaring per vraag, met 95%-interval": _rows(
            warehouse, "select count(*) from rpt_raad__clientervaring where domein = ?", DEFAULT_DOMEIN
        )[0][0],
    }
    expected = {"table_rows": table_rows, "big_number": _euro(total)}
    colors = {name: hex_ for name, hex_ in colors_by_gemeente.items() if name in gemeenten}
    assert colors, "no gemeente of the warehouse has a label colour in the dashboard YAML"

    external: list[tuple[str, str]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(bypass_csp=True, viewport={"width": 1600, "height": 1000}, locale="nl-NL")

            # Nothing may come from the internet: refuse it, and remember what was asked.
            def refuse(route):
                external.append((route.request.resource_type, route.request.url))
                route.abort()

            context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), refuse)
            page = context.new_page()
            log_in(page, url, superset_server["username"], superset_server["password"])

            started = time.monotonic()
            page.goto(f"{url}/superset/dashboard/{SLUG}/")
            page.wait_for_selector('[data-test="chart-grid-component"]', timeout=RENDER_TIMEOUT_S * 1000)
            deadline = started + RENDER_TIMEOUT_S
            while True:
                states = page.evaluate(_CHART_STATE_JS, colors)
                problems = {s["name"]: p for s in states if (p := _chart_problem(s, expected))}
                if states and not problems:
                    break
                if time.monotonic() > deadline:
                    page.screenshot(path=str(ARTIFACTS / "council-dashboard-failed.png"), full_page=True)
                    pytest.fail(f"charts not rendered after {RENDER_TIMEOUT_S} s: {problems}")
                page.wait_for_timeout(250)
            timings["dashboard_render_s"] = round(time.monotonic() - started, 1)
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / "council-dashboard-charts.json").write_text(
                json.dumps([{k: v for k, v in state.items() if k != "text"} for state in states], indent=2)
            )

            assert page.get_by_text("Maatschappelijke resultaten").first.is_visible()
            assert page.get_by_text("Lager is beter").first.is_visible()
            assert page.get_by_text("voorlopig").first.is_visible()

            # A full-page picture resizes the window and Superset redraws every chart: make the
            # window as tall as the page first, and wait for the redraw.
            height = page.evaluate("document.documentElement.scrollHeight")
            page.set_viewport_size({"width": 1600, "height": max(1000, height)})
            page.wait_for_timeout(500)
            redraw_deadline = time.monotonic() + RENDER_TIMEOUT_S
            while any(_chart_problem(s, expected) for s in page.evaluate(_CHART_STATE_JS, colors)):
                assert time.monotonic() < redraw_deadline, "charts not redrawn after resizing the window"
                page.wait_for_timeout(250)
            page.wait_for_timeout(800)  # let the bar animation settle for the picture
            page.screenshot(path=str(ARTIFACTS / "council-dashboard.png"), full_page=True)
        finally:
            browser.close()

    charts_in_yaml = _charts_yaml()
    assert len(states) == len(charts_in_yaml), (
        f"{len(states)} charts on the page, {len(charts_in_yaml)} placed in the dashboard YAML"
    )
    assert {s["name"] for s in states} == set(charts_in_yaml)
    # The page needs nothing from outside: at most Superset's telemetry pixel was attempted.
    assert all(kind == "image" for kind, _ in external), f"external resources requested: {external}"


# --------------------------------------------------------------------------------------------
# 2. the figures through the REST API


def _chart_ids(api) -> dict[str, int]:
    response = api.get(f"/api/v1/dashboard/{SLUG}/charts")
    assert response.status_code == 200, response.text
    return {chart["slice_name"]: chart["id"] for chart in response.json()["result"]}


def _chart_data(api, chart_id: int) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/chart/{chart_id}/data/")
    assert response.status_code == 200, response.text
    (result,) = response.json()["result"]
    return result["data"]


def _check_indicator_chart(indicator_code: str):
    def check(data, con):
        assert _pivoted(data, "period") == _approx(_indicator_values(con, indicator_code))

    return check


def _check_table(data, con):
    expected = _rows(
        con,
        "select period, gemeente_naam, domein, indicator_naam, informant, numerator, denominator, n, status, value, "
        "ci_lower, ci_upper, suppression_reden from rpt_raad__indicatoren "
        "where domein = ? and period_type = 'halfjaar'",
        DEFAULT_DOMEIN,
    )
    actual = [
        tuple(r[c] for c in ("period", "gemeente_naam", "domein", "indicator_naam", "informant", "numerator"))
        + tuple(r[c] for c in ("denominator", "n", "status", "value", "ci_lower", "ci_upper", "suppression_reden"))
        for r in data
    ]
    assert sorted(actual, key=repr) == sorted(expected, key=repr)
    # newest half-year first, as a council member reads it
    assert [r["period"] for r in data] == sorted((r["period"] for r in data), reverse=True)


def _check_amounts_per_month(data, con):
    expected = {
        (datetime(m.year, m.month, m.day, tzinfo=UTC), gemeente): amount
        for m, gemeente, amount in _rows(
            con,
            "select month_start_date, gemeente_naam, sum(bedrag_euro) from rpt_raad__gedeclareerd "
            "where domein = ? group by all",
            DEFAULT_DOMEIN,
        )
    }
    actual = {
        (datetime.fromtimestamp(ms / 1000, UTC), gemeente): amount
        for (ms, gemeente), amount in _pivoted(data, "month_start_date").items()
    }
    assert actual == _approx(expected)


def _check_total(data, con):
    (total,) = _rows(con, "select sum(bedrag_euro) from rpt_raad__gedeclareerd where domein = ?", DEFAULT_DOMEIN)[0]
    assert data == [{"gedeclareerd_euro": pytest.approx(total, rel=1e-9)}]


def _check_rows(sql: str, columns: tuple[str, ...], *params: Any):
    """The chart's rows are exactly the warehouse's rows for `sql` (same columns, any order)."""

    def check(data, con):
        expected = sorted(_rows(con, sql, *params), key=repr)
        assert sorted((tuple(r[c] for c in columns) for r in data), key=repr) == expected

    return check


def _check_pivot(sql: str, index: str, *params: Any):
    """A pivoted bar chart shows, per (index, series), the warehouse's value for `sql`."""

    def check(data, con):
        expected = {(key, series): value for key, series, value in _rows(con, sql, *params)}
        assert {k: v for k, v in _pivoted(data, index).items() if v is not None} == _approx(expected)

    return check


_AGREEMENT_COLUMNS = ("period", "indicator_naam", "gemeente_naam", "domein_naam", "baseline", "streefwaarde", "value")
_AGREEMENT_COLUMNS += ("n", "attainment", "beoordeling", "trend", "trend_reeks", "status")
_CEO_COLUMNS = ("period", "gemeente_naam", "domein", "vraag_code", "value", "ci_lower", "ci_upper", "n", "status")

CHART_CHECKS = {
    "Uitval per gemeente en halfjaar": _check_indicator_chart("UITVAL"),
    "Volgens plan beëindigd per gemeente en halfjaar": _check_indicator_chart("VOLGENS_PLAN"),
    "Indicatoren per gemeente en halfjaar": _check_table,
    "Gedeclareerd bedrag per maand per gemeente": _check_amounts_per_month,
    "Totaal gedeclareerd": _check_total,
    # every agreement, whatever its domain: the Domein filter does not apply to them
    "Afgesproken resultaten: stand van zaken": _check_rows(
        f"select {', '.join(_AGREEMENT_COLUMNS)} from rpt_raad__afspraken", _AGREEMENT_COLUMNS
    ),
    "Afspraken per beoordeling": _check_rows(
        "select period, beoordeling, status, count(*) from rpt_raad__afspraken group by all",
        ("period", "beoordeling", "status", "afspraken"),
    ),
    "Cliëntervaring per vraag, met 95%-interval": _check_rows(
        f"select {', '.join(_CEO_COLUMNS)} from rpt_raad__clientervaring where domein = ?", _CEO_COLUMNS, DEFAULT_DOMEIN
    ),
    "Cliëntervaring in de hele regio per vraag": _check_pivot(
        "select vraag_code, period, value from rpt_raad__clientervaring "
        "where gemeente_code = '*' and domein = ? and value is not null",
        "vraag_code",
        DEFAULT_DOMEIN,
    ),
    "Gedeclareerd per productcategorie en gemeente": _check_pivot(
        "select case when productcategorie = '*' then 'samengevoegd' else productcategorie end, gemeente_naam, "
        "sum(bedrag_euro) from rpt_raad__gedeclareerd where domein = ? group by all",
        "productcategorie_naam",
        DEFAULT_DOMEIN,
    ),
}


def test_chart_data_of_every_chart_matches_the_warehouse(api, warehouse):
    chart_ids = _chart_ids(api)
    assert set(chart_ids) == set(_charts_yaml()) == set(CHART_CHECKS)
    for name, chart_id in chart_ids.items():
        CHART_CHECKS[name](_chart_data(api, chart_id), warehouse)

    # a known cell, spelled out: Tynaarlo's uitval in 2025-H1 (jeugd) with its n and status
    numerator, denominator, value, status = _rows(
        warehouse,
        "select numerator, denominator, value, status from rpt_raad__indicatoren "
        "where indicator_code = 'UITVAL' and gemeente_code = '1730' and domein = 'jeugd' and period = '2025-H1'",
    )[0]
    table = _chart_data(api, chart_ids["Indicatoren per gemeente en halfjaar"])
    key = ("Tynaarlo", "2025-H1", "Uitval")
    (row,) = [r for r in table if (r["gemeente_naam"], r["period"], r["indicator_naam"]) == key]
    assert (row["numerator"], row["denominator"], row["status"]) == (numerator, denominator, status)
    assert row["value"] == pytest.approx(value)


def test_domein_filter_switches_the_indicator_charts_to_wmo(api, warehouse):
    chart_id = _chart_ids(api)["Uitval per gemeente en halfjaar"]
    chart = api.get(f"/api/v1/chart/{chart_id}").json()["result"]
    query_context = json.loads(chart["query_context"])
    for query in query_context["queries"]:
        query["filters"] = [f for f in query["filters"] if f["col"] != "domein"]
        query["filters"].append({"col": "domein", "op": "IN", "val": ["wmo"]})
    response = api.post("/api/v1/chart/data", json=query_context)
    assert response.status_code == 200, response.text
    data = response.json()["result"][0]["data"]
    assert _pivoted(data, "period") == _approx(_indicator_values(warehouse, "UITVAL", "wmo"))


# --------------------------------------------------------------------------------------------
# 3. the registered database: read-only, no access to the server's files


def _database(api) -> dict[str, Any]:
    databases = api.get("/api/v1/database/").json()["result"]
    assert [d["database_name"] for d in databases] == ["uitkomstenmonitor"]
    response = api.get(f"/api/v1/database/{databases[0]['id']}/connection")
    assert response.status_code == 200, response.text
    return response.json()["result"]


def _sql(api, database_id: int, sql: str) -> requests.Response:
    return api.post(
        "/api/v1/sqllab/execute/",
        json={
            "database_id": database_id,
            "sql": sql,
            "schema": "main",
            "runAsync": False,
            "client_id": f"e2e{time.monotonic_ns() % 10**7}",
        },
    )


def test_database_is_registered_read_only_without_file_access(api, superset_server):
    database = _database(api)
    assert database["sqlalchemy_uri"] == f"duckdb:///{superset_server['warehouse']}"
    assert database["allow_dml"] is False
    assert database["expose_in_sqllab"] is False
    extra = json.loads(database["extra"])
    assert extra["engine_params"]["connect_args"] == {"read_only": True, "config": {"enable_external_access": False}}

    # The settings reach the DuckDB connection Superset really uses (duckdb-engine passes them on).
    response = _sql(
        api,
        database["id"],
        "select readonly, current_setting('enable_external_access') as external_access "
        "from duckdb_databases() where not internal and database_name = current_database()",
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"] == [{"readonly": True, "external_access": False}]


def test_sql_cannot_read_files_of_the_server(api, superset_server):
    database_id = _database(api)["id"]
    readable = superset_server["home"] / "probe.csv"
    readable.write_text("geheim\n42\n")
    parquet = superset_server["home"] / "probe.parquet"
    con = duckdb.connect()
    con.execute(f"copy (select 42 as geheim) to '{parquet}' (format parquet)")
    con.close()
    for sql in (
        "select * from read_csv('/etc/passwd')",
        f"select * from read_csv('{readable}')",
        f"select * from read_parquet('{parquet}')",
        "select * from glob('/etc/*')",
        f"attach '{readable.with_suffix('.duckdb')}' as probe",
    ):
        response = _sql(api, database_id, sql)
        assert response.status_code != 200, f"{sql!r} was allowed: {response.text[:300]}"
        assert "disabled by configuration" in response.text or "Permission Error" in response.text, (sql, response.text)
        assert "42" not in json.dumps(response.json().get("data", []))


def test_chart_data_refuses_subqueries_reading_files(api):
    chart_id = _chart_ids(api)["Indicatoren per gemeente en halfjaar"]
    dataset_id = api.get(f"/api/v1/chart/{chart_id}").json()["result"]["query_context"]
    dataset_id = json.loads(dataset_id)["datasource"]["id"]
    base = {"datasource": {"id": dataset_id, "type": "table"}, "result_format": "json", "result_type": "full"}
    reading = "(select count(*) from read_csv('/etc/passwd'))"
    attempts = [
        {"columns": ["gemeente_naam"], "metrics": ["n"], "extras": {"where": f"1 = {reading}"}},
        {"columns": ["gemeente_naam"], "metrics": [{"expressionType": "SQL", "sqlExpression": reading, "label": "x"}]},
    ]
    for query in attempts:
        response = api.post("/api/v1/chart/data", json={**base, "queries": [query]})
        assert response.status_code in (400, 403), response.text
        assert "root:" not in response.text


def test_writes_are_refused_and_the_warehouse_is_unchanged(api, superset_server, warehouse):
    database_id = _database(api)["id"]
    (before,) = _rows(warehouse, "select count(*) from rpt_raad__indicatoren")[0]
    writes = (
        "insert into rpt_raad__indicatoren (indicator_code) values ('X')",
        "delete from rpt_raad__indicatoren",
        "create table probe as select 1 as x",
    )
    for sql in writes:  # Superset refuses: the database does not allow DML
        response = _sql(api, database_id, sql)
        assert response.status_code != 200, f"{sql!r} was allowed: {response.text[:300]}"
        assert "DML_NOT_ALLOWED_ERROR" in response.text

    # Even an administrator who switches DML on gets nowhere: DuckDB opened the file read-only.
    switched = api.session.put(f"{api.url}/api/v1/database/{database_id}", json={"allow_dml": True}, timeout=60)
    assert switched.status_code == 200, switched.text
    try:
        for sql in writes:
            response = _sql(api, database_id, sql)
            assert response.status_code != 200, f"{sql!r} was allowed: {response.text[:300]}"
            assert "read-only mode" in response.text, response.text[:300]
    finally:
        restored = api.session.put(f"{api.url}/api/v1/database/{database_id}", json={"allow_dml": False}, timeout=60)
        assert restored.status_code == 200, restored.text
    assert _database(api)["allow_dml"] is False

    (after,) = _rows(warehouse, "select count(*) from rpt_raad__indicatoren")[0]
    assert after == before
    assert not Path(f"{superset_server['warehouse']}.wal").exists()


# --------------------------------------------------------------------------------------------
# 4. and 5. set-up: idempotent, with a generated password kept private


def _count(api, resource: str) -> int:
    response = api.get(f"/api/v1/{resource}/", params={"q": "(page_size:100)"})
    assert response.status_code == 200, response.text
    return response.json()["count"]


def test_generated_password_is_private(superset_server):
    home: Path = superset_server["home"]
    password = superset_server["password"]
    assert password != "admin" and len(password) >= 16
    credentials_file = superset.credentials_path(home)
    assert json.loads(credentials_file.read_text()) == {"username": superset_server["username"], "password": password}
    for secret in (credentials_file, home / "secrets" / "superset-secret-key"):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600, secret
    assert stat.S_IMODE((home / "secrets").stat().st_mode) == 0o700
    for readable in (home / "logs" / "superset-setup.log", home / "superset" / "superset_config.py"):
        assert password not in readable.read_text(), readable
    # and the classic default does not work
    response = requests.post(
        f"{superset_server['url']}/api/v1/security/login",
        json={"username": "admin", "password": "admin", "provider": "db"},
        timeout=30,
    )
    assert response.status_code == 401


def test_setup_again_keeps_the_password_and_duplicates_nothing(superset_server, api, timings):
    home: Path = superset_server["home"]
    counts = {resource: _count(api, resource) for resource in ("dashboard", "chart", "dataset", "database")}
    in_yaml = {
        folder: len(list((DASHBOARDS_DIR / f"{folder}s").rglob("*.yaml")))
        for folder in ("dashboard", "chart", "dataset")
    }
    assert counts == {**in_yaml, "database": 1}

    started = time.monotonic()
    again = superset.setup(home, superset_server["warehouse"], REPO_ROOT)
    timings["setup_again_s"] = round(time.monotonic() - started, 1)

    assert again["password"] == superset_server["password"]
    assert again["username"] == superset_server["username"]
    assert {resource: _count(api, resource) for resource in counts} == counts
    response = api.get(f"/api/v1/dashboard/{SLUG}")
    assert response.status_code == 200
    assert response.json()["result"]["dashboard_title"] == "Maatschappelijke resultaten"


def test_setup_failure_names_the_step_and_the_log(tmp_path):
    with pytest.raises(superset.SupersetError) as failure:
        superset.setup(tmp_path, tmp_path / "published" / "missing.duckdb", REPO_ROOT)
    message = str(failure.value)
    assert "'warehouse'" in message
    assert str(tmp_path / "logs" / "superset-setup.log") in message


def test_assets_reference_each_other_by_uuid_only():
    """The YAML carries no ids, datasource references or paths of one installation."""
    files = {p.relative_to(DASHBOARDS_DIR).as_posix(): p.read_text() for p in DASHBOARDS_DIR.rglob("*.yaml")}
    loaded = {name: yaml.safe_load(text) for name, text in files.items()}
    assert loaded["metadata.yaml"]["type"] == "Dashboard"
    databases = {c["uuid"] for n, c in loaded.items() if n.startswith("databases/")}
    datasets = {c["uuid"]: c for n, c in loaded.items() if n.startswith("datasets/")}
    charts = {c["uuid"]: c for n, c in loaded.items() if n.startswith("charts/")}
    assert {d["database_uuid"] for d in datasets.values()} <= databases
    # dashboards only reach the reporting models (rpt_), never staging, intermediate or fact tables
    assert all(d["table_name"].startswith("rpt_") for d in datasets.values())
    assert {"rpt_raad__indicatoren", "rpt_raad__gedeclareerd"} <= {d["table_name"] for d in datasets.values()}
    assert {c["dataset_uuid"] for c in charts.values()} <= set(datasets)
    assert _dashboard_yaml()["dashboard_title"] == "Maatschappelijke resultaten"
    placed: list[str] = []
    dashboards = [c for n, c in loaded.items() if n.startswith("dashboards/")]
    assert len({d["uuid"] for d in dashboards}) == len({d["slug"] for d in dashboards}) == len(dashboards)
    for dashboard in dashboards:
        placed += [
            n["meta"]["uuid"]
            for n in dashboard["position"].values()
            if isinstance(n, dict) and n.get("type") == "CHART"
        ]
        for native_filter in dashboard["metadata"]["native_filter_configuration"]:
            assert {t["datasetUuid"] for t in native_filter["targets"]} <= set(datasets)
    assert sorted(placed) == sorted(charts), "every chart on exactly one dashboard"
    for chart in charts.values():
        assert "datasource" not in chart["params"] and "slice_id" not in chart["params"], chart["slice_name"]
        query_context = json.loads(chart["query_context"])
        assert "id" not in query_context["datasource"], chart["slice_name"]
    for name, text in files.items():
        assert "/tmp/" not in text and "/work/" not in text and "/home/" not in text, name
