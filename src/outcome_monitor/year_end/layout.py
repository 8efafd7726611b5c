"""Where the year-end state lives: ``$OUTCOME_MONITOR_HOME/year_end/``.

year_end/audit.jsonl                                     append-only: who closed/reopened what, when
year_end/snapshots/<year>/<snapshot_id>/<table>.parquet  the frozen rows of that year, read-only
year_end/snapshots/<year>/<snapshot_id>/snapshot.json    what they were made from, with hashes
year_end/.lock                                           one close, reopen or publish at a time
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from outcome_monitor.config import Paths

SNAPSHOT_FILE = "snapshot.json"
# Tables the overlay itself writes: never part of a snapshot.
STATUS_TABLE = "rpt_controller__jaarstatus"
CHANGES_TABLE = "rpt_controller__wijzigingen_na_afsluiting"
YEAR_TABLE_PREFIX = "rpt_controller__"


class YearEndError(RuntimeError):
    """A close, reopen or overlay cannot go ahead; the message (Dutch) says why and what to do."""


@dataclass(frozen=True)
class YearEndLayout:
    root: Path

    @classmethod
    def of(cls, paths: Paths) -> YearEndLayout:
        return cls(paths.home / "year_end")

    @property
    def audit_log(self) -> Path:
        return self.root / "audit.jsonl"

    @property
    def snapshots(self) -> Path:
        return self.root / "snapshots"

    def snapshot_dir(self, year: int, snapshot_id: str) -> Path:
        return self.snapshots / str(year) / snapshot_id

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """An exclusive lock across processes: closes, reopens and publishes never interleave.

        Re-entrant within a process (a close publishes while it holds the lock); flock itself is not:
        a second descriptor of the same process would wait for the first forever.
        """
        key = str(self.root.resolve())
        if _held.get(key):
            _held[key] += 1
            try:
                yield
            finally:
                _held[key] -= 1
            return
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _held[key] = 1
            yield
        finally:
            _held.pop(key, None)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


# Year-end roots whose lock this process holds, with the nesting depth.
_held: dict[str, int] = {}


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
