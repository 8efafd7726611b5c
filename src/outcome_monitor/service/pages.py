"""The upload page in plain Dutch: log in with the token, choose a file, read the report.

Server-rendered HTML without scripts or external assets. After "inloggen" the token lives in an
HttpOnly, SameSite=Strict cookie; every form that changes something carries a CSRF token derived
from the session's token with the server's secret (and the login form a random one, checked
against a cookie), so another site cannot post on the user's behalf. Everything from a file or a
report is HTML-escaped.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import secrets
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from outcome_monitor.feedback import STATUS_NL, row_label
from outcome_monitor.service import submissions
from outcome_monitor.service.api import SUBMISSION_ID, settings_of
from outcome_monitor.service.intake import Refused, take_upload
from outcome_monitor.service.tokens import Principal, verify

SESSION_COOKIE = "om_token"
LOGIN_COOKIE = "om_login_csrf"
MAX_LOGIN_BODY = 8192
REFRESH_SECONDS = 5
ROWS_SHOWN = 200
RECORD_TYPES_NL = {
    "toewijzing": "Toewijzingen",
    "start_zorg": "Start zorg",
    "stop_zorg": "Stop zorg",
    "declaratie_regel": "Declaratieregels",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
esc = html.escape

router = APIRouter(include_in_schema=False)


def csrf_for(secret: bytes, token: str) -> str:
    return hmac.new(secret, b"csrf:" + token.encode(), hashlib.sha256).hexdigest()


def _session(request: Request) -> tuple[Principal, str] | tuple[None, None]:
    token = request.cookies.get(SESSION_COOKIE)
    principal = verify(settings_of(request).paths, token)
    return (principal, token) if principal else (None, None)


def _page(title: str, body: str, status_code: int = 200, refresh: str | None = None) -> HTMLResponse:
    meta = f'<meta http-equiv="refresh" content="{REFRESH_SECONDS};url={esc(refresh)}">' if refresh else ""
    document = f"""<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} — Aanleveren</title>{meta}
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.4}}
table{{border-collapse:collapse;margin:.5rem 0}}td,th{{border:1px solid #ccc;padding:.2rem .6rem;text-align:left}}
.fout{{border-left:4px solid #b00;padding:.4rem .8rem;background:#fee}}
.let-op{{border-left:4px solid #c80;padding:.4rem .8rem;background:#ffd}}
form{{margin:1rem 0}}label{{display:block;margin:.5rem 0}}</style></head>
<body><header><a href="/">Aanleveren</a></header><main>
<h1>{esc(title)}</h1>
{body}
</main></body></html>
"""
    return HTMLResponse(document, status_code=status_code, headers=SECURITY_HEADERS)


def _login_page(request: Request, message: str = "", status_code: int = 200) -> HTMLResponse:
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    error = f'<p class="fout" role="alert">{esc(message)}</p>' if message else ""
    body = f"""{error}
<p>Log in met het aanlevertoken dat u van de gemeente hebt gekregen.</p>
<form method="post" action="/inloggen">
<input type="hidden" name="csrf" value="{esc(nonce)}">
<label for="token">Aanlevertoken</label>
<input id="token" name="token" type="password" autocomplete="off" required size="50">
<p><button type="submit">Inloggen</button></p>
</form>"""
    response = _page("Inloggen", body, status_code)
    _set_cookie(request, response, LOGIN_COOKIE, nonce)
    return response


def _set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(name, value, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/")


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    principal, token = _session(request)
    if principal is None:
        return _login_page(request)
    csrf = csrf_for(request.app.state.csrf_secret, token)
    own = submissions.list_for(settings_of(request).paths, principal)
    rows = "".join(
        f'<tr><td><a href="/aanleveringen/{esc(item["submission_id"])}">{esc(item["original_name"] or "")}</a></td>'
        f"<td>{esc(item['received_at'] or '')}</td><td>{esc(item['status_nl'] or item['state_nl'])}</td></tr>"
        for item in own
    )
    listing = (
        f"<table><tr><th>Bestand</th><th>Ontvangen</th><th>Stand</th></tr>{rows}</table>"
        if rows
        else "<p>U hebt via deze pagina nog niets aangeleverd.</p>"
    )
    limit = request.app.state.settings.max_upload_bytes // (1024 * 1024)
    body = f"""<p>U bent ingelogd als <strong>{esc(principal.label)}</strong>.</p>
<form method="post" action="/uitloggen"><input type="hidden" name="csrf" value="{csrf}">
<button type="submit">Uitloggen</button></form>
<h2>Bestand aanleveren</h2>
<p>Een iJw- of iWmo-bericht (XML) of een ZIP-bundel daarvan, tot {limit} MB.
U mag alleen bestanden aanleveren waarin u zelf de afzender bent.</p>
<form method="post" action="/aanleveren" enctype="multipart/form-data">
<input type="hidden" name="csrf" value="{csrf}">
<label for="file">Bestand</label><input id="file" name="file" type="file" required>
<label><input type="checkbox" name="alleen_controleren" value="ja"> Alleen controleren
(er wordt niets opgeslagen; u ziet meteen het rapport)</label>
<p><button type="submit">Versturen</button></p>
</form>
<h2>Uw aanleveringen</h2>
{listing}"""
    return _page("Aanleveren", body)


@router.post("/inloggen")
async def login(request: Request) -> Response:
    fields = await _small_form(request)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not hmac.compare_digest(nonce, fields.get("csrf", "")):
        return _login_page(request, "Het formulier is verlopen. Probeer het opnieuw.", 403)
    token = fields.get("token", "").strip()
    if verify(settings_of(request).paths, token) is None:
        return _login_page(request, "Dit token is onbekend of ingetrokken.", 401)
    response = RedirectResponse("/", status_code=303)
    _set_cookie(request, response, SESSION_COOKIE, token)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/uitloggen")
async def logout(request: Request) -> Response:
    fields = await _small_form(request)
    principal, token = _session(request)
    if principal is not None and not hmac.compare_digest(
        csrf_for(request.app.state.csrf_secret, token), fields.get("csrf", "")
    ):
        return _page("Uitloggen", '<p class="fout">Het formulier is verlopen.</p>', 403)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/aanleveren")
async def upload(request: Request) -> Response:
    principal, token = _session(request)
    if principal is None:
        return _login_page(request, "Log eerst in.", 401)
    expected = csrf_for(request.app.state.csrf_secret, token)
    try:
        outcome = await take_upload(
            request,
            settings_of(request),
            principal,
            dry_run=False,
            form_check=lambda fields: hmac.compare_digest(expected, fields.get("csrf", "")),
        )
    except Refused as refused:
        body = f'<p class="fout" role="alert">{esc(refused.message)}</p><p><a href="/">Terug</a></p>'
        return _page("Niet aangenomen", body, refused.status_code)
    if outcome.dry_run:
        note = '<p class="let-op">Alleen gecontroleerd: er is niets opgeslagen of aangeleverd.</p>'
        return _page("Controle-uitslag", note + render_report(outcome.report) + '<p><a href="/">Terug</a></p>')
    return RedirectResponse(f"/aanleveringen/{outcome.delivered.submission_id}", status_code=303)


@router.get("/aanleveringen/{submission_id}", response_class=HTMLResponse)
def submission_page(submission_id: str, request: Request) -> Response:
    principal, _ = _session(request)
    if principal is None:
        return _login_page(request, "Log eerst in.", 401)
    state = None
    if SUBMISSION_ID.match(submission_id):
        state = submissions.state_for(settings_of(request).paths, submission_id, principal)
    if state is None:
        return _page("Niet gevonden", "<p>Deze aanlevering bestaat niet of is niet door u aangeleverd.</p>", 404)
    here = f"/aanleveringen/{submission_id}"
    if state["report"] is None:
        body = f"""<p>Uw bestand <strong>{esc(state["original_name"] or "")}</strong> is ontvangen
(aanlevering <code>{esc(submission_id)}</code>) en wacht op verwerking.
Het rapport verschijnt hier zodra het klaar is; deze pagina ververst zich elke {REFRESH_SECONDS} seconden.</p>
<p><a href="{esc(here)}">Vernieuwen</a> · <a href="/">Terug</a></p>"""
        return _page("Ontvangen", body, refresh=here)
    return _page("Terugkoppeling", render_report(state["report"]) + '<p><a href="/">Terug</a></p>')


def render_report(report: dict[str, Any]) -> str:
    """The feedback report as an HTML fragment, in Dutch; every value escaped."""
    counts = report["counts"]
    status = STATUS_NL.get(report["status"], report["status"])
    rows = [
        ("Bestand", report.get("file_name", "")),
        ("Aanlevering", report["submission_id"]),
        ("Ontvangen", report.get("received_at", "")),
        ("Status", status),
        ("Regels ontvangen", counts.get("received", 0)),
        ("Geaccepteerd", counts.get("accepted", 0)),
        ("Afgewezen", counts.get("rejected", 0)),
    ]
    if "messages" in counts:
        rows += [("Berichten", counts["messages"]), ("Berichten afgewezen", counts.get("messages_rejected", 0))]
    summary = "".join(f"<tr><th>{esc(label)}</th><td>{esc(str(value))}</td></tr>" for label, value in rows)
    duplicate = ""
    if report.get("duplicate_of"):
        duplicate = (
            f'<p class="let-op">Dit bestand is al eerder ontvangen op '
            f"{esc(str(report['duplicate_of'].get('received_at', '')))}; het is niet opnieuw verwerkt.</p>"
        )
    per_type = "".join(
        f"<tr><td>{esc(RECORD_TYPES_NL.get(kind, kind))}</td>"
        f"<td>{parts['accepted']}</td><td>{parts['rejected']}</td></tr>"
        for kind, parts in counts.get("by_record_type", {}).items()
    )
    per_type_table = (
        f"<h3>Per soort</h3><table><tr><th>Soort</th><th>Geaccepteerd</th><th>Afgewezen</th></tr>{per_type}</table>"
        if per_type
        else ""
    )
    return f"""<section id="rapport"><h2>Rapport: {esc(status)}</h2>{duplicate}
<table>{summary}</table>{per_type_table}
<h3>Bevindingen</h3>{_findings(report.get("findings", []))}</section>"""


def _findings(findings: list[dict[str, Any]]) -> str:
    if not findings:
        return "<p>Geen bevindingen: alle regels zijn geaccepteerd.</p>"
    sections = []
    for finding in findings:
        shown = finding["rows"][:ROWS_SHOWN]
        items = "".join(f"<li>{esc(row_label(row))}</li>" for row in shown)
        if len(finding["rows"]) > ROWS_SHOWN:
            items += f"<li>… en nog {len(finding['rows']) - ROWS_SHOWN} regels (zie het JSON-rapport via de API)</li>"
        severity = "afwijzing (regel niet geaccepteerd)" if finding["severity"] == "afwijzing" else finding["severity"]
        sections.append(
            f'<section class="bevinding"><h4>{esc(finding["code"])} — {esc(finding["message"])}</h4>'
            f"<p>Ernst: {esc(severity)}; aantal: {len(finding['rows'])}</p><ul>{items}</ul></section>"
        )
    return "".join(sections)


async def _small_form(request: Request) -> dict[str, str]:
    """A url-encoded form of at most MAX_LOGIN_BODY bytes (login, logout)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_LOGIN_BODY:
            return {}
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}
