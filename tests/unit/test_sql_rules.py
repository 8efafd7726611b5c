"""The DuckDB engine flags exactly the rows Great Expectations flags, for every expectation of every
ingest suite, on random rows that hit each rule's edges (valid, invalid, missing)."""

from __future__ import annotations

import random
from datetime import date

import pandas as pd
import pyarrow as pa
import pytest

from outcome_monitor.validation.gx_runner import EXPECTATIONS_DIR, load_suite, validate_dataframe
from outcome_monitor.validation.row_checks import _codelist as codelist
from outcome_monitor.validation.sql_rules import Untranslatable, unexpected_predicate, validate_table

SUITES = sorted(path.stem for path in EXPECTATIONS_DIR.glob("ingest_*.json"))


def _pools(suite: dict) -> dict[str, list]:
    """Per column, values around every rule that mentions it: inside, outside, and missing."""
    pools: dict[str, list] = {}

    def add(column: str, values: list) -> None:
        pools.setdefault(column, [None]).extend(values)

    for expectation in suite["expectations"]:
        kwargs = expectation["kwargs"]
        kind = expectation["type"]
        if kind == "expect_column_values_to_be_in_set":
            values = list(kwargs["value_set"])[:20]
            if values and isinstance(values[0], bool):
                outside = [not values[0]]
            elif values and isinstance(values[0], int):
                outside = [max(values) + 1, min(values) - 1]
            else:
                outside = ["ZZ", "0"]
            add(kwargs["column"], values + outside)
        elif kind == "expect_column_values_to_match_regex":
            add(
                kwargs["column"],
                ["12345678", "1234567", "*", "2025", "2025-H2", "2025-H3", "abc", "01", "T0", "12345678\n"],
            )
        elif kind == "expect_column_values_to_be_between":
            low, high = kwargs.get("min_value"), kwargs.get("max_value")
            edges = [v for bound in (low, high) if bound is not None for v in (bound - 1, bound, bound + 1)]
            add(kwargs["column"], edges or [0, 1])
        else:  # pair expectations: handled below, once the single-column pools say each column's type
            continue
        condition = kwargs.get("row_condition") or ""
        for word in condition.replace("(", " ").replace(")", " ").replace(".", " ").split():
            if word.isidentifier() and word not in ("notna", "notnull", "isna", "isnull"):
                literal = condition.split('"')[1] if '"' in condition else "x"
                add(word, [literal, "83", "*", "1690"])
    for expectation in suite["expectations"]:
        kwargs = expectation["kwargs"]
        if "column_A" in kwargs:
            pair = (kwargs["column_A"], kwargs["column_B"])
            numbers = [v for column in pair for v in pools.get(column, []) if isinstance(v, int)]
            for column in pair:
                # Integers when either side is known to hold them (jaar), dates otherwise.
                add(column, sorted(set(numbers)) or ["DATE"])
    return pools


def _frame(suite: dict, rows: int, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    columns = {}
    for column, pool in _pools(suite).items():
        if "DATE" in pool:
            days = [date(2025, 1, 1), date(2025, 1, 31), date(2025, 2, 1)]
            columns[column] = pd.to_datetime(pd.Series([rng.choice(days + [None]) for _ in range(rows)]))
            continue
        kinds = {type(value) for value in pool if value is not None}
        if kinds == {bool}:
            columns[column] = pd.Series([rng.choice(pool) for _ in range(rows)], dtype="boolean")
        elif kinds <= {int}:
            columns[column] = pd.Series([rng.choice(pool) for _ in range(rows)], dtype="Int64")
        else:
            picked = (rng.choice(pool) for _ in range(rows))
            columns[column] = pd.Series([None if v is None else str(v) for v in picked], dtype=object)
    return pd.DataFrame(columns)


@pytest.mark.parametrize("suite_name", SUITES)
def test_duckdb_and_great_expectations_flag_the_same_rows(suite_name):
    suite = load_suite(suite_name, codelist)
    frame = _frame(suite, rows=400, seed=len(suite_name))
    by_gx = validate_dataframe(frame, suite)
    by_sql = validate_table(pa.Table.from_pandas(frame, preserve_index=False), suite)
    assert [o.code for o in by_gx] == [o.code for o in by_sql]
    for gx_outcome, sql_outcome in zip(by_gx, by_sql, strict=True):
        assert gx_outcome.error is None, gx_outcome.error
        assert sorted(gx_outcome.failed_rows) == sql_outcome.failed_rows, (suite_name, gx_outcome.code)
    # The frame really exercised the rules: something failed and something passed.
    assert any(o.failed_rows for o in by_sql) and any(len(o.failed_rows) < len(frame) for o in by_sql)


def test_an_expectation_it_cannot_translate_is_refused_not_guessed():
    with pytest.raises(Untranslatable):
        unexpected_predicate({"type": "expect_column_values_to_be_unique", "kwargs": {"column": "x"}})
    with pytest.raises(Untranslatable):
        unexpected_predicate(
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "x", "value_set": ["a"], "row_condition": "y > 3", "condition_parser": "pandas"},
            }
        )
