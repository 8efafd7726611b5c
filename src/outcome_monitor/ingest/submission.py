"""Ingest one submitted file, from archive to feedback report.

Order matters for privacy and for "nothing lost": the file is archived before anything can fail,
the BSN is checked and pseudonymised before any row is written, rejected rows are written next
to accepted ones with their codes, and the rows, the report and the manifest are committed together
by one rename (see raw_zone), so a load killed half-way leaves nothing and a retry simply redoes it.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from outcome_monitor.bsn import pseudonymise
from outcome_monitor.config import Paths, pseudonym_key
from outcome_monitor.feedback import status_for, write_report
from outcome_monitor.ingest.archive import archive_file, archive_path, sha256_of
from outcome_monitor.ingest.bundle import Limits, Member, SubmissionRejected, members
from outcome_monitor.ingest.messages import MessageRejected, parse_message
from outcome_monitor.ingest.tabular import PROBLEM_TITLES as CELL_PROBLEMS
from outcome_monitor.ingest.tabular import is_tabular, parse_tabular
from outcome_monitor.raw_zone import AlreadyCommitted, commit_submission, read_document, table_for
from outcome_monitor.validation.row_checks import check_rows

ACCEPTED, REJECTED = "geaccepteerd", "afgewezen"


def submission_id_for(sha256: str) -> str:
    # Derived from the content: a retry of the same file lands in the same place.
    return sha256[:20]


def manifest_path(paths: Paths, submission_id: str) -> Path:
    return paths.raw_submission(submission_id) / "manifest.json"


@dataclass
class IngestTimings:
    """Seconds spent per step of one ingest, for benchmarks and logs."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


def ingest_file(
    path: Path,
    paths: Paths,
    *,
    original_name: str | None = None,
    received_at: datetime | None = None,
    submitted_by: str | None = None,
    from_archive: bool = False,
    timings: IngestTimings | None = None,
) -> dict[str, Any]:
    """Ingest `path`; return the feedback report (also written to ``feedback/``).

    `submitted_by` is who delivered the file (the submission service records the token's provider
    or municipality in ``uploads/<submission_id>.json``; that record is used when not given).
    `from_archive` marks a replay: `path` is already the archived copy, so no new receipt is made.
    """
    timings = timings or IngestTimings()
    received_at = received_at or datetime.now(UTC)
    file_name = original_name or path.name
    sha256 = sha256_of(path)
    submission_id = submission_id_for(sha256)
    upload = _upload_record(paths, submission_id)
    submitted_by = submitted_by or upload.get("submitted_by")
    if file_name == f"{submission_id}-{upload.get('original_name')}":
        file_name = upload["original_name"]  # the service's inbox name: report the provider's own
    if not from_archive:
        with timings.step("archive"):
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
    parsing = timings.step("parse")
    parsing.__enter__()
    try:
        # An .xlsx is a ZIP too: a spreadsheet is one member, never a bundle of them.
        for member in _tabular_member(path, file_name) if is_tabular(file_name) else members(path, file_name):
            messages += 1
            if member.problem:
                file_findings.append(_file_finding(member.problem, member.name))
                continue
            try:
                if is_tabular(member.name):
                    table = parse_tabular(member.data, member.name, submission_id=submission_id)
                    for record_type, rows in table.rows_by_type.items():
                        rows_by_type[record_type].extend(rows)
                    senders.add(table.sender or "")
                else:
                    parsed = parse_message(member.data)
                    rows_by_type[parsed.message_type.record_type].extend(
                        _provenance(parsed, member.name, submission_id)
                    )
                    senders.add(parsed.header["afzender"] or "")
            except MessageRejected as problem:
                file_findings.append(_file_finding(problem, member.name))
                continue
    except SubmissionRejected as problem:
        file_findings.append(_file_finding(problem, file_name))
    finally:
        parsing.__exit__(None, None, None)

    key = pseudonym_key()
    pseudonyms: dict[str, str] = {}  # a client has many lines: one HMAC per client, not per line
    row_findings: dict[str, dict[str, Any]] = {}
    tables: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for record_type, rows in rows_by_type.items():
        with timings.step("validate"):
            result = check_rows(record_type, rows)
        sorting = timings.step("pseudonymise_and_sort")
        sorting.__enter__()
        accepted, rejected = [], []
        for row, suite_codes in zip(rows, result.codes_per_row, strict=True):
            # Cells a tabular parser could not read come first: the suite saw them as missing.
            problems = row.pop("_problems", None) or []
            codes = list(dict.fromkeys([problem["code"] for problem in problems] + suite_codes))
            blocking = [code for code in codes if code in CELL_PROBLEMS or result.severity_of(code) == "afwijzing"]
            for code in codes:
                finding = row_findings.setdefault(
                    code,
                    {
                        "code": code,
                        "severity": "afwijzing" if code in CELL_PROBLEMS else result.severity_of(code),
                        "message": CELL_PROBLEMS.get(code) or result.message_of(code),
                        "rows": [],
                    },
                )
                reference = _row_reference(row)
                details = [f"{p['field']}: {p['message']}" for p in problems if p["code"] == code]
                if details:
                    reference["detail"] = "; ".join(details)
                finding["rows"].append(reference)
            if "bsn" in row:  # survey, tariff, agreement and production rows have no client
                bsn = row.pop("bsn") or ""
                pseudonym = pseudonyms.get(bsn)
                if pseudonym is None:
                    pseudonym = pseudonyms[bsn] = pseudonymise(bsn, key)
                row["client_pseudonym"] = pseudonym
            row["status"] = REJECTED if blocking else ACCEPTED
            row["finding_codes"] = codes
            (rejected if blocking else accepted).append(row)
        tables[record_type] = {"accepted": accepted, "rejected": rejected}
        sorting.__exit__(None, None, None)

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
    writing = timings.step("write")
    writing.__enter__()
    arrow_tables = {
        record_type: {part: table_for(record_type, rows) for part, rows in parts.items()}
        for record_type, parts in tables.items()
    }
    try:
        # The report goes in with the rows: a submission is never committed without its report.
        commit_submission(paths, submission_id, arrow_tables, {"report": report, "manifest": manifest})
    except AlreadyCommitted:
        return _duplicate(paths, base)
    finally:
        writing.__exit__(None, None, None)
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


def _tabular_member(path: Path, file_name: str) -> list[Member]:
    size, limit = path.stat().st_size, Limits().max_file_bytes
    if size > limit:
        raise SubmissionRejected("OM005", "Het bestand is groter dan toegestaan.", f"{size} bytes, maximaal {limit}")
    return [Member(file_name, path.read_bytes())]


def _upload_record(paths: Paths, submission_id: str) -> dict[str, Any]:
    """What the submission service recorded about this content: who delivered it, under what name."""
    record = paths.uploads / f"{submission_id}.json"
    if not record.exists():
        return {}
    return json.loads(record.read_text(encoding="utf-8"))


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
