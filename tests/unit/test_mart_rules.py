"""The DuckDB mart engine counts what Great Expectations counts, on small hand-made DuckDB tables.

Every table is a real DuckDB file; the reference is GX 1.x on the table read into pandas (what
``check_marts`` did before). Hand-made suites pin the semantics (nulls, NaN, duplicates, compound keys
with missing parts, row conditions true, false and missing); random tables run every shipped mart suite.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from outcome_monitor import build
from outcome_monitor.validation import gx_runner, mart_rules
from outcome_monitor.validation.gx_runner import EXPECTATIONS_DIR, load_suite, validate_dataframe
from outcome_monitor.validation.sql_rules import Untranslatable, duplicate_count_sql, unexpected_predicate

MART_SUITES = sorted(path.stem for path in EXPECTATIONS_DIR.glob("mart_*.json"))
ACCEPTED = {"type": "comparison", "column": {"name": "status"}, "operator": "==", "parameter": "geaccepteerd"}


def by_gx(con: duckdb.DuckDBPyConnection, table: str, suite: dict) -> list[tuple[str, bool, int]]:
    """(code, success, failed rows) per expectation, as GX on pandas sees the table."""
    frame = con.execute(f'select * from main."{table}"').df()
    outcomes = validate_dataframe(frame, suite)
    for outcome in outcomes:
        assert outcome.error is None, (outcome.code, outcome.error)
    return [(o.code, o.success, len(o.failed_rows)) for o in outcomes]


def by_duckdb(con: duckdb.DuckDBPyConnection, table: str, suite: dict) -> list[tuple[str, bool, int]]:
    return [(o.code, o.success, o.failed_row_count) for o in mart_rules.count_failures(con, table, suite)]


def rule(kind: str, code: str, **kwargs) -> dict:
    return {"type": kind, "kwargs": kwargs, "meta": {"code": code, "severity": "afwijzing", "message": code}}


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "marts.duckdb"))
    yield connection
    connection.close()


# --- semantics, each with its count worked out by hand ------------------------------------------------


def test_uniqueness_counts_every_row_of_a_repeated_value_and_never_a_missing_one(con):
    con.execute("create table t (k varchar, a varchar, b varchar)")
    con.execute(
        "insert into t values ('x', 'p', 'q'), ('x', 'p', 'q'), ('x', 'p', null), ('y', null, 'q'),"
        " ('y', null, 'q'), (null, null, null), (null, null, null), ('z', 'p', null)"
    )
    suite = {
        "name": "uniek",
        "expectations": [
            rule("expect_column_values_to_be_unique", "K", column="k"),  # x x x y y: 5; the two nulls never count
            # (p,q) twice, (p,null) twice, (null,q) twice; the all-missing rows are ignored by default: 6
            rule("expect_compound_columns_to_be_unique", "AB", column_list=["a", "b"]),
            rule(
                "expect_compound_columns_to_be_unique",
                "AB_ANY",
                column_list=["a", "b"],
                ignore_row_if="any_value_is_missing",
            ),
            rule("expect_compound_columns_to_be_unique", "AB_NEVER", column_list=["a", "b"], ignore_row_if="never"),
            rule(
                "expect_column_values_to_be_unique",
                "K_ACC",
                column="k",
                row_condition={**ACCEPTED, "column": {"name": "a"}, "parameter": "p"},
            ),
        ],
    }
    expected = [("K", False, 5), ("AB", False, 6), ("AB_ANY", False, 2), ("AB_NEVER", False, 8), ("K_ACC", False, 3)]
    assert by_duckdb(con, "t", suite) == expected
    assert by_gx(con, "t", suite) == expected


def test_not_null_counts_missing_values_and_nan_under_the_row_condition(con):
    con.execute("create table t (status varchar, bedrag bigint, value double)")
    con.execute(
        "insert into t values ('geaccepteerd', null, 'nan'), ('geaccepteerd', 5, null), ('afgewezen', null, 0.5),"
        " (null, null, 'nan'), ('geaccepteerd', 7, 'inf')"
    )
    suite = {
        "name": "leeg",
        "expectations": [
            rule("expect_column_values_to_not_be_null", "BEDRAG", column="bedrag", row_condition=ACCEPTED),  # 1
            rule("expect_column_values_to_not_be_null", "BEDRAG_ALLE", column="bedrag"),  # 3
            rule("expect_column_values_to_not_be_null", "WAARDE", column="value", mostly=1.0),  # NaN, null, NaN: 3
            rule("expect_column_values_to_be_between", "WAARDE_01", column="value", min_value=0, max_value=1),  # inf: 1
        ],
    }
    expected = [("BEDRAG", False, 1), ("BEDRAG_ALLE", False, 3), ("WAARDE", False, 3), ("WAARDE_01", False, 1)]
    assert by_duckdb(con, "t", suite) == expected
    assert by_gx(con, "t", suite) == expected


def _condition_suite() -> dict:
    def on(operator: str, parameter) -> dict:
        return {"type": "comparison", "column": {"name": "status"}, "operator": operator, "parameter": parameter}

    def in_set(code: str, row_condition, **extra) -> dict:
        return rule(
            "expect_column_values_to_be_in_set",
            code,
            column="dc",
            value_set=["D", "C"],
            row_condition=row_condition,
            **extra,
        )

    return {
        "name": "voorwaarden",
        "expectations": [
            in_set("EQ", on("==", "geaccepteerd")),
            in_set("NE", on("!=", "geaccepteerd")),
            in_set("LT", on("<", "b")),
            in_set("GE", on(">=", "b")),
            in_set("IN", on("IN", ["geaccepteerd", "x"])),
            in_set("NOT_IN", on("NOT_IN", ["geaccepteerd", "x"])),
            in_set("IS_NULL", {"type": "nullity", "column": {"name": "status"}, "is_null": True}),
            in_set(
                "AND",
                {
                    "type": "and",
                    "conditions": [on("!=", "x"), {"type": "nullity", "column": {"name": "dc"}, "is_null": False}],
                },
            ),
            in_set("OR", {"type": "or", "conditions": [on("==", "x"), on("==", "afgewezen")]}),
            in_set("PASS", {"type": "pass_through", "pass_through_filter": 'status not in ["afgewezen"]'}),
            in_set("LEGACY_IN", 'status in ["geaccepteerd", "x"]', condition_parser="pandas"),
            in_set("LEGACY_NOT_IN", 'status not in ["geaccepteerd", "x"]', condition_parser="pandas"),
            in_set("LEGACY_EQ", 'status == "afgewezen"', condition_parser="pandas"),
            in_set("LEGACY_NOTNA", "status.notna()", condition_parser="pandas"),
        ],
    }


def test_row_conditions_keep_or_drop_rows_with_a_missing_value_as_pandas_does(con):
    con.execute("create table t (status varchar, dc varchar)")
    # Every row breaks the rule (dc outside D, C) except the last; which rows count is the condition's doing.
    con.execute(
        "insert into t values ('geaccepteerd', 'X'), ('afgewezen', 'X'), (null, 'X'), ('x', 'X'), ('a', null),"
        " ('geaccepteerd', 'D')"
    )
    counts = {code: count for code, _, count in by_duckdb(con, "t", _condition_suite())}
    # A missing status is dropped by ==, <, >=, in and kept by != and not in.
    assert counts["EQ"] == 1 and counts["NE"] == 3 and counts["IN"] == 2 and counts["NOT_IN"] == 2
    assert counts["LT"] == 1 and counts["GE"] == 2 and counts["IS_NULL"] == 1 and counts["OR"] == 2
    assert counts["AND"] == 3 and counts["PASS"] == 3 and counts["LEGACY_NOT_IN"] == 2 and counts["LEGACY_NOTNA"] == 3
    assert by_duckdb(con, "t", _condition_suite()) == by_gx(con, "t", _condition_suite())


def test_regex_dollar_also_matches_before_a_final_newline_as_in_python(con):
    con.execute("create table t (code varchar)")
    con.execute("insert into t values ('1234'), ('1234' || chr(10)), ('12345'), ('1234' || chr(10) || 'x'), (null)")
    suite = {
        "name": "regex",
        "expectations": [
            rule("expect_column_values_to_match_regex", "END", column="code", regex="^[0-9]{4}$"),
            rule("expect_column_values_to_match_regex", "ALT", column="code", regex="^(?:[0-9]{5}$|x$)"),
            rule("expect_column_values_to_match_regex", "Z", column="code", regex="^[0-9]{4}\\Z"),
        ],
    }
    expected = [("END", False, 2), ("ALT", False, 3), ("Z", False, 3)]
    assert by_duckdb(con, "t", suite) == expected
    assert by_gx(con, "t", suite) == expected


def test_a_rule_duckdb_cannot_run_fails_with_its_error_and_the_others_still_count(con):
    con.execute("create table t (status varchar)")
    con.execute("insert into t values ('a'), ('b')")
    suite = {
        "name": "kapot",
        "expectations": [
            rule("expect_column_values_to_not_be_null", "GEEN_KOLOM", column="bestaat_niet"),
            rule("expect_column_values_to_be_in_set", "STATUS", column="status", value_set=["a"]),
        ],
    }
    missing, status = mart_rules.count_failures(con, "t", suite)
    assert not missing.success and "bestaat_niet" in missing.error
    assert (status.success, status.failed_row_count, status.error) == (False, 1, None)
    # GX cannot evaluate a missing column either.
    assert validate_dataframe(con.execute("select * from t").df(), suite)[0].error


@pytest.mark.parametrize(
    "expectation",
    [
        rule("expect_column_values_to_not_be_null", "X", column="a", mostly=0.9),
        rule("expect_column_values_to_be_unique", "X", column="a", mostly=0.5),
        rule("expect_column_values_to_match_regex", "X", column="a", regex="^\\d+$"),
        rule("expect_column_values_to_match_regex", "X", column="a", regex="^a(?=b)"),
        rule("expect_column_values_to_match_regex", "X", column="a", regex="^a$b"),
        rule(
            "expect_column_values_to_be_in_set",
            "X",
            column="a",
            value_set=["a"],
            row_condition={"type": "comparison", "column": {"name": "b"}, "operator": "LIKE", "parameter": "x"},
        ),
        rule(
            "expect_column_values_to_be_in_set",
            "X",
            column="a",
            value_set=["a"],
            row_condition="b > 3",
            condition_parser="pandas",
        ),
        rule("expect_column_mean_to_be_between", "X", column="a", min_value=1),
    ],
)
def test_what_duckdb_cannot_mirror_exactly_is_refused_not_guessed(expectation):
    with pytest.raises(Untranslatable):
        if expectation["type"] in mart_rules.UNIQUENESS:
            duplicate_count_sql(expectation, "t")
        else:
            unexpected_predicate(expectation)


# --- every shipped mart suite on random tables that hit each rule's edges ----------------------------------

STRINGS = ["12345678", "1234", "*", "2025", "2025-H1", "2025-H3", "UITVAL", "CEO_7", "CEO_", "abc", "0363\n", ""]


def _columns(suite: dict) -> dict[str, tuple[str, list]]:
    """Per column of the suite: its DuckDB type and values around every rule that reads it (None included)."""
    pools: dict[str, tuple[str, list]] = {}

    def add(column: str, kind: str, values: list) -> None:
        pools.setdefault(column, (kind, [None]))[1].extend(values)

    def conditions(condition) -> None:
        if isinstance(condition, dict):
            for inner in condition.get("conditions", []):
                conditions(inner)
            if condition.get("type") == "comparison":
                parameter = condition["parameter"]
                add(
                    condition["column"]["name"],
                    "varchar",
                    [*(parameter if isinstance(parameter, list) else [parameter]), "ander"],
                )
        elif isinstance(condition, str) and condition:
            add(condition.split()[0], "varchar", [*condition.split('"')[1::2], "ander"])

    for expectation in suite["expectations"]:
        kwargs, kind = expectation["kwargs"], expectation["type"]
        conditions(kwargs.get("row_condition"))
        if kind == "expect_column_values_to_be_in_set":
            add(kwargs["column"], "varchar", [*kwargs["value_set"], "ZZ"])
        elif kind == "expect_column_values_to_match_regex":
            add(kwargs["column"], "varchar", STRINGS + ["TEVREDENHEID", "UITPUTTING"])
        elif kind == "expect_column_values_to_be_between":
            bounds = [b for b in (kwargs.get("min_value"), kwargs.get("max_value")) if b is not None]
            add(kwargs["column"], "double", [v for b in bounds for v in (b - 0.5, b, b + 1)] + [float("nan")])
    for expectation in suite["expectations"]:
        kwargs = expectation["kwargs"]
        for name in [
            kwargs.get("column"),
            kwargs.get("column_A"),
            kwargs.get("column_B"),
            *kwargs.get("column_list", []),
        ]:
            if name and name not in pools:
                if "column_A" in kwargs:  # a pair: the type its partner has, dates if neither has one yet
                    partner = pools.get(kwargs["column_A"]) or pools.get(kwargs["column_B"])
                    if partner:
                        add(name, partner[0], [v for v in partner[1] if v is not None])
                    else:
                        add(name, "date", [date(2025, 1, 31) + timedelta(days=d) for d in (-1, 0, 1)])
                else:  # a key: enough values that some repeat and some do not
                    add(name, "varchar", [f"k{i}" for i in range(40)])
    return pools


def _random_table(con: duckdb.DuckDBPyConnection, suite: dict, rows: int, seed: int) -> str:
    rng = random.Random(seed)
    pools = _columns(suite)
    names = list(pools)
    con.execute("create or replace table t (" + ", ".join(f'"{n}" {pools[n][0]}' for n in names) + ")")
    values = [[rng.choice(pools[n][1]) for n in names] for _ in range(rows)]
    values += rng.sample(values, 5)  # whole rows repeated: compound keys collide
    con.executemany(f"insert into t values ({', '.join('?' for _ in names)})", values)
    return "t"


@pytest.mark.parametrize("suite_name", MART_SUITES)
def test_duckdb_and_great_expectations_count_the_same_on_every_shipped_mart_suite(con, suite_name):
    suite = load_suite(suite_name)
    failed_somewhere, passed_somewhere = set(), set()
    for seed in range(3):
        table = _random_table(con, suite, rows=120, seed=seed + len(suite_name))
        sql = by_duckdb(con, table, suite)
        assert sql == by_gx(con, table, suite), suite_name
        failed_somewhere |= {code for code, success, _ in sql if not success}
        passed_somewhere |= {code for code, _, count in sql if count < 120}
    # The tables exercised every rule: each one failed somewhere and let rows through somewhere.
    codes = {e["meta"]["code"] for e in suite["expectations"]}
    assert failed_somewhere == codes and passed_somewhere == codes


# --- check_marts: its verdicts and its errors ------------------------------------------------------------


def _suite_dir(tmp_path: Path, monkeypatch, suites: dict[str, dict]) -> None:
    folder = tmp_path / "expectations"
    folder.mkdir()
    for name, suite in suites.items():
        (folder / f"{name}.json").write_text(json.dumps({"name": name, **suite}), encoding="utf-8")
    monkeypatch.setattr(gx_runner, "EXPECTATIONS_DIR", folder)


def test_check_marts_returns_signalering_failures_and_raises_on_afwijzing(tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table fct_x as select * from (values ('a', 1), ('a', 2), (null, 3)) v(k, n)")
    signal = rule("expect_column_values_to_not_be_null", "X_LEEG", column="k") | {
        "meta": {"code": "X_LEEG", "severity": "signalering", "message": "Leeg."}
    }
    unique = rule("expect_column_values_to_be_unique", "X_UNIEK", column="k")
    _suite_dir(tmp_path, monkeypatch, {"mart_fct_x": {"expectations": [signal]}})
    [check] = build.check_marts(db)
    assert (check.table, check.code, check.severity, check.success, check.failed_row_count) == (
        "fct_x",
        "X_LEEG",
        "signalering",
        False,
        1,
    )
    (tmp_path / "expectations" / "mart_fct_x.json").write_text(
        json.dumps({"name": "mart_fct_x", "expectations": [signal, unique]})
    )
    with pytest.raises(
        build.BuildError, match=r"fct_x: expect_column_values_to_be_unique \[X_UNIEK\] X_UNIEK \(2 rijen\)"
    ):
        build.check_marts(db)


def test_check_marts_raises_for_a_missing_mart(tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table fct_x as select 1 as n")
    _suite_dir(
        tmp_path,
        monkeypatch,
        {"mart_fct_y": {"expectations": [rule("expect_column_values_to_not_be_null", "Y", column="n")]}},
    )
    with pytest.raises(build.BuildError, match="mart fct_y ontbreekt in w.duckdb"):
        build.check_marts(db)


def test_check_marts_refuses_a_rule_it_cannot_translate(tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table fct_x as select 1 as n")
    mean = rule("expect_column_mean_to_be_between", "GEMIDDELD", column="n", min_value=2)
    _suite_dir(tmp_path, monkeypatch, {"mart_fct_x": {"expectations": [mean]}})
    with pytest.raises(build.BuildError, match="mart_fct_x.json: regel niet naar DuckDB-SQL te vertalen"):
        build.check_marts(db)


def test_check_marts_names_a_rule_duckdb_cannot_run(tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table fct_x as select 1 as n")
    _suite_dir(
        tmp_path,
        monkeypatch,
        {"mart_fct_x": {"expectations": [rule("expect_column_values_to_not_be_null", "WEG", column="weg")]}},
    )
    with pytest.raises(build.BuildError, match=r"\[WEG\].*weg"):
        build.check_marts(db)
