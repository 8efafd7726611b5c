"""The provider's feedback report per submission: JSON for machines, HTML for people, in Dutch.

Modelled on DHIS2's import summary and the iJw/iWmo retour messages: a status, counts, and the
findings grouped by code, each with the rows it concerns. A report never contains a BSN.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any

STATUS_NL = {
    "accepted": "Geaccepteerd",
    "partially_accepted": "Gedeeltelijk geaccepteerd",
    "rejected": "Afgewezen",
    "duplicate": "Al eerder ontvangen (dubbele aanlevering)",
}


def status_for(received: int, accepted: int, rejected: int, file_problems: int) -> str:
    if accepted == 0 and (rejected or file_problems or received == 0):
        return "rejected"
    if rejected or file_problems:
        return "partially_accepted"
    return "accepted"


def write_report(report: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    """Write `<submission_id>.json` and `.html` atomically; return both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / report["submission_id"]
    outputs = (
        (stem.with_suffix(".json"), json.dumps(report, ensure_ascii=False, indent=2)),
        (stem.with_suffix(".html"), render_html(report)),
    )
    for path, text in outputs:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    return outputs[0][0], outputs[1][0]


def row_label(row: dict[str, Any]) -> str:
    parts = [row.get("member") or ""]
    if row.get("line_number") is not None:
        parts.append(f"regel {row['line_number']}")
    for key, label in (("referentienummer", "referentie"), ("toewijzingnummer", "toewijzing")):
        if row.get(key):
            parts.append(f"{label} {row[key]}")
    if row.get("detail"):
        parts.append(str(row["detail"]))
    return ", ".join(part for part in parts if part)


def render_html(report: dict[str, Any]) -> str:
    esc = html.escape
    counts = report["counts"]
    findings = []
    for finding in report["findings"]:
        rows = "".join(f"<li>{esc(row_label(row))}</li>" for row in finding["rows"][:500])
        more = len(finding["rows"]) - 500
        if more > 0:
            rows += f"<li>… en nog {more} regels (zie het JSON-rapport)</li>"
        findings.append(
            f"<section><h3>{esc(finding['code'])} — {esc(finding['message'])}</h3>"
            f"<p>Ernst: {esc(finding['severity'])}; aantal: {len(finding['rows'])}</p><ul>{rows}</ul></section>"
        )
    body = "".join(findings) or "<p>Geen bevindingen: alle regels zijn geaccepteerd.</p>"
    return f"""<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>Terugkoppeling {esc(report["file_name"])}</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;line-height:1.4}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.2rem .6rem;text-align:left}}
h3{{margin-bottom:.2rem}}</style></head><body>
<h1>Terugkoppeling aanlevering</h1>
<table>
<tr><th>Bestand</th><td>{esc(report["file_name"])}</td></tr>
<tr><th>Aanlevering</th><td>{esc(report["submission_id"])}</td></tr>
<tr><th>SHA-256</th><td><code>{esc(report["sha256"])}</code></td></tr>
<tr><th>Ontvangen</th><td>{esc(report.get("received_at", ""))}</td></tr>
<tr><th>Status</th><td><strong>{esc(STATUS_NL.get(report["status"], report["status"]))}</strong></td></tr>
<tr><th>Regels ontvangen</th><td>{counts["received"]}</td></tr>
<tr><th>Geaccepteerd</th><td>{counts["accepted"]}</td></tr>
<tr><th>Afgewezen</th><td>{counts["rejected"]}</td></tr>
<tr><th>Vervangen (gecorrigeerd)</th><td>{counts.get("superseded", 0)}</td></tr>
<tr><th>Regels getoetst aan andere gegevens</th><td>{esc(report.get("relational_evaluated_at") or "nog niet")}</td></tr>
</table>
<h2>Bevindingen</h2>{body}</body></html>
"""
