"""`outcome-monitor replay`: rebuild the raw zone's parsed rows from the archive alone.

The archive holds every file ever received and its receipts; the raw zone is derived from it.
Replaying ingests each archived file again, as first received, into a fresh raw zone beside the
live one and compares the two submission by submission. Identical Parquet content proves the raw
zone can be rebuilt; after a parser fix or a new pseudonymisation key, `--apply` swaps the
rebuilt raw zone in (the old one is kept aside) so the next build uses it.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from outcome_monitor.config import Paths
from outcome_monitor.raw_zone import committed_submissions, sync_all


@dataclass(frozen=True)
class Receipt:
    sha256: str
    path: Path
    original_name: str
    received_at: datetime
    submitted_by: str | None


@dataclass
class ReplayResult:
    replayed_into: Path
    submissions: int = 0
    identical: list[str] = field(default_factory=list)
    different: list[str] = field(default_factory=list)
    only_in_live: list[str] = field(default_factory=list)
    only_in_replay: list[str] = field(default_factory=list)
    applied_aside: Path | None = None

    @property
    def is_identical(self) -> bool:
        return not (self.different or self.only_in_live or self.only_in_replay)

    def summary(self) -> dict[str, Any]:
        return {
            "replayed_into": str(self.replayed_into),
            "submissions": self.submissions,
            "identical": len(self.identical),
            "different": self.different,
            "only_in_live": self.only_in_live,
            "only_in_replay": self.only_in_replay,
            "applied": self.applied_aside is not None,
            "old_raw_zone_kept_at": str(self.applied_aside) if self.applied_aside else None,
        }


def first_receipts(paths: Paths) -> list[Receipt]:
    """Every archived content once, with its first receipt, in the order it was first received."""
    receipts = []
    for log in sorted(paths.archive.glob("*/*.receipts.jsonl")):
        sha = log.name.removesuffix(".receipts.jsonl")
        lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
        first = min(lines, key=lambda receipt: receipt["received_at"])
        receipts.append(
            Receipt(
                sha256=sha,
                path=log.with_name(sha),
                original_name=first["original_name"],
                received_at=datetime.fromisoformat(first["received_at"]),
                submitted_by=first.get("submitted_by"),
            )
        )
    return sorted(receipts, key=lambda receipt: (receipt.received_at, receipt.sha256))


def replay(paths: Paths, *, into: Path | None = None, apply: bool = False) -> ReplayResult:
    from outcome_monitor.ingest.submission import ingest_file
    from outcome_monitor.validation.row_checks import DUCKDB

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = Paths(into or paths.home / "replay" / stamp)
    if target.raw.exists():
        raise FileExistsError(f"{target.raw} exists; replay needs an empty place")
    result = ReplayResult(replayed_into=target.raw)
    for receipt in first_receipts(paths):
        ingest_file(
            receipt.path,
            target,
            original_name=receipt.original_name,
            received_at=receipt.received_at,
            submitted_by=receipt.submitted_by,
            from_archive=True,
            rule_engine=DUCKDB,  # thousands of files: GX's per-file cost would take hours; same verdicts
            durable=False,  # a fresh place: a crash is redone whole, so one sync at the end suffices
        )
        result.submissions += 1
    sync_all()
    _compare(paths, target, result)
    if apply:
        aside = paths.home / f"raw.before-replay-{stamp}"
        os.replace(paths.raw, aside)
        os.replace(target.raw, paths.raw)
        result.applied_aside = aside
        result.replayed_into = paths.raw
    return result


def _compare(live: Paths, replayed: Paths, result: ReplayResult) -> None:
    live_ids, replayed_ids = set(committed_submissions(live)), set(committed_submissions(replayed))
    result.only_in_live = sorted(live_ids - replayed_ids)
    result.only_in_replay = sorted(replayed_ids - live_ids)
    for submission_id in sorted(live_ids & replayed_ids):
        same = same_parquet_content(live.raw_submission(submission_id), replayed.raw_submission(submission_id))
        (result.identical if same else result.different).append(submission_id)


def same_parquet_content(left: Path, right: Path) -> bool:
    """Same Parquet files with the same rows, schema and values (the JSON documents carry receipt times)."""
    left_files = sorted(p.relative_to(left) for p in left.rglob("*.parquet"))
    right_files = sorted(p.relative_to(right) for p in right.rglob("*.parquet"))
    if left_files != right_files:
        return False
    return all(pq.read_table(left / name).equals(pq.read_table(right / name)) for name in left_files)


def discard(result: ReplayResult) -> None:
    """Remove a replayed raw zone that was only used for the comparison."""
    if result.applied_aside is None:
        shutil.rmtree(result.replayed_into.parent, ignore_errors=True)
