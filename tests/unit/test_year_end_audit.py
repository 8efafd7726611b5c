"""The audit log: append-only, chained by hashes, and the year's state derived from it."""

from __future__ import annotations

import json

import pytest

from outcome_monitor.year_end.audit import AuditEntry, append_entry, read_entries, state_of, year_states
from outcome_monitor.year_end.layout import YearEndError, YearEndLayout


def entry(action, year=2025, snapshot_id="a" * 16, at="2026-04-01T10:00:00+00:00", **extra):
    return AuditEntry(at=at, who="controller", action=action, year=year, snapshot_id=snapshot_id, **extra)


def test_an_unknown_year_is_open(tmp_path):
    state = state_of(YearEndLayout(tmp_path), 2025)
    assert (state.closed, state.status, state.snapshot_id) == (False, "open", None)


def test_state_follows_close_reopen_close(tmp_path):
    layout = YearEndLayout(tmp_path)
    append_entry(layout, entry("close", snapshot_id="1" * 16))
    assert state_of(layout, 2025).snapshot_id == "1" * 16
    append_entry(layout, entry("reopen", snapshot_id="1" * 16, reason="late correctie"))
    reopened = state_of(layout, 2025)
    assert (reopened.status, reopened.snapshot_id, reopened.last_reopen.reason) == ("open", None, "late correctie")
    append_entry(layout, entry("close", snapshot_id="2" * 16))
    append_entry(layout, entry("close", year=2024, snapshot_id="3" * 16))

    states = year_states(read_entries(layout))
    assert {year: (s.status, s.snapshot_id) for year, s in states.items()} == {
        2025: ("afgesloten", "2" * 16),
        2024: ("afgesloten", "3" * 16),
    }
    lines = layout.audit_log.read_text().splitlines()
    assert [json.loads(line)["action"] for line in lines] == ["close", "reopen", "close", "close"]


def test_an_edited_line_breaks_the_chain_and_is_named(tmp_path):
    layout = YearEndLayout(tmp_path)
    append_entry(layout, entry("close", snapshot_id="1" * 16))
    append_entry(layout, entry("reopen", reason="fout gevonden"))
    append_entry(layout, entry("close", snapshot_id="2" * 16))
    lines = layout.audit_log.read_text().splitlines()
    lines[1] = lines[1].replace("fout gevonden", "andere reden")
    layout.audit_log.write_text("\n".join(lines) + "\n")

    with pytest.raises(YearEndError, match=r"regel 3: de keten van hashes klopt niet"):
        read_entries(layout)
    with pytest.raises(YearEndError, match="regel 3"):
        append_entry(layout, entry("reopen", reason="x"))


def test_a_deleted_first_line_is_detected(tmp_path):
    layout = YearEndLayout(tmp_path)
    append_entry(layout, entry("close"))
    append_entry(layout, entry("reopen", reason="r"))
    layout.audit_log.write_text(layout.audit_log.read_text().splitlines()[1] + "\n")
    with pytest.raises(YearEndError, match="regel 1"):
        read_entries(layout)


def test_the_lock_excludes_another_process(tmp_path):
    import subprocess
    import sys

    layout = YearEndLayout(tmp_path / "year_end")
    probe = (
        "import fcntl, os, sys\n"
        f"fd = os.open({str(layout.root / '.lock')!r}, os.O_RDWR)\n"
        "try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept BlockingIOError:\n    sys.exit(3)\n"
    )
    with layout.lock():
        held = subprocess.run([sys.executable, "-c", probe])
    free = subprocess.run([sys.executable, "-c", probe])
    assert (held.returncode, free.returncode) == (3, 0)
