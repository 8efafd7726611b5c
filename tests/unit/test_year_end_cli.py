"""`outcome-monitor close-year` / `reopen-year`: refusals in Dutch with exit code 1, recorded reopens."""

from __future__ import annotations

import json

import pytest
from fixtures_year_end import write_warehouse

from outcome_monitor.cli import main
from outcome_monitor.config import Paths
from outcome_monitor.year_end.audit import append_entry, read_entries
from outcome_monitor.year_end.close import freeze_year
from outcome_monitor.year_end.layout import YearEndLayout


@pytest.fixture
def closed_home(home, tmp_path) -> Paths:
    paths = Paths(home)
    _, entry = freeze_year(write_warehouse(tmp_path / "w.duckdb"), paths, 2025, who="controller", submissions=[])
    append_entry(YearEndLayout.of(paths), entry)
    return paths


def test_reopen_without_reason_is_refused(closed_home, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["reopen-year", "2025"])
    assert exit_info.value.code == 2
    assert "--reason" in capsys.readouterr().err

    assert main(["reopen-year", "2025", "--reason", "  ", "--no-build"]) == 1
    assert "niet heropend: Heropenen van 2025 vraagt een reden" in capsys.readouterr().err
    assert [e.action for e in read_entries(YearEndLayout.of(closed_home))] == ["close"]


def test_closing_a_closed_year_exits_1_and_reopen_is_recorded_with_who(closed_home, capsys):
    assert main(["close-year", "2025", "--door", "j.jansen"]) == 1
    assert "niet afgesloten: Verslagjaar 2025 is al afgesloten" in capsys.readouterr().err

    assert main(["reopen-year", "2025", "--reason", "Correctie aanbieder", "--door", "j.jansen", "--no-build"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["audit"]["who"] == "j.jansen" and printed["audit"]["reason"] == "Correctie aanbieder"
    assert [(e.action, e.who) for e in read_entries(YearEndLayout.of(closed_home))] == [
        ("close", "controller"),
        ("reopen", "j.jansen"),
    ]
    assert main(["reopen-year", "2025", "--reason", "nog eens", "--no-build"]) == 1
    assert "Verslagjaar 2025 is niet afgesloten" in capsys.readouterr().err
