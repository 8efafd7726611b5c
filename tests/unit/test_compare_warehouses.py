"""compare_warehouses: two real DuckDB files, equal or differing in rows, duplicates, types or tables."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from outcome_monitor.bench.compare_warehouses import compare_warehouses, main


def _warehouse(path: Path, statements: list[str]) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema intermediate")
        con.execute("create table main.fct_x (id integer, codes varchar[], amount double)")
        con.execute("insert into main.fct_x values (1, ['9338'], 1.5), (2, [], null), (2, [], null)")
        con.execute(
            "create view intermediate.int_y as select * from (values (1, 3.0), (2, null)) as t (id, double_amount)"
        )
        con.execute(
            "create table main.rpt_build_info as select 'run-a' as dbt_invocation_id, now() as built_at, 7 as n"
        )
        for statement in statements:
            con.execute(statement)
    return path


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    return _warehouse(tmp_path / "a.duckdb", [])


def test_the_same_content_built_twice_is_equal_and_build_stamps_are_ignored(tmp_path: Path, reference: Path) -> None:
    # rows in another order, another invocation id and build time: still the same result
    other = _warehouse(
        tmp_path / "b.duckdb",
        [
            "create or replace table main.fct_x as select * from main.fct_x order by id desc",
            "update main.rpt_build_info set dbt_invocation_id = 'run-b', built_at = now() - interval 1 day",
        ],
    )
    assert compare_warehouses(reference, other) == []
    assert main([str(reference), str(other)]) == 0


@pytest.mark.parametrize(
    ("statements", "relation", "detail"),
    [
        (["update main.fct_x set amount = 1.5000000000000002 where id = 1"], "main.fct_x", "1 rijen alleen in A"),
        # a multiset: one copy of a duplicated row fewer is a difference
        (["delete from main.fct_x where id = 2", "insert into main.fct_x values (2, [], null)"],
         "main.fct_x", "1 rijen alleen in A, 0 rijen alleen in B"),
        (["update main.fct_x set codes = ['9338', '8021'] where id = 1"], "main.fct_x", "rijen alleen in A"),
        # a view's rows are compared as well as a table's
        (["create or replace view intermediate.int_y as select * from (values (1, 3.0)) as t (id, double_amount)"],
         "intermediate.int_y", "1 rijen alleen in A, 0 rijen alleen in B"),
        (["alter table main.fct_x alter id type bigint"], "main.fct_x", "id (INTEGER / BIGINT)"),
        (["drop view intermediate.int_y"], "intermediate.int_y", "alleen in a.duckdb"),
        (["update main.rpt_build_info set n = 8"], "main.rpt_build_info", "rijen alleen in A"),
    ],
)  # fmt: skip
def test_a_difference_names_the_relation(
    tmp_path: Path, reference: Path, statements: list[str], relation: str, detail: str
) -> None:
    other = _warehouse(tmp_path / "b.duckdb", statements)
    differences = compare_warehouses(reference, other)
    assert [difference.relation for difference in differences] == [relation]
    assert detail in differences[0].detail


def test_the_command_exits_non_zero_and_prints_the_differing_tables(
    tmp_path: Path, reference: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = _warehouse(tmp_path / "b.duckdb", ["create table main.fct_extra as select 1 as id"])
    assert main([str(reference), str(other)]) == 1
    assert "main.fct_extra: alleen in b.duckdb" in capsys.readouterr().out
    # a column named for --ignore is left out of the comparison
    changed = _warehouse(tmp_path / "c.duckdb", ["update main.fct_x set amount = 9 where id = 1"])
    assert main([str(reference), str(changed), "--ignore", "fct_x.amount"]) == 0
