"""Logging in to Superset in headless Chromium, for the dashboard tests.

Superset keeps the session in a signed cookie. When the login form is sent, the login page also
sends its event log (``/superset/log/``) as it unloads; that request is anonymous, and its answer
(a redirect to the login, with a flashed message in a fresh session cookie) can arrive after the
login's answer and replace the logged-in cookie. The browser then lands on the login page again.
So: log in, check through ``/api/v1/me/`` that the session is a logged-in one, else log in again.
"""

from __future__ import annotations

from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ATTEMPTS = 3


def log_in(page: Page, url: str, username: str, password: str) -> None:
    for _ in range(ATTEMPTS):
        page.goto(f"{url}/login/")
        page.locator('[data-test="username-input"]').fill(username)
        page.locator('[data-test="password-input"]').fill(password)
        page.locator('[data-test="login-button"]').click()
        try:
            page.wait_for_url(lambda u: "/login" not in u, timeout=30_000)
        except PlaywrightTimeout:
            continue
        if page.request.get(f"{url}/api/v1/me/").ok:
            return
    raise AssertionError(f"{username} is after {ATTEMPTS} attempts still not logged in to Superset at {url}")
