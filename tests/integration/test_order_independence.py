"""The same files, received in two different orders, give identical published tables.

Each file keeps its own receipt time in both runs (timeliness depends on when a file arrived, not
on the order the pipeline happened to process it); only the processing order differs.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import duckdb

from outcome_monitor.build import build_and_publish
from outcome_monitor.config import Paths
from outcome_monitor.generate import generate
from outcome_monitor.ingest import ingest_file

# Differ per build by nature: when and from what the build ran.
_BUILD_DEPENDENT = {"rpt_build_info"}


def _published_tables(paths: Paths) -> dict[str, list[tuple]]:
    with duckdb.connect(str(paths.published_warehouse), read_only=True) as con:
        names = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'main' order by 1"
            ).fetchall()
            if name not in _BUILD_DEPENDENT
        ]
        return {name: _normalised(con.execute(f'select * from "{name}" order by all').fetchall()) for name in names}


def _normalised(rows: list[tuple]) -> list[tuple]:
    """Doubles to 9 decimals, NaN comparable: a parallel float sum may differ in its last bits
    between two builds of the very same input (seen in a regression slope), which is not data."""

    def value(v):
        if isinstance(v, float):
            return "nan" if math.isnan(v) else round(v, 9)
        if isinstance(v, list):
            return tuple(value(item) for item in v)
        return v

    return [tuple(value(v) for v in row) for row in rows]


def test_two_arrival_orders_publish_identical_tables(tmp_path, monkeypatch):
    monkeypatch.setenv("OUTCOME_MONITOR_PSEUDONYM_KEY", "test-key-not-secret")
    generate(tmp_path / "sample", seed=5, scale=0.25)
    files = sorted((tmp_path / "sample" / "submissions").iterdir())
    start = datetime(2026, 7, 1, tzinfo=UTC)
    receipt = {file.name: start + timedelta(hours=position) for position, file in enumerate(files)}

    published = {}
    for label, order in (("forward", files), ("backward", list(reversed(files)))):
        paths = Paths(tmp_path / label)
        monkeypatch.setenv("OUTCOME_MONITOR_HOME", str(paths.home))
        for file in order:
            ingest_file(file, paths, received_at=receipt[file.name])
        build_and_publish(paths, as_of_date="2026-11-01")
        published[label] = _published_tables(paths)

    forward, backward = published["forward"], published["backward"]
    assert forward.keys() == backward.keys()
    assert forward["fct_declaration_line"] and forward["fct_indicator"] and forward["fct_finding"]
    for name in forward:
        assert forward[name] == backward[name], f"{name} depends on the arrival order"
