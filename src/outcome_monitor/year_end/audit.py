"""The append-only audit log of closes and reopens, and the state of each year derived from it.

One JSON object per line. Each line carries the SHA-256 of the line before it, so an edited or
deleted line is detected on reading (and stops the overlay, rather than silently changing which
figures are frozen).
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from typing import Literal

from outcome_monitor.year_end.layout import YearEndError, YearEndLayout

Action = Literal["close", "reopen"]
GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    at: str  # ISO 8601, UTC
    who: str
    action: Action
    year: int
    snapshot_id: str
    reason: str | None = None
    # Who asked, e.g. an Airflow run id: a retry of the same request can recognise its own close.
    request_id: str | None = None
    prev_sha256: str = GENESIS

    @property
    def at_datetime(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.at)


@dataclass(frozen=True)
class YearState:
    """Where a year stands after all entries: closed on a snapshot, or open (again)."""

    year: int
    closed: bool
    snapshot_id: str | None
    last_close: AuditEntry | None
    last_reopen: AuditEntry | None

    @property
    def status(self) -> str:
        return "afgesloten" if self.closed else "open"


def current_user() -> str:
    """The OS user running this process (what the audit log records when nobody is named)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _line_hash(line: str) -> str:
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def read_entries(layout: YearEndLayout) -> list[AuditEntry]:
    """Every entry in order; raises YearEndError naming the line if the chain of hashes is broken."""
    path = layout.audit_log
    if not path.exists():
        return []
    entries = []
    expected_prev = GENESIS
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            entry = AuditEntry(**json.loads(line))
        except (ValueError, TypeError) as error:
            raise YearEndError(f"{path}, regel {number}: geen geldige auditregel ({error})") from error
        if entry.prev_sha256 != expected_prev:
            raise YearEndError(
                f"{path}, regel {number}: de keten van hashes klopt niet (prev_sha256); "
                "het auditlog is na het schrijven gewijzigd of ingekort"
            )
        entries.append(entry)
        expected_prev = _line_hash(line)
    return entries


def append_entry(layout: YearEndLayout, entry: AuditEntry) -> AuditEntry:
    """Append `entry` chained to the last line, fsynced. Call under ``layout.lock()``."""
    existing = layout.audit_log.read_text(encoding="utf-8").splitlines() if layout.audit_log.exists() else []
    read_entries(layout)  # refuses to extend a broken chain
    chained = AuditEntry(**{**asdict(entry), "prev_sha256": _line_hash(existing[-1]) if existing else GENESIS})
    layout.root.mkdir(parents=True, exist_ok=True)
    with layout.audit_log.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(asdict(chained), ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return chained


def year_states(entries: list[AuditEntry]) -> dict[int, YearState]:
    """The state of every year that has an entry, by replaying the entries in order."""
    states: dict[int, YearState] = {}
    for entry in entries:
        before = states.get(entry.year)
        if entry.action == "close":
            states[entry.year] = YearState(entry.year, True, entry.snapshot_id, entry, None)
        elif entry.action == "reopen":
            states[entry.year] = YearState(entry.year, False, None, before.last_close if before else None, entry)
        else:
            raise YearEndError(f"auditlog: onbekende actie {entry.action!r} voor {entry.year}")
    return states


def state_of(layout: YearEndLayout, year: int) -> YearState:
    return year_states(read_entries(layout)).get(year, YearState(year, False, None, None, None))
