"""The auditor's package from the controller dashboard: /jaarafsluiting/ in the real Superset server.

The session's region gets verslagjaar 2025 closed for real (unless test_controller_dashboard.py
already did): the close itself must put the package in the store. Users log in through
Superset's own login form (a browser session, as a person would); the controller lists the
packages and downloads the ZIP, which must unpack to a folder that verifies against its
manifest and whose totals equal the published warehouse's. The council, a provider and anonymous
visitors are refused, and so is every path that tries to leave the store.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date
from pathlib import Path

import pytest
import requests
from package_checks import assert_totals_equal_warehouse

from outcome_monitor.config import Paths
from outcome_monitor.stack import superset_security as security
from outcome_monitor.year_end.export import verify

pytestmark = pytest.mark.e2e

CLOSED_YEAR = 2025
AS_OF = date(2026, 11, 22)
PAGE = "/jaarafsluiting/"


@pytest.fixture(scope="module")
def closed_package(superset_server):
    """The package the close of 2025 put in the store (closing it here if no other module did)."""
    from outcome_monitor.year_end.audit import state_of
    from outcome_monitor.year_end.close import close_year
    from outcome_monitor.year_end.layout import YearEndLayout
    from outcome_monitor.year_end.package_store import stored_packages

    paths = Paths(superset_server["home"])
    layout = YearEndLayout.of(paths)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OUTCOME_MONITOR_HOME", str(paths.home))
        if not state_of(layout, CLOSED_YEAR).closed:
            close_year(paths, CLOSED_YEAR, who="controller-e2e", as_of_date=AS_OF)
    snapshot_id = state_of(layout, CLOSED_YEAR).snapshot_id
    made = [p for p in stored_packages(paths, CLOSED_YEAR) if p.snapshot_id == snapshot_id]
    assert made and made[0].ok, f"the close of {CLOSED_YEAR} left no intact package in {paths.exports}"
    return made[0]


def browser_login(url: str, username: str, password: str) -> requests.Session:
    """A session cookie from Superset's login form, as the browser's login page posts it."""
    session = requests.Session()
    page = session.get(f"{url}/login/", timeout=30)
    page.raise_for_status()
    token = re.search(r'id="csrf_token"[^>]*value="([^"]+)"', page.text) or re.search(
        r'"csrf_token":\s*"([^"]+)"', page.text
    )
    assert token, "no CSRF token on Superset's login page"
    response = session.post(
        f"{url}/login/",
        data={"username": username, "password": password, "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code in (302, 303) and "/login" not in response.headers.get("Location", ""), (
        username,
        response.status_code,
        response.headers.get("Location"),
    )
    return session


@pytest.fixture(scope="module")
def sessions(superset_server, demo_users) -> dict[str, requests.Session]:
    url = superset_server["url"]
    provider = sorted(n for n in demo_users if n.startswith(security.PROVIDER_ROLE_PREFIX))[0]
    logged_in = {
        name: browser_login(url, name, demo_users[name]["password"])
        for name in (security.ROLE_CONTROLLER, security.ROLE_RAAD, provider)
    }
    logged_in["admin"] = browser_login(url, superset_server["username"], superset_server["password"])
    logged_in["aanbieder"] = logged_in.pop(provider)
    return logged_in


def download_link(page: str, year: int, name: str) -> str:
    links = re.findall(rf'href="({PAGE}{year}/[^"]+/)"', page)
    assert f"{PAGE}{year}/{name}/" in links, links
    return f"{PAGE}{year}/{name}/"


# --------------------------------------------------------------------------------------------


def test_the_page_lists_the_closed_years_package_for_the_controller(superset_server, sessions, closed_package):
    response = sessions[security.ROLE_CONTROLLER].get(f"{superset_server['url']}{PAGE}", timeout=60)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    page = response.text
    assert f"Verslagjaar {CLOSED_YEAR}" in page and closed_package.snapshot_id in page
    assert "definitief" in page and "klopt met manifest.json" in page and "export_year" in page
    download_link(page, CLOSED_YEAR, closed_package.name)
    assert sessions["admin"].get(f"{superset_server['url']}{PAGE}", timeout=60).status_code == 200


def test_the_controller_downloads_a_zip_that_verifies_and_equals_the_warehouse(
    superset_server, sessions, closed_package, tmp_path
):
    url = superset_server["url"]
    controller = sessions[security.ROLE_CONTROLLER]
    link = download_link(controller.get(f"{url}{PAGE}", timeout=60).text, CLOSED_YEAR, closed_package.name)
    response = controller.get(f"{url}{link}", timeout=120)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Content-Type"] == "application/zip"
    folder_name = f"jaarafsluiting-{CLOSED_YEAR}-{closed_package.name}"
    assert f'filename="{folder_name}.zip"' in response.headers["Content-Disposition"]

    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.testzip() is None
        assert {Path(name).parent.name for name in archive.namelist()} == {folder_name}
        archive.extractall(tmp_path)
    unpacked = tmp_path / folder_name
    assert verify(unpacked).ok, verify(unpacked).problems
    manifest = json.loads((unpacked / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "afgesloten" and manifest["snapshot_id"] == closed_package.snapshot_id
    assert assert_totals_equal_warehouse(unpacked, superset_server["warehouse"], CLOSED_YEAR) >= 10


def test_the_council_and_providers_are_refused(superset_server, sessions, closed_package):
    url = superset_server["url"]
    for who in (security.ROLE_RAAD, "aanbieder"):
        for path in (PAGE, f"{PAGE}{CLOSED_YEAR}/{closed_package.name}/"):
            response = sessions[who].get(f"{url}{path}", timeout=60, allow_redirects=False)
            assert response.status_code == 403, (who, path, response.status_code)
            assert "alleen voor de controller" in response.text and not response.content.startswith(b"PK")


def test_anonymous_visitors_are_sent_to_the_login(superset_server, closed_package):
    url = superset_server["url"]
    for path in (PAGE, f"{PAGE}{CLOSED_YEAR}/{closed_package.name}/"):
        response = requests.get(f"{url}{path}", timeout=60, allow_redirects=False)
        assert response.status_code == 302, (path, response.status_code)
        assert response.headers["Location"].split("?")[0].endswith("/login/"), response.headers["Location"]
        assert not response.content.startswith(b"PK")


def test_paths_out_of_the_store_are_refused(superset_server, sessions, closed_package):
    url = superset_server["url"]
    controller = sessions[security.ROLE_CONTROLLER]
    name = closed_package.name
    attempts = [
        f"{PAGE}{CLOSED_YEAR}/..%2F..%2Fsecrets/",
        f"{PAGE}{CLOSED_YEAR}/..%2F..%2Fsecrets%2Fdemo-users.json/",
        f"{PAGE}{CLOSED_YEAR}/%2E%2E/",
        f"{PAGE}..%2F{CLOSED_YEAR}/{name}/",
        f"{PAGE}{CLOSED_YEAR}/{name}%2F..%2F..%2F..%2Fsecrets/",
        f"{PAGE}{CLOSED_YEAR + 1}/{name}/",
        f"{PAGE}{CLOSED_YEAR}/voorlopig-20990101T000000Z/",
    ]

    def send_as_written(path: str) -> requests.Response:
        """With the controller's session cookie, and no client-side normalisation of dots or escapes."""
        request = controller.prepare_request(requests.Request("GET", f"{url}{PAGE}"))
        request.url = f"{url}{path}"
        return controller.send(request, timeout=60, allow_redirects=False)

    assert send_as_written(f"{PAGE}{CLOSED_YEAR}/{name}/").status_code == 200  # the same way, a real package
    for path in attempts:
        response = send_as_written(path)
        assert response.status_code in (400, 403, 404), (path, response.status_code)
        assert not response.content.startswith(b"PK") and "password" not in response.text, path


def test_the_dashboard_links_to_the_page(api):
    dashboard = api.get(f"/api/v1/dashboard/{security.CONTROLLER_DASHBOARD}")
    assert dashboard.status_code == 200
    position = json.loads(dashboard.json()["result"]["position_json"])
    texts = [
        n["meta"].get("code", "") for n in position.values() if isinstance(n, dict) and n.get("type") == "MARKDOWN"
    ]
    linked = [t for t in texts if f"]({PAGE})" in t]
    assert linked and "Accountantspakket downloaden" in linked[0] and "export_year" in linked[0]
