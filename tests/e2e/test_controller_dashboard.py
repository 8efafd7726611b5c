"""The controller's year-end dashboard in a real Superset, and the auditor's package from the same warehouse.

The session's region (conftest.py) gets verslagjaar 2025 closed for real before Superset is set up
(``close_year``: build, snapshot, overlay, publish), so the dashboard shows one closed year with
its snapshot id next to the open 2026. The controller opens the dashboard in headless Chromium and
every chart must render with data; every chart's query must agree with the warehouse; the council
and the providers must be refused on every ``rpt_controller__`` dataset (they hold pseudonymised
detail lines); and the package exported from the published file carries the snapshot id and
the same totals as the dashboard.
"""

from __future__ import annotations

import json
import re
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest
import yaml
from conftest import ARTIFACTS, SupersetApi
from playwright.sync_api import sync_playwright
from superset_browser import log_in
from test_roles_and_dashboards import _CHART_STATE_JS, CHROMIUM, CHROMIUM_ARGS, RENDER_TIMEOUT_S, _render_problem

from outcome_monitor.config import Paths
from outcome_monitor.stack import superset_security as security

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
DASHBOARD_YAML = REPO_ROOT / "dashboards" / "dashboards" / "Controller.yaml"
CLOSED_YEAR = 2025
AS_OF = date(2026, 11, 22)
CONTROLLER_PREFIX = "rpt_controller__"


@pytest.fixture(scope="session")
def published_warehouse(published_warehouse: Path, home: Path) -> Path:
    """The session's warehouse with verslagjaar 2025 closed: a real close, so the overlay tables exist."""
    from outcome_monitor.year_end.close import close_year

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OUTCOME_MONITOR_HOME", str(home))
        close_year(Paths(home), CLOSED_YEAR, who="controller-e2e", as_of_date=AS_OF)
    return published_warehouse


@pytest.fixture(scope="module")
def warehouse(superset_server):
    con = duckdb.connect(str(superset_server["warehouse"]), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def controller(superset_server, demo_users) -> SupersetApi:
    return SupersetApi(
        superset_server["url"], security.ROLE_CONTROLLER, demo_users[security.ROLE_CONTROLLER]["password"]
    )


@pytest.fixture(scope="module")
def charts(api) -> dict[str, dict[str, Any]]:
    """The controller dashboard's charts by name: id, dataset id, viz type."""
    dashboard = api.get(f"/api/v1/dashboard/{security.CONTROLLER_DASHBOARD}")
    assert dashboard.status_code == 200, dashboard.text[:300]
    found = {}
    for chart in api.get(f"/api/v1/dashboard/{security.CONTROLLER_DASHBOARD}/charts").json()["result"]:
        found[chart["slice_name"]] = {
            "id": chart["id"],
            "dataset_id": int(chart["form_data"]["datasource"].split("__")[0]),
            "dashboard_id": dashboard.json()["result"]["id"],
        }
    return found


def _placed_chart_names() -> set[str]:
    position = yaml.safe_load(DASHBOARD_YAML.read_text())["position"]
    return {n["meta"]["sliceName"] for n in position.values() if isinstance(n, dict) and n.get("type") == "CHART"}


def _chart_rows(client: SupersetApi, chart_id: int) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/chart/{chart_id}/data/")
    assert response.status_code == 200, response.text[:300]
    return response.json()["result"][0]["data"]


def _cents(euros: float | None) -> int:
    return int((Decimal(repr(euros or 0.0)) * 100).to_integral_value())


# --------------------------------------------------------------------------------------------


def test_the_close_is_in_the_published_warehouse(warehouse):
    rows = warehouse.execute(
        "select verslagjaar, status, snapshot_id from rpt_controller__jaarstatus order by verslagjaar"
    ).fetchall()
    statuses = {year: (status, snapshot) for year, status, snapshot in rows}
    assert statuses[CLOSED_YEAR][0] == "afgesloten" and statuses[CLOSED_YEAR][1]
    assert statuses[2026] == ("open", None)


def test_controller_sees_every_chart_rendered_with_data(superset_server, demo_users, warehouse, timings):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)")
    url = superset_server["url"]
    (years,) = warehouse.execute("select count(*) from rpt_controller__jaarstatus").fetchone()
    (snapshot_id,) = warehouse.execute(
        "select snapshot_id from rpt_controller__jaarstatus where verslagjaar = ?", [CLOSED_YEAR]
    ).fetchone()
    (tested_years,) = warehouse.execute("select count(*) from rpt_controller__tolerantietoets").fetchone()
    expected_rows = {"Jaarstatus per verslagjaar": years, "Tolerantietoets per verslagjaar": tested_years}
    ARTIFACTS.mkdir(exist_ok=True)
    picture = ARTIFACTS / "dashboard-controller-jaarafsluiting.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(bypass_csp=True, viewport={"width": 1600, "height": 1000}, locale="nl-NL")
            context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
            page = context.new_page()
            log_in(page, url, security.ROLE_CONTROLLER, demo_users[security.ROLE_CONTROLLER]["password"])

            started = time.monotonic()
            page.goto(f"{url}/superset/dashboard/{security.CONTROLLER_DASHBOARD}/")
            page.wait_for_selector('[data-test="chart-grid-component"]', timeout=RENDER_TIMEOUT_S * 1000)
            states = _wait(page, expected_rows, started, picture)
            timings["render_controller_jaarafsluiting_s"] = round(time.monotonic() - started, 1)
            height = page.evaluate("document.documentElement.scrollHeight")
            page.set_viewport_size({"width": 1600, "height": max(1000, height)})
            page.wait_for_timeout(500)
            states = _wait(page, expected_rows, time.monotonic(), picture)
            page.wait_for_timeout(800)
            page.screenshot(path=str(picture), full_page=True)
            text = page.inner_text("body")
            context.close()
        finally:
            browser.close()
    assert {s["name"] for s in states} == _placed_chart_names()
    assert len(states) == len(_placed_chart_names()) >= 10
    assert snapshot_id in text, "the closed year's snapshot id is on the dashboard"
    assert "outcome-monitor export-year" in text, "the dashboard says how to get the auditor's package"
    (ARTIFACTS / "dashboard-controller-charts.json").write_text(
        json.dumps([{k: v for k, v in s.items() if k != "text"} for s in states], indent=2) + "\n"
    )


def _wait(page, expected_rows: dict[str, int], started: float, picture: Path) -> list[dict]:
    while True:
        states = page.evaluate(_CHART_STATE_JS)
        problems = {s["name"]: p for s in states if (p := _render_problem(s, expected_rows))}
        if states and not problems:
            return states
        if time.monotonic() - started > RENDER_TIMEOUT_S:
            page.screenshot(path=str(picture.with_suffix(".failed.png")), full_page=True)
            pytest.fail(f"controller dashboard: charts not rendered after {RENDER_TIMEOUT_S} s: {problems}")
        page.wait_for_timeout(250)


def test_every_chart_agrees_with_the_warehouse(controller, charts, warehouse):
    assert set(charts) == _placed_chart_names()
    for name, chart in charts.items():
        assert _chart_rows(controller, chart["id"]), f"{name}: no rows"

    status = _chart_rows(controller, charts["Jaarstatus per verslagjaar"]["id"])
    expected = warehouse.execute(
        "select verslagjaar, status, snapshot_id from rpt_controller__jaarstatus order by verslagjaar desc"
    ).fetchall()
    assert [(r["verslagjaar"], r["status"], r["snapshot_id"]) for r in status] == [tuple(e) for e in expected]

    (fouten, onzekerheden, lasten) = warehouse.execute(
        "select sum(fouten_cents), sum(onzekerheden_cents), sum(lasten_cents) from rpt_controller__tolerantietoets"
    ).fetchone()
    (fout_pct,) = _chart_rows(controller, charts["Fouten in % van de lasten"]["id"])[0].values()
    (onzekerheid_pct,) = _chart_rows(controller, charts["Onzekerheden in % van de lasten"]["id"])[0].values()
    assert fout_pct == pytest.approx(100 * fouten / lasten) and onzekerheid_pct == pytest.approx(
        100 * onzekerheden / lasten
    )
    tolerance = _chart_rows(controller, charts["Tolerantietoets per verslagjaar"]["id"])
    in_warehouse = dict(
        warehouse.execute("select verslagjaar, oordeel from rpt_controller__tolerantietoets").fetchall()
    )
    assert {r["verslagjaar"]: r["oordeel"] for r in tolerance} == in_warehouse

    (above,) = warehouse.execute("select count(*) from rpt_controller__reconciliatie where boven_drempel").fetchone()
    (count,) = _chart_rows(controller, charts["Verschillen boven de drempel"]["id"])[0].values()
    assert count == above
    reconciliation = _chart_rows(controller, charts["Reconciliatie: verschillen boven de drempel eerst"]["id"])
    flags = [r["boven_drempel_tekst"] for r in reconciliation]
    assert flags == sorted(flags, key=lambda f: f != "ja"), "differences above the threshold come first"
    assert flags.count("ja") == above

    per_provider = _chart_rows(controller, charts["Bevindingen per aanbieder"]["id"])
    for klasse, metric in (("fout", "fouten_euro"), ("onzekerheid", "onzekerheden_euro")):
        (cents,) = warehouse.execute(
            "select coalesce(sum(bedrag_cents), 0) from rpt_controller__bevindingen_per_aanbieder where klasse = ?",
            [klasse],
        ).fetchone()
        assert sum(_cents(r[metric]) for r in per_provider) == cents, klasse

    (accrued,) = warehouse.execute(
        "select coalesce(sum(bedrag_cents), 0) from rpt_controller__nog_te_betalen"
    ).fetchone()
    (total,) = _chart_rows(controller, charts["Nog te betalen (€)"]["id"])[0].values()
    assert _cents(total) == accrued

    changes = _chart_rows(controller, charts["Wijzigingen na afsluiting"]["id"])
    closed = [r for r in changes if r["verslagjaar"] == CLOSED_YEAR]
    (late,) = warehouse.execute(
        "select count(*) from rpt_controller__wijzigingen_na_afsluiting where verslagjaar = ?", [CLOSED_YEAR]
    ).fetchone()
    if late == 0:
        assert [r["wijziging"] for r in closed] == ["geen wijzigingen na afsluiting"]
    else:
        assert len(closed) == late
    assert {r["wijziging"] for r in changes if r["verslagjaar"] == 2026} == {"jaar niet afgesloten"}


def test_council_and_providers_never_reach_the_controller_datasets(superset_server, demo_users, charts, api):
    listed = api.get("/api/v1/dataset/", params={"q": "(page_size:100)"}).json()["result"]
    controller_datasets = {d["table_name"]: d["id"] for d in listed if d["table_name"].startswith(CONTROLLER_PREFIX)}
    assert {c["dataset_id"] for c in charts.values()} <= set(controller_datasets.values())
    assert "rpt_controller__bevindingen" in controller_datasets  # the pseudonymised detail lines

    controller = SupersetApi(
        superset_server["url"], security.ROLE_CONTROLLER, demo_users[security.ROLE_CONTROLLER]["password"]
    )
    seen = {
        d["table_name"] for d in controller.get("/api/v1/dataset/", params={"q": "(page_size:100)"}).json()["result"]
    }
    assert set(controller_datasets) <= seen

    providers = sorted(n for n in demo_users if n.startswith(security.PROVIDER_ROLE_PREFIX))
    for username in [security.ROLE_RAAD, providers[0]]:
        client = SupersetApi(superset_server["url"], username, demo_users[username]["password"])
        visible = {
            d["table_name"] for d in client.get("/api/v1/dataset/", params={"q": "(page_size:100)"}).json()["result"]
        }
        assert not {n for n in visible if n.startswith(CONTROLLER_PREFIX)}, username
        for name, dataset_id in controller_datasets.items():
            body = {
                "datasource": {"id": dataset_id, "type": "table"},
                "queries": [{"metrics": [{"expressionType": "SQL", "sqlExpression": "COUNT(*)", "label": "n"}]}],
                "result_format": "json",
                "result_type": "full",
            }
            assert client.post("/api/v1/chart/data", json=body).status_code == 403, (username, name)
        for name, chart in charts.items():  # not through the controller dashboard's context either
            response = client.get(f"/api/v1/chart/{chart['id']}/data/")
            assert response.status_code in (403, 404), (username, name, response.status_code)
        assert client.get(f"/api/v1/dashboard/{security.CONTROLLER_DASHBOARD}").status_code in (403, 404), username


def test_auditor_package_of_the_closed_year_matches_the_dashboard(superset_server, controller, charts, tmp_path):
    from outcome_monitor.year_end.export import export_year, verify

    result = export_year(CLOSED_YEAR, tmp_path / "pakket", superset_server["warehouse"])
    status = _chart_rows(controller, charts["Jaarstatus per verslagjaar"]["id"])
    (snapshot_id,) = [r["snapshot_id"] for r in status if r["verslagjaar"] == CLOSED_YEAR]
    assert result.status == "afgesloten" and result.snapshot_id == snapshot_id
    assert json.loads((result.out / "manifest.json").read_text())["snapshot_id"] == snapshot_id
    assert verify(result.out).ok

    workbook = openpyxl.load_workbook(result.out / f"jaarafsluiting-{CLOSED_YEAR}.xlsx", read_only=True)
    rows = list(workbook["Bevindingen per aanbieder"].iter_rows(values_only=True))
    header, body = rows[1], rows[2:]
    workbook_cents = sum(_cents(r[header.index("bedrag_euro")]) for r in body)
    dashboard = charts["Bevindingen per aanbieder"]
    filtered = controller.post(
        "/api/v1/chart/data",
        json={
            "datasource": {"id": dashboard["dataset_id"], "type": "table"},
            "queries": [
                {
                    "filters": [{"col": "verslagjaar", "op": "==", "val": CLOSED_YEAR}],
                    "metrics": [{"expressionType": "SQL", "sqlExpression": "SUM(bedrag_cents)", "label": "centen"}],
                }
            ],
            "result_format": "json",
            "result_type": "full",
        },
    )
    assert filtered.status_code == 200, filtered.text[:300]
    assert (
        workbook_cents
        == filtered.json()["result"][0]["data"][0]["centen"]
        == (result.totals_cents["Bevindingen per aanbieder"]["bedrag_cents"])
    )
    print(f"pakket {CLOSED_YEAR}: {result.rows} in {result.seconds:.1f} s")
