"""The raw zone: immutable Parquet files of parsed rows, one folder per submission.

A submission is committed by one ``os.replace`` of its fully written staging folder onto
``raw/submissions/<submission_id>/``: its Parquet files for every record type, the ingest-time
feedback report and the manifest appear together or not at all, so a load killed half-way
leaves nothing partial for dbt to read, and a retry simply writes the folder again.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from outcome_monitor.config import Paths
from outcome_monitor.raw_schema import SCHEMAS

PARTS = ("accepted", "rejected")


def ensure_schema_files(paths: Paths) -> None:
    """Write ``raw/submissions/_schema/<record_type>/empty.parquet`` where missing.

    dbt reads ``raw/submissions/*/<record_type>/*.parquet``; this empty, typed file makes that glob
    match before the first submission of a type arrives, and fixes the column types.
    """
    for record_type, schema in SCHEMAS.items():
        target = paths.raw_schema_file(record_type)
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        # Per process and thread: ingest workers side by side may all find the file missing at once.
        tmp = target.with_suffix(f".parquet.{os.getpid()}.{threading.get_ident()}.tmp")
        pq.write_table(pa.Table.from_pylist([], schema=schema), tmp)
        tmp.replace(target)


def commit_submission(
    paths: Paths,
    submission_id: str,
    tables: dict[str, dict[str, pa.Table]],
    documents: dict[str, dict[str, Any]],
    durable: bool = True,
) -> Path:
    """Write `tables` (record type -> part -> table) and JSON `documents` (name -> content), then commit.

    ``documents`` must include ``manifest``; it is what marks a complete submission. `durable` makes the
    files reach the disk before the commit (about ten fsyncs, 30–40 ms); a bulk writer into a fresh raw
    zone (a replay) passes False and syncs once at its end (``sync_all``): a crash there is redone whole.
    """
    ensure_schema_files(paths)
    # Per process: two runs of the same content never write into each other's staging folder.
    staging = paths.raw_staging / f"{submission_id}.{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)  # an earlier, interrupted try of this process id
    staging.mkdir(parents=True)
    for record_type, parts in tables.items():
        folder = staging / record_type
        folder.mkdir()
        for part, table in parts.items():
            pq.write_table(table, folder / f"{part}.parquet")
    for name, content in documents.items():
        (staging / f"{name}.json").write_text(json.dumps(content, ensure_ascii=False, indent=2), encoding="utf-8")
    if durable:
        _fsync_tree(staging)
    final = paths.raw_submission(submission_id)
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(staging, final)  # the commit: refused if the folder exists and is not empty
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        if final.exists():
            raise AlreadyCommitted(submission_id) from error
        raise
    if durable:
        _fsync_dir(final.parent)
    return final


def sync_all() -> None:
    """Flush every written file to disk: the end of a bulk write made with ``durable=False``."""
    os.sync()


class AlreadyCommitted(Exception):
    """Another run committed the same content first."""


def committed_submissions(paths: Paths) -> list[str]:
    folder = paths.raw_submissions
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("_"))


def read_document(paths: Paths, submission_id: str, name: str) -> dict[str, Any] | None:
    path = paths.raw_submission(submission_id) / f"{name}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    for path in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        _fsync_dir(path)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
