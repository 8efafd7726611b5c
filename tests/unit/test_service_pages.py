"""The upload page and the API in one process (Starlette's test client): login, CSRF, escaping."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from references import EXAMPLES_IJW

from outcome_monitor.config import paths
from outcome_monitor.service import tokens
from outcome_monitor.service.app import Settings, create_app
from outcome_monitor.service.openapi import COMMITTED, current_spec, render
from outcome_monitor.service.pages import render_report

JW323 = (EXAMPLES_IJW / "JW323.xml").read_bytes()
PROVIDER = tokens.Principal("aanbieder", "65656055")


@pytest.fixture
def client(home):
    with TestClient(create_app(Settings(paths(), max_upload_bytes=1024 * 1024), warm=False)) as test_client:
        yield test_client


@pytest.fixture
def token(home):
    return tokens.issue(paths(), PROVIDER).token


def hidden_csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def login(client, token) -> str:
    page = client.get("/")
    response = client.post("/inloggen", data={"csrf": hidden_csrf(page.text), "token": token}, follow_redirects=False)
    assert response.status_code == 303
    return hidden_csrf(client.get("/").text)


def test_the_committed_openapi_document_is_the_apps_current_one():
    assert COMMITTED.read_text(encoding="utf-8") == render(current_spec()), (
        "docs/openapi.json is out of date: run .venv-pipeline/bin/python -m outcome_monitor.service.openapi"
    )


def test_login_sets_an_httponly_strict_cookie_and_shows_the_upload_form(client, token):
    first = client.get("/")
    assert first.status_code == 200 and "Inloggen" in first.text
    assert "<script" not in first.text and "http" not in first.text.split("</head>")[0].replace("http-equiv", "")
    assert "default-src 'none'" in first.headers["Content-Security-Policy"]
    response = client.post("/inloggen", data={"csrf": hidden_csrf(first.text), "token": token}, follow_redirects=False)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "om_token=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    home_page = client.get("/")
    assert "ingelogd als <strong>aanbieder 65656055</strong>" in home_page.text
    assert 'type="file"' in home_page.text and "Alleen controleren" in home_page.text


def test_login_refuses_a_form_without_its_nonce_and_unknown_tokens(client, token):
    client.get("/")
    assert client.post("/inloggen", data={"csrf": "geraden", "token": token}).status_code == 403
    page = client.get("/")
    refused = client.post("/inloggen", data={"csrf": hidden_csrf(page.text), "token": "fout"})
    assert refused.status_code == 401 and "onbekend of ingetrokken" in refused.text
    assert "om_token" not in client.cookies


def test_an_upload_without_the_sessions_csrf_token_is_refused(client, token, home):
    login(client, token)
    for csrf in ({}, {"csrf": "0" * 64}):
        response = client.post("/aanleveren", data=csrf, files={"file": ("JW323.xml", JW323)})
        assert response.status_code == 403
        assert "formulier is verlopen" in response.text
    assert not paths().inbox.exists() or list(paths().inbox.iterdir()) == []


def test_an_upload_from_the_page_is_delivered_and_its_page_refreshes_until_the_report_is_there(client, token):
    csrf = login(client, token)
    response = client.post(
        "/aanleveren", data={"csrf": csrf}, files={"file": ("JW323.xml", JW323)}, follow_redirects=False
    )
    assert response.status_code == 303
    location = response.headers["location"]
    submission_id = location.rsplit("/", 1)[1]
    assert [p.name for p in paths().inbox.iterdir()] == [f"{submission_id}-JW323.xml"]
    waiting = client.get(location)
    assert "wacht op verwerking" in waiting.text
    assert f'http-equiv="refresh" content="5;url=/aanleveringen/{submission_id}"' in waiting.text
    assert f'<a href="/aanleveringen/{submission_id}">Vernieuwen</a>' in waiting.text
    assert "JW323.xml" in client.get("/").text  # listed under "Uw aanleveringen"


def test_the_api_ignores_the_pages_cookie(client, token):
    login(client, token)
    assert client.get("/api/v1/submissions").status_code == 401


def test_a_report_is_rendered_in_dutch_with_everything_escaped():
    report = {
        "submission_id": "abc",
        "file_name": "<img src=x onerror=alert(1)>.xml",
        "received_at": "2025-06-01T10:00:00+00:00",
        "status": "partially_accepted",
        "counts": {
            "received": 2,
            "accepted": 1,
            "rejected": 1,
            "messages": 1,
            "messages_rejected": 0,
            "by_record_type": {"declaratie_regel": {"accepted": 1, "rejected": 1}},
        },
        "findings": [
            {
                "code": "8021",
                "severity": "afwijzing",
                "message": "Referentienummer is reeds aangeleverd.",
                "rows": [{"member": "JW323.xml", "line_number": 5, "referentienummer": "<script>alert(1)</script>"}],
            }
        ],
    }
    html = render_report(report)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Gedeeltelijk geaccepteerd" in html and "Declaratieregels" in html
    assert "8021 — Referentienummer is reeds aangeleverd." in html and "regel 5" in html
