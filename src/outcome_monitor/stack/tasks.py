"""What the DAG tasks do, as plain functions: the DAG files only wire these together."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from outcome_monitor.config import paths
from outcome_monitor.stack.inbox_trigger import INGESTING_PREFIX

log = logging.getLogger(__name__)


def take_claimed_file(claimed: Path) -> Path | None:
    """Take a claimed file for this run by renaming it; None if another run already has it.

    A file left as ``.ingesting-*`` belongs to a run that crashed or to this task's own earlier
    try: ingest is idempotent per content, so carrying on with it is safe.
    """
    taken = claimed.with_name(INGESTING_PREFIX + claimed.name)
    try:
        os.replace(claimed, taken)
    except FileNotFoundError:
        return taken if taken.exists() else None
    return taken


def ingest_claimed_file(payload: dict[str, Any]) -> dict[str, Any] | None:
    """Ingest one file the inbox watcher claimed, then drop the claimed copy (the archive keeps it).

    Returns the feedback report, or None when another run ingested this file already (the
    watcher may announce a file twice; see inbox_trigger).
    """
    from outcome_monitor.ingest import ingest_file

    taken = take_claimed_file(Path(payload["path"]))
    if taken is None:
        log.info("%s was ingested by another run", payload["original_name"])
        return None
    report = ingest_file(taken, paths(), original_name=payload["original_name"])
    taken.unlink()
    return report


def record_types_of(report: dict[str, Any]) -> list[str]:
    return sorted(report["counts"].get("by_record_type", {}))
