"""A snapshot: a year's rows of every controller table as Parquet, named by their content hash.

The id is the first 16 hex digits of the SHA-256 over ``<table> <sha256 of its Parquet file>``
lines in table order: the same figures give the same id, changed figures a new one. DuckDB writes
the same rows (ordered by all columns) to the same bytes, so the hash is a hash of the figures.
Written into a staging folder, then renamed into place, then made read-only.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from outcome_monitor.ingest.archive import sha256_of
from outcome_monitor.year_end.layout import SNAPSHOT_FILE, YearEndError, YearEndLayout, fsync_dir
from outcome_monitor.year_end.tables import YEAR_COLUMN, columns_of, quote, year_tables

ID_RULE = "eerste 16 hex van SHA-256 over regels '<tabel> <sha256 parquet>\\n', op tabelnaam gesorteerd"


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: str
    year: int
    folder: Path
    document: dict[str, Any]

    @property
    def tables(self) -> dict[str, dict[str, Any]]:
        return self.document["tables"]

    @property
    def submission_ids(self) -> set[str]:
        return {entry["submission_id"] for entry in self.document["submissions"]}

    def parquet(self, table: str) -> Path:
        return self.folder / self.tables[table]["file"]


def snapshot_id_for(table_hashes: dict[str, str]) -> str:
    lines = "".join(f"{table} {digest}\n" for table, digest in sorted(table_hashes.items()))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()[:16]


def year_row_counts(con, year: int) -> dict[str, int]:
    return {
        table: con.execute(f"select count(*) from main.{quote(table)} where {YEAR_COLUMN} = ?", [year]).fetchone()[0]
        for table in year_tables(con)
    }


def write_snapshot(
    con,
    layout: YearEndLayout,
    year: int,
    *,
    created_at: str,
    created_by: str,
    submissions: list[dict[str, Any]],
    code_version: dict[str, Any],
    build: dict[str, Any] | None = None,
) -> Snapshot:
    """Freeze `year`'s rows of every year table of the warehouse `con` is connected to.

    If a snapshot with the same content already exists (a close after a reopen without any change),
    that one is verified and returned: same figures, same id.
    """
    year = int(year)
    year_dir = layout.snapshots / str(year)
    staging = year_dir / f".staging-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    try:
        tables: dict[str, dict[str, Any]] = {}
        for table in year_tables(con):
            file_name = f"{table}.parquet"
            target = staging / file_name
            con.execute(
                f"copy (select * from main.{quote(table)} where {YEAR_COLUMN} = {year} order by all) "
                f"to '{target.as_posix()}' (format parquet)"
            )
            tables[table] = {
                "file": file_name,
                "sha256": sha256_of(target),
                "rows": con.execute(f"select count(*) from read_parquet('{target.as_posix()}')").fetchone()[0],
                "columns": columns_of(con, table),
            }
        snapshot_id = snapshot_id_for({table: info["sha256"] for table, info in tables.items()})
        document = {
            "snapshot_id": snapshot_id,
            "snapshot_id_rule": ID_RULE,
            "verslagjaar": year,
            "created_at": created_at,
            "created_by": created_by,
            "tables": tables,
            "submissions": submissions,
            "code_version": code_version,
            "build": build or {},
        }
        (staging / SNAPSHOT_FILE).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
        final = layout.snapshot_dir(year, snapshot_id)
        if final.exists():
            existing = load_snapshot(layout, year, snapshot_id)
            require_intact(existing)
            return existing
        for path in staging.iterdir():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
            path.chmod(0o444)
        fsync_dir(staging)
        os.replace(staging, final)
        final.chmod(0o555)
        fsync_dir(year_dir)
        return Snapshot(snapshot_id, year, final, document)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def load_snapshot(layout: YearEndLayout, year: int, snapshot_id: str) -> Snapshot:
    folder = layout.snapshot_dir(year, snapshot_id)
    document_path = folder / SNAPSHOT_FILE
    if not document_path.is_file():
        raise YearEndError(f"snapshot {snapshot_id} van {year} ontbreekt: {document_path} bestaat niet")
    document = json.loads(document_path.read_text(encoding="utf-8"))
    return Snapshot(snapshot_id, int(year), folder, document)


def verify_snapshot(snapshot: Snapshot) -> list[str]:
    """What does not match snapshot.json (empty when every file and the id verify), in Dutch."""
    problems = []
    document = snapshot.document
    if document.get("snapshot_id") != snapshot.snapshot_id or document.get("verslagjaar") != snapshot.year:
        problems.append(f"{SNAPSHOT_FILE} noemt {document.get('snapshot_id')}/{document.get('verslagjaar')}")
    hashes = {}
    for table, info in snapshot.tables.items():
        path = snapshot.folder / info["file"]
        if not path.is_file():
            problems.append(f"{path}: bestand ontbreekt")
            continue
        hashes[table] = sha256_of(path)
        if hashes[table] != info["sha256"]:
            problems.append(f"{path}: SHA-256 {hashes[table]}, verwacht {info['sha256']}")
    if snapshot_id_for({table: info["sha256"] for table, info in snapshot.tables.items()}) != snapshot.snapshot_id:
        problems.append(f"snapshot-id {snapshot.snapshot_id} volgt niet uit de hashes in {SNAPSHOT_FILE}")
    listed = {info["file"] for info in snapshot.tables.values()} | {SNAPSHOT_FILE}
    problems += [f"{path}: bestand hoort niet bij de snapshot" for path in snapshot.folder.iterdir()
                 if path.name not in listed]  # fmt: skip
    return problems


def require_intact(snapshot: Snapshot) -> None:
    problems = verify_snapshot(snapshot)
    if problems:
        raise YearEndError(f"snapshot {snapshot.snapshot_id} van {snapshot.year} is aangetast: " + "; ".join(problems))
