"""Ingest one submitted file, from archive to feedback report.

Order matters for privacy and for "nothing lost": the file is archived before anything can fail,
the BSN is checked and pseudonymised before any row is written, rejected rows are written next
to accepted ones with their codes, and the rows, the report and the manifest are committed together
by one rename (see raw_zone), so a load killed half-way leaves nothing and a retry simply redoes it.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from outcome_monitor.bsn import pseudonymise
from outcome_monitor.config import Paths, pseudonym_key
from outcome_monitor.feedback import status_for, write_report
from outcome_monitor.ingest.archive import archive_file, archive_path, sha256_of
from outcome_monitor.ingest.bundle import Limits, Member, SubmissionRejected, members
from outcome_monitor.ingest.messages import MessageRejected, ParsedMessage, parse_message
from outcome_monitor.ingest.parsed import ParsedSubmission
from outcome_monitor.ingest.tabular import PROBLEM_TITLES as CELL_PROBLEMS
from outcome_monitor.ingest.tabular import TabularParse, collector_paused, is_tabular, parse_tabular
from outcome_monitor.raw_schema import SCHEMAS
from outcome_monitor.raw_zone import AlreadyCommitted, commit_submission, read_document
from outcome_monitor.validation.row_checks import AUTO, RowCheckResult, check_rows

ACCEPTED, REJECTED = "geaccepteerd", "afgewezen"
PARSE_THREADS = min(2, os.cpu_count() or 1)
PARSE_WINDOW_BYTES = Limits().max_member_bytes


def submission_id_for(sha256: str) -> str:
    # Derived from the content: a retry of the same file lands in the same place.
    return sha256[:20]


def manifest_path(paths: Paths, submission_id: str) -> Path:
    return paths.raw_submission(submission_id) / "manifest.json"


@dataclass
class IngestTimings:
    """Seconds spent per step of one ingest, for benchmarks and logs: wall time, and CPU time of all threads
    (on a shared machine wall time includes waiting for a core)."""

    seconds: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
            self.cpu_seconds[name] = self.cpu_seconds.get(name, 0.0) + time.process_time() - cpu_started


def ingest_file(
    path: Path,
    paths: Paths,
    *,
    original_name: str | None = None,
    received_at: datetime | None = None,
    submitted_by: str | None = None,
    from_archive: bool = False,
    timings: IngestTimings | None = None,
    rule_engine: str = AUTO,
    durable: bool = True,
) -> dict[str, Any]:
    """Ingest `path`; return the feedback report (also written to ``feedback/``).

    `submitted_by` is who delivered the file (the submission service records the token's provider
    or municipality in ``uploads/<submission_id>.json``; that record is used when not given).
    `from_archive` marks a replay: `path` is already the archived copy, so no new receipt is made.
    `rule_engine` (row_checks.RULE_ENGINES) evaluates the row suites; both give the same verdicts.
    `durable=False` leaves syncing the raw zone to a bulk caller (raw_zone.commit_submission).
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

    # The parsed values hold no cycles: without the cyclic collector's passes over them, parsing costs a tenth less.
    with timings.step("parse"), collector_paused():
        parsed, file_findings, senders, messages = _parse(path, file_name, submission_id)
        assembled = parsed.assemble()
    del parsed  # its parts, one per message, are copied into `assembled`: free them before going on

    key = pseudonym_key()
    row_findings: dict[str, dict[str, Any]] = {}
    tables: dict[str, dict[str, pa.Table]] = {}
    for record_type, (table, problems) in assembled.items():
        with timings.step("validate"):
            result = check_rows(record_type, table, rule_engine)
            codes_by_row = _codes_by_row(result, problems)
        with timings.step("pseudonymise"):
            table = _pseudonymised(table, key)
        with timings.step("sort"):
            blocking = {
                index
                for index, codes in codes_by_row.items()
                if any(code in CELL_PROBLEMS or result.severity_of(code) == "afwijzing" for code in codes)
            }
            _collect_findings(row_findings, table, codes_by_row, problems, result)
            tables[record_type] = _split(record_type, table, codes_by_row, blocking)

    accepted_count = sum(t["accepted"].num_rows for t in tables.values())
    rejected_count = sum(t["rejected"].num_rows for t in tables.values())
    received = accepted_count + rejected_count
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
                record_type: {"accepted": t["accepted"].num_rows, "rejected": t["rejected"].num_rows}
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
            {"record_type": record_type, "part": part, "rows": table.num_rows}
            for record_type, parts in tables.items()
            for part, table in parts.items()
        ],
        "status": report["status"],
        "counts": report["counts"],
    }
    try:
        with timings.step("write"):
            # The report goes in with the rows: a submission is never committed without its report.
            documents = {"report": report, "manifest": manifest}
            commit_submission(paths, submission_id, tables, documents, durable=durable)
    except AlreadyCommitted:
        return _duplicate(paths, base)
    write_report(report, paths.feedback)
    return report


def _parse(path: Path, file_name: str, submission_id: str):
    """Every member of the file into one ParsedSubmission; problems with a file or member are findings."""
    parsed = ParsedSubmission()
    file_findings: list[dict[str, Any]] = []
    senders: set[str] = set()
    messages = 0
    try:
        # An .xlsx is a ZIP too: a spreadsheet is one member, never a bundle of them.
        if is_tabular(file_name):
            read = _read_one_by_one(_tabular_member(path, file_name), submission_id)
        else:
            read = _read_in_parallel(members(path, file_name), submission_id)
        for member, outcome in read:
            messages += 1
            if member.problem:
                file_findings.append(_file_finding(member.problem, member.name))
                continue
            try:
                result = outcome.result()
            except MessageRejected as problem:
                file_findings.append(_file_finding(problem, member.name))
                continue
            if isinstance(result, TabularParse):
                for record_type, columns in result.arrays_by_type.items():
                    parsed.add_columns(record_type, columns, result.problems_by_type.get(record_type))
                senders.add(result.sender or "")
            else:
                parsed.add_message(
                    result.message_type.record_type, _provenance(result, member.name, submission_id), result.row_count
                )
                senders.add(result.header["afzender"] or "")
    except SubmissionRejected as problem:
        file_findings.append(_file_finding(problem, file_name))
    return parsed, file_findings, senders, messages


def _read_in_parallel(found: Iterable[Member], submission_id: str) -> Iterator[tuple[Member, Future]]:
    """Each member with its parse running in a thread, in member order, a few members ahead at most.

    lxml parses and validates against the XSD without holding the GIL, so on two cores one message's
    parse overlaps another's extraction. The window bounds what is in memory at once: a few members,
    and of the largest ones (a parsed tree is several times its message) two at most.
    """
    with ThreadPoolExecutor(PARSE_THREADS, thread_name_prefix="parse") as pool:
        window: deque[tuple[Member, Future]] = deque()
        window_bytes, stopped = 0, None
        try:
            for member in found:
                window.append((member, pool.submit(_read_member, member, submission_id)))
                window_bytes += len(member.data or b"")
                while len(window) > 2 * PARSE_THREADS or (window_bytes > PARSE_WINDOW_BYTES and len(window) > 1):
                    oldest = window.popleft()
                    window_bytes -= len(oldest[0].data or b"")
                    yield oldest
        except SubmissionRejected as problem:
            stopped = problem  # the members read before it still count, as when read one by one
        yield from window
        if stopped:
            raise stopped


def _read_one_by_one(found: Iterable[Member], submission_id: str) -> Iterator[tuple[Member, Future]]:
    """As _read_in_parallel, in this thread: for a single spreadsheet, which Arrow reads on every core itself."""
    for member in found:
        outcome: Future = Future()
        try:
            outcome.set_result(_read_member(member, submission_id))
        except MessageRejected as problem:
            outcome.set_exception(problem)
        yield member, outcome


def _read_member(member: Member, submission_id: str) -> TabularParse | ParsedMessage | None:
    if member.problem:
        return None
    if is_tabular(member.name):
        return parse_tabular(member.data, member.name, submission_id=submission_id)
    return parse_message(member.data)


def _codes_by_row(result: RowCheckResult, problems: dict[int, list[dict]]) -> dict[int, list[str]]:
    """Codes per row with findings: unreadable cells first (the suite saw them as missing), then the suite's."""
    codes = {index: list(found) for index, found in result.codes_by_row.items()}
    for index, cells in problems.items():
        codes[index] = list(dict.fromkeys([cell["code"] for cell in cells] + codes.get(index, [])))
    return codes


def _pseudonymised(table: pa.Table, key: bytes) -> pa.Table:
    """Replace the BSN column by the keyed pseudonym: one HMAC per distinct client, not per line."""
    bsn = pc.fill_null(table.column("bsn"), "")
    clients = pc.unique(bsn)
    pseudonyms = pa.array([pseudonymise(value, key) for value in clients.to_pylist()], pa.string())
    client_pseudonym = pseudonyms.take(pc.index_in(bsn, value_set=clients))
    index = table.schema.get_field_index("bsn")
    # Rows without a client (surveys, tariffs, agreements, production) keep no pseudonym.
    has_client = pc.is_valid(table.column("bsn"))
    client_pseudonym = pc.if_else(has_client, client_pseudonym, pa.scalar(None, pa.string()))
    return table.set_column(index, "client_pseudonym", client_pseudonym)


def _split(
    record_type: str, table: pa.Table, codes_by_row: dict[int, list[str]], blocking: set[int]
) -> dict[str, pa.Table]:
    rows = table.num_rows
    rejected = np.zeros(rows, dtype=bool)
    rejected[sorted(blocking)] = True
    rejected_mask = pa.array(rejected)
    status = pc.if_else(rejected_mask, REJECTED, ACCEPTED)
    complete = table.append_column("status", status).append_column("finding_codes", _finding_codes(rows, codes_by_row))
    # One chunk per column: the Parquet file comes out the same however the rows were parsed.
    complete = complete.select(SCHEMAS[record_type].names).cast(SCHEMAS[record_type]).combine_chunks()
    # Most large files have no blocking finding at all: then every row is accepted, without a copy.
    accepted = complete.filter(pc.invert(rejected_mask)) if blocking else complete
    return {"accepted": accepted, "rejected": complete.filter(rejected_mask)}


def _finding_codes(rows: int, codes_by_row: dict[int, list[str]]) -> pa.ListArray:
    """Each row's codes as a list (empty for most rows), built from offsets rather than a list per row."""
    with_codes = sorted(codes_by_row)
    lengths = np.zeros(rows + 1, dtype=np.int32)
    lengths[np.array(with_codes, dtype=np.int64) + 1] = [len(codes_by_row[index]) for index in with_codes]
    codes = pa.array([code for index in with_codes for code in codes_by_row[index]], pa.string())
    return pa.ListArray.from_arrays(pa.array(np.cumsum(lengths, dtype=np.int32)), codes)


def _collect_findings(
    findings: dict[str, dict[str, Any]],
    table: pa.Table,
    codes_by_row: dict[int, list[str]],
    problems: dict[int, list[dict]],
    result: RowCheckResult,
) -> None:
    """Group the rows with findings by code, each row named by member, line and its references."""
    if not codes_by_row:
        return
    indices = sorted(codes_by_row)
    references = ("member_name", "line_number", "referentienummer", "toewijzingnummer")
    wanted = [name for name in references if name in table.column_names]
    rows = table.select(wanted).take(pa.array(indices)).to_pylist()
    for index, row in zip(indices, rows, strict=True):
        for code in codes_by_row[index]:
            finding = findings.setdefault(
                code,
                {
                    "code": code,
                    "severity": "afwijzing" if code in CELL_PROBLEMS else result.severity_of(code),
                    "message": CELL_PROBLEMS.get(code) or result.message_of(code),
                    "rows": [],
                },
            )
            reference = _row_reference(row)
            cells = problems.get(index, [])
            details = [f"{cell['field']}: {cell['message']}" for cell in cells if cell["code"] == code]
            if details:
                reference["detail"] = "; ".join(details)
            finding["rows"].append(reference)


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


def _provenance(parsed, member_name: str, submission_id: str) -> dict[str, Any]:
    """A message's columns plus where each row came from: the same values on every row, and its line."""
    message_type, header = parsed.message_type, parsed.header
    from_municipality = message_type.record_type == "toewijzing"
    gemeente = header["afzender"] if from_municipality else header["ontvanger"]
    aanbieder = header["ontvanger"] if from_municipality else header["afzender"]
    count = parsed.row_count
    same = {
        "submission_id": submission_id,
        "member_name": member_name,
        "message_id": header["message_id"],
        "domein": message_type.domein,
        "berichtcode": message_type.berichtcode,
        "gemeente_code": gemeente,
        "aanbieder_agb": aanbieder,
    }
    columns: dict[str, Any] = {key: pa.repeat(pa.scalar(value, pa.string()), count) for key, value in same.items()}
    columns["line_number"] = pa.array(range(1, count + 1), pa.int64())
    return {**columns, **parsed.columns}


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
