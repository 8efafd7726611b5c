"""What the DAG tasks do, as plain functions: the DAG files only wire these together."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from outcome_monitor.config import paths


def ingest_claimed_file(payload: dict[str, Any]) -> dict[str, Any]:
    """Ingest one file the inbox watcher claimed, then drop the claimed copy (the archive keeps it).

    Safe to retry: a retry after a crash redoes the submission (same content, same id); a retry
    after success finds the claimed file gone and returns the stored report.
    """
    import json

    from outcome_monitor.ingest import ingest_file
    from outcome_monitor.ingest.submission import manifest_path, submission_id_for

    claimed = Path(payload["path"])
    current = paths()
    if not claimed.exists():
        # Only a retry of a run that already finished gets here: its manifest names its outcome.
        done = sorted(current.raw.glob("_submissions/*.json"), key=lambda p: p.stat().st_mtime)
        for manifest in reversed(done):
            stored = json.loads(manifest.read_text(encoding="utf-8"))
            if stored["file_name"] == payload["original_name"]:
                return json.loads((current.feedback / f"{stored['submission_id']}.json").read_text())
        raise FileNotFoundError(f"claimed file {claimed} is gone and no submission records it")
    report = ingest_file(claimed, current, original_name=payload["original_name"])
    if report["status"] == "duplicate" or manifest_path(current, submission_id_for(report["sha256"])).exists():
        claimed.unlink()
    return report


def record_types_of(report: dict[str, Any]) -> list[str]:
    return sorted(report["counts"].get("by_record_type", {}))
