"""The upload page in a real browser: log in with a token, check a file, deliver one, read the report.

A real submission service (uvicorn, its own process) on a free port and headless Chromium. The
test plays Airflow's part by ingesting the delivered inbox file itself, then follows the page's
"Vernieuwen" link to the report. The delivered file carries ``<script>`` as a referentienummer:
the page must show it as text and never run it.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from outcome_monitor.config import Paths
from outcome_monitor.service import tokens
from outcome_monitor.stack import submission_service

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_IJW = REPO_ROOT.parent / "shared" / "reference" / "istandaarden" / "ijw-3.2" / "voorbeeldberichten"
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
SCRIPT = "<script>1</script>"  # ReferentieNummer allows 20 characters


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    paths = Paths(tmp_path_factory.mktemp("upload-page-home"))
    port = _free_port()
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("OUTCOME_MONITOR_PSEUDONYM_KEY", raising=False)
        submission_service.start(paths, port)
    try:
        yield {
            "url": f"http://127.0.0.1:{port}",
            "paths": paths,
            "token": tokens.issue(paths, tokens.Principal("aanbieder", "65656055")).token,
        }
    finally:
        submission_service.stop(paths)


def test_a_provider_logs_in_checks_and_delivers_a_file_and_reads_the_dutch_report(service, tmp_path, monkeypatch):
    from outcome_monitor.ingest import ingest_file

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)")
    official = EXAMPLES_IJW / "JW323.xml"
    hostile = tmp_path / "declaratie-mei.xml"
    hostile.write_bytes(
        official.read_bytes().replace(b"RN004", SCRIPT.replace("<", "&lt;").replace(">", "&gt;").encode())
    )
    paths, url = service["paths"], service["url"]

    dialogs: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="nl-NL")
            context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
            page = context.new_page()
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

            page.goto(url)
            page.get_by_label("Aanlevertoken").fill(service["token"])
            page.get_by_role("button", name="Inloggen").click()
            expect(page.get_by_text("U bent ingelogd als")).to_contain_text("aanbieder 65656055")

            # Alleen controleren: the report at once, nothing delivered.
            page.get_by_label("Bestand").set_input_files(str(official))
            page.get_by_label("Alleen controleren").check()
            page.get_by_role("button", name="Versturen").click()
            expect(page.get_by_role("heading", name="Controle-uitslag")).to_be_visible(timeout=60_000)
            expect(page.get_by_text("er is niets opgeslagen")).to_be_visible()
            report = page.locator("#rapport")
            expect(report).to_contain_text("Gedeeltelijk geaccepteerd")
            expect(report.get_by_role("heading", name=re.compile("^8021 — .*reeds aangeleverd"))).to_be_visible()
            expect(report.get_by_role("row", name="Geaccepteerd 4", exact=True)).to_be_visible()
            assert not paths.inbox.exists() or list(paths.inbox.iterdir()) == []

            # A real delivery: "ontvangen" until ingest has run, then the report.
            page.get_by_role("link", name="Terug").click()
            page.get_by_label("Bestand").set_input_files(str(hostile))
            page.get_by_role("button", name="Versturen").click()
            expect(page.get_by_role("heading", name="Ontvangen")).to_be_visible()
            expect(page.get_by_text("wacht op verwerking")).to_be_visible()
            (delivered,) = paths.inbox.iterdir()
            assert delivered.name.endswith("-declaratie-mei.xml")

            monkeypatch.setenv("OUTCOME_MONITOR_HOME", str(paths.home))
            monkeypatch.delenv("OUTCOME_MONITOR_PSEUDONYM_KEY", raising=False)
            ingest_file(delivered, paths, original_name=delivered.name)

            page.get_by_role("link", name="Vernieuwen").click()
            expect(page.get_by_role("heading", name="Terugkoppeling")).to_be_visible()
            report = page.locator("#rapport")
            expect(report).to_contain_text("Gedeeltelijk geaccepteerd")
            expect(report).to_contain_text(f"referentie {SCRIPT}")  # shown as text ...
            assert page.locator("script").count() == 0  # ... never as an element
            page.get_by_role("link", name="Terug").click()
            expect(page.get_by_role("link", name=re.compile("declaratie-mei.xml"))).to_be_visible()
        finally:
            browser.close()
    assert dialogs == []
