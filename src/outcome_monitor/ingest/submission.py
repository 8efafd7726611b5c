"""Ingest one submitted file, from archive to feedback report.

Order matters for privacy and for "nothing lost": the file is archived before anything can fail,
the BSN is checked and pseudonymised before any row is written, rejected rows are written next
to accepted ones with their codes, and the rows, the report and the manifest are committed together
by one rename (see raw_zone), so a load killed half-way leaves nothing and a retry simply redoes it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from outcome_monitor.bsn import pseudonymise
from outcome_monitor.config import Paths, pseudonym_key
from outcome_monitor.feedback import status_for, write_report
from outcome_monitor.ingest.archive import archive_file, archive_path, sha256_of
from outcome_monitor.ingest.bundle import SubmissionRejected, members
from outcome_monitor.ingest.messages import MessageRejected, parse_message
from outcome_monitor.raw_zone import AlreadyCommitted, commit_submission, read_document, table_for
from outcome_monitor.validation.row_checks import check_rows

ACCEPTED, REJECTED = "geaccepteerd", "afgewezen"


def submission_id_for(sha256: str) -> str:
    # Derived from the content: a retry of the same file lands in the same place.
    return sha256[:20]


def manifest_path(paths: Paths, submission_id: str) -> Path:
    return paths.raw_submission(submission_id) / "manifest.json"


def ingest_file(
    path: Path,
    paths: Paths,
    *,
    original_name: str | None = None,
    received_at: datetime | None = None,
    submitted_by: str | None = None,
    from_archive: bool = False,
) -> dict[str, Any]:
    """Ingest `path`; return the feedback report (also written to ``feedback/``).

    `submitted_by` is who delivered the file (the submission service records the token's provider
    or municipality in ``uploads/<submission_id>.json``; that record is used when not given).
    `from_archive` marks a replay: `path` is already the archived copy, so no new receipt is made.
    """
    received_at = received_at or datetime.now(UTC)
    file_name = original_name or path.name
    sha256 = sha256_of(path)
    submission_id = submission_id_for(sha256)
    submitted_by = submitted_by or _uploaded_by(paths, submission_id)
    if not from_archive:
        archive_file(path, paths, file_name, received_at, submitted_by=submitted_by, sha256=sha256)
    base = {
        "submission_id": submission_id,
        "file_name": file_name,
        "sha256": sha256,
        "received_at": received_at.isoformat(),
    }
    if manifest_path(paths, submission_id).exists():
        return _duplicate(paths, base)

    file_findings: list[dict[str, Any]] = []
    rows_by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    senders: set[str] = set()
    messages = 0
    try:
        for member in members(path, file_name):
            messages += 1
            if member.problem:
                file_findings.append(_file_finding(member.problem, member.name))
                continue
            try:
                parsed = parse_message(member.data)
            except MessageRejected as problem:
                file_findings.append(_file_finding(problem, member.name))
                continue
            rows_by_type[parsed.message_type.record_type].extend(_provenance(parsed, member.name, submission_id))
            senders.add(parsed.header["afzender"] or "")
    except SubmissionRejected as problem:
        file_findings.append(_file_finding(problem, file_name))

    key = pseudonym_key()
    row_findings: dict[str, dict[str, Any]] = {}
    tables: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for record_type, rows in rows_by_type.items():
        result = check_rows(record_type, rows)
        accepted, rejected = [], []
        for row, codes in zip(rows, result.codes_per_row, strict=True):
            blocking = [code for code in codes if result.severity_of(code) == "afwijzing"]
            for code in codes:
                finding = row_findings.setdefault(
                    code,
                    {
                        "code": code,
                        "severity": result.severity_of(code),
                        "message": result.message_of(code),
                        "rows": [],
                    },
                )
                finding["rows"].append(_row_reference(row))
            row["client_pseudonym"] = pseudonymise(row.pop("bsn") or "", key)
            row["status"] = REJECTED if blocking else ACCEPTED
            row["finding_codes"] = codes
            (rejected if blocking else accepted).append(row)
        tables[record_type] = {"accepted": accepted, "rejected": rejected}

    received = sum(len(rows) for rows in rows_by_type.values())
    accepted_count = sum(len(t["accepted"]) for t in tables.values())
    rejected_count = sum(len(t["rejected"]) for t in tables.values())
    report = {
        **base,
        "status": status_for(received, accepted_count, rejected_count, len(file_findings)),
        "sender": sorted(senders)[0] if len(senders) == 1 else sorted(senders),
        "counts": {
            "received": received,
            "accepted": accepted_count,
            "rejected": rejected_count,
            "messages": messages,
            "messages_rejected": len(file_findings),
            "by_record_type": {
                record_type: {"accepted": len(t["accepted"]), "rejected": len(t["rejected"])}
                for record_type, t in tables.items()
            },
        },
        "findings": file_findings + sorted(row_findings.values(), key=lambda f: f["code"]),
    }
    manifest = {
        **base,
        "submitted_by": submitted_by,
        "archive_path": str(archive_path(sha256).as_posix()),
        "files": [
            {"record_type": record_type, "part": part, "rows": len(rows)}
            for record_type, parts in tables.items()
            for part, rows in parts.items()
        ],
        "status": report["status"],
        "counts": report["counts"],
    }
    arrow_tables = {
        record_type: {part: table_for(record_type, rows) for part, rows in parts.items()}
        for record_type, parts in tables.items()
    }
    try:
        # The report goes in with the rows: a submission is never committed without its report.
        commit_submission(paths, submission_id, arrow_tables, {"report": report, "manifest": manifest})
    except AlreadyCommitted:
        return _duplicate(paths, base)
    write_report(report, paths.feedback)
    return report


def _duplicate(paths: Paths, base: dict[str, Any]) -> dict[str, Any]:
    """The same content again: nothing changes. Restores the provider's report if a crash lost it."""
    submission_id = base["submission_id"]
    earlier = read_document(paths, submission_id, "manifest")
    if not (paths.feedback / f"{submission_id}.json").exists():
        write_report(read_document(paths, submission_id, "report"), paths.feedback)
    return {
        **base,
        "status": "duplicate",
        "duplicate_of": {"submission_id": submission_id, "received_at": earlier["received_at"]},
        "counts": {"received": 0, "accepted": 0, "rejected": 0},
        "findings": [],
    }


def _uploaded_by(paths: Paths, submission_id: str) -> str | None:
    record = paths.uploads / f"{submission_id}.json"
    if not record.exists():
        return None
    return json.loads(record.read_text(encoding="utf-8")).get("submitted_by")


def _provenance(parsed, member_name: str, submission_id: str) -> list[dict[str, Any]]:
    message_type, header = parsed.message_type, parsed.header
    from_municipality = message_type.record_type == "toewijzing"
    gemeente = header["afzender"] if from_municipality else header["ontvanger"]
    aanbieder = header["ontvanger"] if from_municipality else header["afzender"]
    return [
        {
            "submission_id": submission_id,
            "member_name": member_name,
            "message_id": header["message_id"],
            "line_number": number,
            "domein": message_type.domein,
            "berichtcode": message_type.berichtcode,
            "gemeente_code": gemeente,
            "aanbieder_agb": aanbieder,
            **record,
        }
        for number, record in enumerate(parsed.records, start=1)
    ]


def _row_reference(row: dict[str, Any]) -> dict[str, Any]:
    """How a report points at a row: never by BSN."""
    reference = {"member": row["member_name"], "line_number": row["line_number"]}
    for key in ("referentienummer", "toewijzingnummer"):
        if row.get(key):
            reference[key] = row[key]
    return reference


def _file_finding(problem: SubmissionRejected | MessageRejected, where: str) -> dict[str, Any]:
    return {
        "code": problem.code,
        "severity": "afwijzing",
        "message": problem.message,
        "rows": [{"member": where, "line_number": None, "detail": problem.detail}],
    }
