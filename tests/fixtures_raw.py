"""Write a hand-made raw zone for tests: the Parquet files ingest would write.

    paths = write_raw_zone(tmp_path, {
        "stop_zorg": [{"submission_id": "S1", "toewijzingnummer": "T1", "reden_beeindiging": "32", ...}],
        "declaratie_regel": [...],
    })

Rows are grouped by ``submission_id`` (default ``"sub-test"``) and split on ``status`` (default
``geaccepteerd``) into ``raw/<record_type>/<submission_id>/accepted.parquet`` and
``rejected.parquet``, both always written, with exactly the columns of ``raw_schema.SCHEMAS``.
Missing columns are null, ``finding_codes`` defaults to ``[]`` and ``line_number`` to the row's
position within its submission; a column the schema does not know is an error, so a test cannot
silently drift from the contract.

``write_manifest`` and ``write_ingest_report`` add what ingest commits beside the rows: the
manifest (with ``received_at``) and the ingest-time feedback report.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from outcome_monitor.config import Paths
from outcome_monitor.raw_schema import SCHEMAS
from outcome_monitor.raw_zone import ensure_schema_files

DEFAULT_SUBMISSION = "sub-test"
ACCEPTED = "geaccepteerd"
REJECTED = "afgewezen"


def complete_row(record_type: str, row: Mapping[str, Any], line_number: int) -> dict[str, Any]:
    """`row` with every schema column present and the defaults above filled in."""
    schema = SCHEMAS[record_type]
    unknown = set(row) - set(schema.names)
    if unknown:
        raise KeyError(f"{record_type} has no column(s) {sorted(unknown)}")
    full = {name: row.get(name) for name in schema.names}
    full["submission_id"] = full["submission_id"] or DEFAULT_SUBMISSION
    full["status"] = full["status"] or ACCEPTED
    full["finding_codes"] = list(full["finding_codes"] or [])
    if full["line_number"] is None:
        full["line_number"] = line_number
    if full["member_name"] is None:
        full["member_name"] = f"{full['submission_id']}.xml"
    return full


def write_submission(paths: Paths, record_type: str, submission_id: str, rows: list[dict]) -> Path:
    """Write one submission's accepted.parquet and rejected.parquet; returns its folder."""
    schema = SCHEMAS[record_type]
    folder = paths.raw_submission(submission_id) / record_type
    folder.mkdir(parents=True, exist_ok=True)
    for name, status in (("accepted.parquet", ACCEPTED), ("rejected.parquet", REJECTED)):
        selected = [row for row in rows if row["status"] == status]
        pq.write_table(pa.Table.from_pylist(selected, schema=schema), folder / name)
    return folder


def write_raw_zone(home: Path, records: Mapping[str, Iterable[Mapping[str, Any]]]) -> Paths:
    """Write `records` (record type -> rows) as a raw zone under `home`; returns its Paths."""
    paths = Paths(Path(home))
    ensure_schema_files(paths)
    for record_type, rows in records.items():
        by_submission: dict[str, list[dict]] = defaultdict(list)
        for row in rows:
            submission_id = row.get("submission_id") or DEFAULT_SUBMISSION
            position = len(by_submission[submission_id]) + 1
            by_submission[submission_id].append(complete_row(record_type, row, position))
        for submission_id, submission_rows in by_submission.items():
            write_submission(paths, record_type, submission_id, submission_rows)
    return paths


def write_manifest(paths: Paths, submission_id: str, received_at: datetime, **extra: Any) -> Path:
    """Write ``raw/submissions/<submission_id>/manifest.json`` as ingest does: when it was received.

    dbt reads ``received_at`` from it (stg_raw__submissions) for completeness and timeliness.
    """
    if received_at.tzinfo is None:
        raise ValueError("received_at needs a time zone, as ingest writes it")
    manifest = {"submission_id": submission_id, "file_name": f"{submission_id}.xml", "sha256": None,
                "received_at": received_at.isoformat(), "submitted_by": None, **extra}  # fmt: skip
    target = paths.raw_submission(submission_id) / "manifest.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return target


def write_ingest_report(paths: Paths, submission_id: str, report: Mapping[str, Any]) -> Path:
    """Write the ingest-time feedback report where ingest commits it (``report.json`` in the raw zone)."""
    target = paths.raw_submission(submission_id) / "report.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"submission_id": submission_id, **report}, ensure_ascii=False), encoding="utf-8")
    return target
