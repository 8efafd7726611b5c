"""The DuckDB mart engine against Great Expectations on a real warehouse: the sample region, built by dbt.

Once as published (every rule holds), once as a copy in which each rule of each shipped mart suite is
broken on its own slice of rows (plus NaN where the marts have floats, and missing values in the
columns the row conditions read): both engines must give the same verdict and count for every rule,
and ``check_marts`` must refuse the broken copy naming every code.
"""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import pytest
from fixtures_sample import published_sample
from test_mart_rules import MART_SUITES, by_duckdb, by_gx

from outcome_monitor import build
from outcome_monitor.validation.gx_runner import load_suite

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path, _ = published_sample(tmp_path_factory, scale=0.1, as_of=date(2026, 11, 22))
    return path


def _break(con: duckdb.DuckDBPyConnection, table: str, position: int, expectation: dict) -> None:
    """Make rows of `table` break `expectation` (a slice of rows per rule, so the breaks do not mask each other)."""
    kind, kwargs = expectation["type"], expectation["kwargs"]
    # Slices apart, as far as the table's size allows (a one-row mart gets every break on its row).
    slices = min(16, con.execute(f"select count(*) from {table}").fetchone()[0])
    where = f"rowid % {slices} = {position % slices}"
    if kind == "expect_column_values_to_not_be_null":
        con.execute(f'update {table} set "{kwargs["column"]}" = null where {where}')
    elif kind == "expect_column_values_to_be_in_set":
        con.execute(f"update {table} set \"{kwargs['column']}\" = 'ZZ' where {where}")
    elif kind == "expect_column_values_to_match_regex":
        con.execute(f'update {table} set "{kwargs["column"]}" = "{kwargs["column"]}" || \' x\' where {where}')
    elif kind == "expect_column_values_to_be_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        value = low - 1 if low is not None else high + 1
        con.execute(f'update {table} set "{kwargs["column"]}" = {value} where {where}')
    elif kind == "expect_column_pair_values_a_to_be_greater_than_b":
        con.execute(f'update {table} set "{kwargs["column_A"]}" = "{kwargs["column_B"]}" - 1 where {where}')
    elif kind in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
        con.execute(f"insert into {table} select * from {table} where rowid % 11 = 0")
    else:
        raise AssertionError(f"no way to break {kind} yet: add one here")


@pytest.fixture(scope="module")
def broken(warehouse, tmp_path_factory):
    """A copy of the warehouse in which every rule of every mart suite fails somewhere."""
    path = tmp_path_factory.mktemp("broken") / "warehouse.duckdb"
    shutil.copyfile(warehouse, path)
    with duckdb.connect(str(path)) as con:
        for suite_name in MART_SUITES:
            table = suite_name.removeprefix("mart_")
            # Without dbt's NOT NULL constraints, so that missing values can be written.
            con.execute(f"create table broken_copy as select * from {table}")
            con.execute(f"drop table {table}")
            con.execute(f"alter table broken_copy rename to {table}")
            for position, expectation in enumerate(load_suite(suite_name)["expectations"]):
                _break(con, table, position, expectation)
        # NaN is missing to pandas, a value to DuckDB; null in the columns row conditions read.
        con.execute("update fct_indicator set value = 'nan' where rowid % 5 = 1")
        con.execute("update fct_declaration_line set status = null where rowid % 13 = 2")
        con.execute("update fct_indicator set indicator_code = null where rowid % 17 = 3")
    return path


@pytest.mark.parametrize("suite_name", MART_SUITES)
def test_both_engines_pass_every_rule_of_the_published_warehouse(warehouse, suite_name):
    suite, table = load_suite(suite_name), suite_name.removeprefix("mart_")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(f"select count(*) from {table}").fetchone()[0] > 0, table
        sql = by_duckdb(con, table, suite)
        assert sql == by_gx(con, table, suite)
    assert all(success for _, success, _ in sql)


@pytest.mark.parametrize("suite_name", MART_SUITES)
def test_both_engines_count_the_same_broken_rows(broken, suite_name):
    suite, table = load_suite(suite_name), suite_name.removeprefix("mart_")
    with duckdb.connect(str(broken), read_only=True) as con:
        sql = by_duckdb(con, table, suite)
        assert sql == by_gx(con, table, suite)
    assert [code for code, success, count in sql if success or count == 0] == []


def test_check_marts_passes_the_published_warehouse_and_refuses_the_broken_copy_naming_every_code(warehouse, broken):
    checks = build.check_marts(warehouse)
    assert len(checks) == sum(len(load_suite(name)["expectations"]) for name in MART_SUITES)
    assert all(check.success and check.failed_row_count == 0 and check.error is None for check in checks)
    with pytest.raises(build.BuildError) as failure:
        build.check_marts(broken)
    for name in MART_SUITES:
        for expectation in load_suite(name)["expectations"]:
            assert f"[{expectation['meta']['code']}]" in str(failure.value)
