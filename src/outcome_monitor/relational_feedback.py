"""Bring the relational findings of a published build into the providers' feedback reports.

Ingest writes a report per submission the moment a file arrives; the checks against other data
(toewijzing, contract tariff, earlier declarations, corrections, volumes) only exist after a dbt
build, in ``fct_finding`` and ``fct_declaration_line`` of the published warehouse. After each
publish, :func:`update_feedback_reports` rewrites ``feedback/<submission_id>.json`` and ``.html``
for every submission whose relational verdict is not what its report says yet.

The ingest-time report stays intact under the key ``"ingest"`` (and in the raw zone as
``report.json``); the top level is always recomputed from it plus the current relational
findings, so running this twice, or after a build in which nothing changed, rewrites nothing.
A finding that disappears in a later build (the toewijzing arrived after the declaration) leaves
the report again, with updated counts.
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from outcome_monitor.config import Paths
from outcome_monitor.feedback import status_for, write_report
from outcome_monitor.raw_zone import read_document

RELATIONAL_KEY = "relational"
INGEST_KEY = "ingest"


def update_feedback_reports(warehouse_path: Path | str, paths: Paths) -> list[str]:
    """Rewrite the feedback report of each submission whose relational outcome changed.

    Returns the submission ids whose report was rewritten (sorted). Reads the published
    warehouse read-only; a submission without an ingest report anywhere is skipped.
    """
    build = _read_build(Path(warehouse_path))
    candidates = set(build["relational"]) | _submissions_with_relational_section(paths.feedback)
    rewritten = []
    for submission_id in sorted(candidates):
        current = _read_json(paths.feedback / f"{submission_id}.json")
        ingest_report = _ingest_report(paths, submission_id, current)
        if ingest_report is None:
            continue
        relational = build["relational"].get(submission_id, _empty_relational())
        if current is not None and _verdict(current.get(RELATIONAL_KEY)) == _verdict(relational):
            continue
        section = {**relational, "evaluated_at": build["built_at"], "build_id": build["build_id"]}
        write_report(merge_report(ingest_report, section), paths.feedback)
        rewritten.append(submission_id)
    return rewritten


def merge_report(ingest_report: dict[str, Any], relational: dict[str, Any]) -> dict[str, Any]:
    """The provider's report: the ingest report with the relational findings and counts merged in.

    `relational` holds ``findings`` (code, severity, message, rows), ``counts`` (declaration
    lines ``rejected`` and ``superseded`` by the relational checks) and when/which build decided.
    Pure: the same inputs always give the same report.
    """
    ingest = copy.deepcopy(ingest_report)
    merged = copy.deepcopy(ingest_report)
    merged[INGEST_KEY] = ingest
    merged[RELATIONAL_KEY] = copy.deepcopy(relational)
    merged["relational_evaluated_at"] = relational.get("evaluated_at")
    merged["build_id"] = relational.get("build_id")

    by_code: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    for finding in copy.deepcopy(ingest.get("findings", [])) + copy.deepcopy(relational["findings"]):
        code = finding["code"]
        if code in by_code:
            by_code[code]["rows"].extend(finding["rows"])
        else:
            by_code[code] = finding
            order.append(code)
    file_findings = [code for code in order if all(row.get("line_number") is None for row in by_code[code]["rows"])]
    row_findings = sorted(code for code in order if code not in file_findings)
    merged["findings"] = [by_code[code] for code in file_findings + row_findings]

    counts = dict(ingest["counts"])
    newly_rejected = relational["counts"]["rejected"]
    counts["accepted"] = ingest["counts"]["accepted"] - newly_rejected
    counts["rejected"] = ingest["counts"]["rejected"] + newly_rejected
    counts["rejected_relational"] = newly_rejected
    counts["superseded"] = relational["counts"]["superseded"]
    merged["counts"] = counts
    if ingest.get("status") != "duplicate":
        merged["status"] = status_for(
            counts["received"], counts["accepted"], counts["rejected"], counts.get("messages_rejected", 0)
        )
    return merged


# --- reading -------------------------------------------------------------------------------------


def _read_build(warehouse_path: Path) -> dict[str, Any]:
    """Relational findings and counts per submission, and which build they come from."""
    import duckdb

    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        info = con.execute("select dbt_invocation_id, cast(built_at as varchar) from rpt_build_info").fetchone()
        findings = con.execute(
            """
            select submission_id, code, severity, message, member_name, line_number, referentienummer,
                toewijzingnummer
            from fct_finding
            where source = 'relationeel'
            order by submission_id, code, member_name, line_number
            """
        ).fetchall()
        counts = con.execute(
            """
            select
                submission_id,
                count(*) filter (where ingest_status = 'geaccepteerd' and status = 'afgewezen') as rejected,
                count(*) filter (where is_superseded) as superseded
            from fct_declaration_line
            group by submission_id
            having count(*) filter (where ingest_status = 'geaccepteerd' and status = 'afgewezen') > 0
                or count(*) filter (where is_superseded) > 0
            """
        ).fetchall()

    relational: dict[str, dict[str, Any]] = defaultdict(_empty_relational)
    grouped: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for submission_id, code, severity, message, member, line_number, referentienummer, toewijzingnummer in findings:
        finding = grouped[submission_id].setdefault(
            code, {"code": code, "severity": severity, "message": message, "rows": []}
        )
        row = {"member": member, "line_number": line_number}
        if referentienummer:
            row["referentienummer"] = referentienummer
        if toewijzingnummer:
            row["toewijzingnummer"] = toewijzingnummer
        finding["rows"].append(row)
    for submission_id, by_code in grouped.items():
        relational[submission_id]["findings"] = [by_code[code] for code in sorted(by_code)]
    for submission_id, rejected, superseded in counts:
        relational[submission_id]["counts"] = {"rejected": rejected, "superseded": superseded}
    return {
        "build_id": info[0] if info else None,
        "built_at": info[1] if info else None,
        "relational": dict(relational),
    }


def _empty_relational() -> dict[str, Any]:
    return {"findings": [], "counts": {"rejected": 0, "superseded": 0}}


def _verdict(section: dict[str, Any] | None) -> Any:
    """What decides whether a report must be rewritten: findings and counts, not the timestamps."""
    if section is None:
        return None
    return {"findings": section.get("findings"), "counts": section.get("counts")}


def _ingest_report(paths: Paths, submission_id: str, current: dict[str, Any] | None) -> dict[str, Any] | None:
    """The report ingest wrote: from the raw zone, else kept in the report, else the report itself."""
    stored = read_document(paths, submission_id, "report")
    if stored is not None:
        return stored
    if current is None:
        return None
    return current.get(INGEST_KEY, current)


def _submissions_with_relational_section(folder: Path) -> set[str]:
    """Reports that already carry relational findings: they must be revisited when those change."""
    if not folder.exists():
        return set()
    found = set()
    for path in folder.glob("*.json"):
        report = _read_json(path)
        if report and report.get(RELATIONAL_KEY):
            found.add(report.get("submission_id", path.stem))
    return found


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))
