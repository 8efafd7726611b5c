"""The inbox watcher: an Airflow event trigger that claims each complete file dropped in the inbox.

A file is complete when its name is not hidden or ``*.part`` (uploads are written as ``.part`` and
renamed) and its size and modification time stayed the same over one poll interval (so a plain
``cp`` into the inbox is not claimed half-way). Claiming is an atomic ``os.replace`` into the
processing folder, so each file starts exactly one ingest run even if two watchers ran at once.

The triggerer imports this module: keep it free of heavy imports.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent


def is_candidate(name: str) -> bool:
    return not name.startswith(".") and not name.endswith(".part")


def claim_complete_files(
    inbox: Path, processing: Path, seen: dict[str, tuple[int, int]]
) -> list[dict[str, Any]]:
    """Claim the files whose size and mtime match the previous scan; update `seen` for the next one."""
    claimed: list[dict[str, Any]] = []
    current: dict[str, tuple[int, int]] = {}
    with os.scandir(inbox) as entries:
        for entry in entries:
            if not entry.is_file(follow_symlinks=False) or not is_candidate(entry.name):
                continue
            stat = entry.stat(follow_symlinks=False)
            signature = (stat.st_size, stat.st_mtime_ns)
            if seen.get(entry.name) != signature:
                current[entry.name] = signature
                continue
            # Unique per claim: the same name may arrive again later with other content.
            target = processing / f"{time.time_ns()}-{entry.name}"
            try:
                os.replace(entry.path, target)
            except FileNotFoundError:
                continue  # claimed by someone else in the meantime
            claimed.append({"path": str(target), "original_name": entry.name, "size": stat.st_size})
    seen.clear()
    seen.update(current)
    return claimed


class InboxTrigger(BaseEventTrigger):
    """Fires one event per complete file in `inbox`, after moving it to `processing`."""

    def __init__(self, inbox: str, processing: str, poll_interval: float = 1.0) -> None:
        super().__init__()
        self.inbox = inbox
        self.processing = processing
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"inbox": self.inbox, "processing": self.processing, "poll_interval": self.poll_interval},
        )

    async def run(self):
        inbox, processing = Path(self.inbox), Path(self.processing)
        inbox.mkdir(parents=True, exist_ok=True)
        processing.mkdir(parents=True, exist_ok=True)
        seen: dict[str, tuple[int, int]] = {}
        while True:
            for claimed in claim_complete_files(inbox, processing, seen):
                self.log.info("claimed %s", claimed["original_name"])
                yield TriggerEvent(claimed)
            await asyncio.sleep(self.poll_interval)
