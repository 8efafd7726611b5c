"""The inbox watcher: an Airflow event trigger that claims each complete file dropped in the inbox.

A file is complete when its name is not hidden or ``*.part`` (uploads are written as ``.part`` and
renamed) and its size and modification time stayed the same over one poll interval (so a plain
``cp`` into the inbox is not claimed half-way). Claiming is an atomic ``os.replace`` into the
processing folder, so each file starts exactly one ingest run even if two watchers ran at once.

Airflow batches asset events: a run consumes the events up to the moment its queue entry was
created, and an event that lands while that run is being created is only consumed by the *next*
run. So the watcher claims every complete file at once (it is safe in the processing folder) but
announces them one at a time, ``min_event_gap`` seconds apart: one run per file, as a burst of
drops would otherwise leave its last file waiting for the next one. As a safety net, a claimed
file that no ingest run has taken after ``renotify_after`` seconds is announced again; the ingest
task takes each file by rename before working on it, so a file announced twice is ingested once.

The triggerer imports this module: keep it free of heavy imports.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import deque
from pathlib import Path
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

INGESTING_PREFIX = ".ingesting-"


def is_candidate(name: str) -> bool:
    return not name.startswith(".") and not name.endswith(".part")


def stranded_files(
    processing: Path, renotify_after: float, not_yet_announced: set[str], now: float | None = None
) -> list[dict[str, Any]]:
    """Announced files no ingest run has taken for `renotify_after` seconds; their clock restarts."""
    now = time.time() if now is None else now
    stranded = []
    with os.scandir(processing) as entries:
        for entry in entries:
            if not entry.is_file(follow_symlinks=False) or entry.name.startswith("."):
                continue
            if entry.path in not_yet_announced:
                continue
            if now - entry.stat(follow_symlinks=False).st_mtime < renotify_after:
                continue
            os.utime(entry.path, (now, now))
            original = entry.name.split("-", 1)[1] if "-" in entry.name else entry.name
            stranded.append({"path": entry.path, "original_name": original, "renotified": True})
    return stranded


def claim_complete_files(inbox: Path, processing: Path, seen: dict[str, tuple[int, int]]) -> list[dict[str, Any]]:
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
            os.utime(target)  # from now on mtime means "claimed or last announced at"
            claimed.append({"path": str(target), "original_name": entry.name, "size": stat.st_size})
    seen.clear()
    seen.update(current)
    return claimed


class InboxTrigger(BaseEventTrigger):
    """Fires one event per complete file in `inbox`, after moving it to `processing`."""

    def __init__(
        self,
        inbox: str,
        processing: str,
        poll_interval: float = 1.0,
        min_event_gap: float = 2.0,
        renotify_after: float = 120.0,
    ) -> None:
        super().__init__()
        self.inbox = inbox
        self.processing = processing
        self.poll_interval = poll_interval
        self.min_event_gap = min_event_gap
        self.renotify_after = renotify_after

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "inbox": self.inbox,
                "processing": self.processing,
                "poll_interval": self.poll_interval,
                "min_event_gap": self.min_event_gap,
                "renotify_after": self.renotify_after,
            },
        )

    async def run(self):
        inbox, processing = Path(self.inbox), Path(self.processing)
        inbox.mkdir(parents=True, exist_ok=True)
        processing.mkdir(parents=True, exist_ok=True)
        seen: dict[str, tuple[int, int]] = {}
        queue: deque[dict[str, Any]] = deque()
        last_event = 0.0
        while True:
            queue.extend(claim_complete_files(inbox, processing, seen))
            queue.extend(stranded_files(processing, self.renotify_after, {item["path"] for item in queue}))
            if queue and time.monotonic() - last_event >= self.min_event_gap:
                announced = queue.popleft()
                with contextlib.suppress(FileNotFoundError):
                    os.utime(announced["path"])
                self.log.info("announcing %s", announced["original_name"])
                last_event = time.monotonic()
                yield TriggerEvent(announced)
            await asyncio.sleep(self.poll_interval)
