"""Ingest one submitted file, from archive to feedback report.

Order matters for privacy and for "nothing lost": the file is archived before anything can fail,
the BSN is checked and pseudonymised before any row is written, rejected rows are written next
to accepted ones with their codes, and the submission manifest is written last, so a submission
without a manifest is an interrupted one that a retry simply redoes.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from outcome_monitor.bsn import pseudonymise
from outcome_monitor.config import Paths, pseudonym_key
from outcome_monitor.feedback import status_for, write_report
from outcome_monitor.ingest.archive import archive_file
from outcome_monitor.ingest.bundle import SubmissionRejected, members
from outcome_monitor.ingest.messages import MessageRejected, parse_message
from outcome_monitor.raw_schema import SCHEMAS
from outcome_monitor.raw_zone import ensure_schema_files
from outcome_monitor.validation.row_checks import check_rows

ACCEPTED, REJECTED = "geaccepteerd", "afgewezen"


def submission_id_for(sha256: str) -> str:
    # Derived from the content: a retry of the same file lands in the same place.
    return sha256[:20]


def manifest_path(paths: Paths, submission_id: str) -> Path:
    return paths.raw / "_submissions" / f"{submission_id}.json"


def ingest_file(
    path: Path, paths: Paths, *, original_name: str | None = None, received_at: datetime | None = None
) -> dict[str, Any]:
    """Ingest `path`; return the feedback report (also written to ``feedback/``)."""
    received_at = received_at or datetime.now(UTC)
    file_name = original_name or path.name
    archived = archive_file(path, paths, file_name, received_at)
    submission_id = submission_id_for(archived.sha256)
    base = {
        "submission_id": submission_id,
        "file_name": file_name,
        "sha256": archived.sha256,
        "received_at": received_at.isoformat(),
    }
    previous = manifest_path(paths, submission_id)
    if previous.exists():
        earlier = json.loads(previous.read_text(encoding="utf-8"))
        return {
            **base,
            "status": "duplicate",
            "duplicate_of": {"submission_id": submission_id, "received_at": earlier["received_at"]},
            "counts": {"received": 0, "accepted": 0, "rejected": 0},
            "findings": [],
        }

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

    written = _write_raw(paths, submission_id, tables)
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
    write_report(report, paths.feedback)
    _write_manifest(paths, submission_id, {**base, "archive_path": str(archived.path), "files": written,
                                            "status": report["status"], "counts": report["counts"]})
    return report


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


def _write_raw(paths: Paths, submission_id: str, tables: dict) -> list[dict[str, Any]]:
    """Write each record type's accepted and rejected Parquet, replacing any half-written earlier try."""
    ensure_schema_files(paths)
    written = []
    for record_type, parts in tables.items():
        schema = SCHEMAS[record_type]
        # Staged outside raw/<record_type>/ so dbt's glob never sees a half-written folder.
        staging = paths.raw / "_staging" / record_type / submission_id
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for part, rows in parts.items():
            table = pa.Table.from_pylist([{name: row.get(name) for name in schema.names} for row in rows], schema)
            pq.write_table(table, staging / f"{part}.parquet")
            written.append({"record_type": record_type, "part": part, "rows": len(rows)})
        final = paths.raw_records(record_type) / submission_id
        shutil.rmtree(final, ignore_errors=True)
        os.replace(staging, final)
    return written


def _write_manifest(paths: Paths, submission_id: str, manifest: dict[str, Any]) -> None:
    target = manifest_path(paths, submission_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, target)
