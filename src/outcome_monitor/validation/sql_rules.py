"""The same expectation suites, evaluated by DuckDB: the engine for large submissions.

Great Expectations on pandas validates a 200,000-row chunk in about 6 s on two cores (it hashes the
whole frame twice and resolves metrics one by one); a one-million-line declaration would spend most
of its time there. This module translates each expectation of a suite into one SQL predicate that is
true for an unexpected row, and evaluates all of them in a single DuckDB pass over the Arrow table.

The suite files stay the only definition of the rules. Only the expectation types and row
conditions our suites use are translated; anything else raises ``Untranslatable`` rather than
guess. ``tests/unit/test_sql_rules.py`` runs every shipped suite through both engines, so a suite
that gains an untranslatable rule fails there, and both must flag exactly the same rows.
GX semantics mirrored here: missing values never fail a single-column expectation (except
``expect_column_values_to_not_be_null``); pair and compound expectations skip a row as ``ignore_row_if``
says; a row condition ``a != "x"`` or ``a not in [...]`` keeps rows where ``a`` is missing (NaN != "x"
is true in pandas), ``==``, ``in`` and ``<`` drop them; a regex is matched as Python's ``re.search``
(``$`` also matches before a final newline). Uniqueness is no row predicate: ``duplicate_count_sql``
counts, as GX does, every row of a repeated value (missing values never count).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from outcome_monitor.validation.gx_runner import ExpectationOutcome

ROW = "__row"


class Untranslatable(ValueError):
    pass


def _identifier(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise Untranslatable(f"column name {name!r}")
    return f'"{name}"'


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise Untranslatable(f"literal {value!r}")


_CONDITION = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(==|!=)\s*"([^"\\]*)"\s*$')
_NULL_TEST = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\.(notna|notnull|isna|isnull)\(\)\s*$")
_MEMBERSHIP = re.compile(
    r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s+(not\s+in|in)\s*\[((?:\s*"[^"\\]*"\s*,)*\s*"[^"\\]*"\s*)\]\s*$'
)

# A structured (GX 1.x) comparison becomes a pandas query; these operators are true for a missing value there.
_TRUE_WHEN_MISSING = {"!=", "NOT_IN"}
_SQL_OPERATOR = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "IN": "in", "NOT_IN": "not in"}


def _comparison(column: str, operator: str, value: Any) -> str:
    """SQL for a pandas comparison: missing values make it false, except for != and not in."""
    if operator not in _SQL_OPERATOR:
        raise Untranslatable(f"row condition operator {operator!r}")
    name = _identifier(column)
    if operator in ("IN", "NOT_IN"):
        if isinstance(value, str) or not isinstance(value, list | tuple) or not value:
            raise Untranslatable(f"row condition {operator} {value!r}")
        right = "(" + ", ".join(_literal(item) for item in value) + ")"
    else:
        right = _literal(value)
    compared = f"{name} {_SQL_OPERATOR[operator]} {right}"
    return f"({name} is null or {compared})" if operator in _TRUE_WHEN_MISSING else compared


def _structured_condition(condition: dict[str, Any]) -> str:
    """A GX 1.x row condition (comparison, nullity, and, or, pass_through) as SQL."""
    kind = condition.get("type")
    if kind == "comparison":
        return _comparison(condition["column"]["name"], str(condition["operator"]), condition["parameter"])
    if kind == "nullity":
        return f"{_identifier(condition['column']['name'])} is {'' if condition['is_null'] else 'not '}null"
    if kind in ("and", "or") and condition.get("conditions"):
        return "(" + f" {kind} ".join(f"({_structured_condition(c)})" for c in condition["conditions"]) + ")"
    if kind == "pass_through":
        return _pandas_condition(condition["pass_through_filter"])
    raise Untranslatable(f"row condition {condition!r}")


def _pandas_condition(condition: str) -> str:
    if match := _CONDITION.match(condition):
        column, operator, value = match.groups()
        return _comparison(column, operator, value)
    if match := _MEMBERSHIP.match(condition):
        column, operator, values = match.groups()
        return _comparison(column, "NOT_IN" if operator.startswith("not") else "IN", re.findall(r'"([^"]*)"', values))
    if match := _NULL_TEST.match(condition):
        column, test = match.groups()
        return f"{_identifier(column)} is {'not ' if test.startswith('not') else ''}null"
    raise Untranslatable(f"row condition {condition!r}")


def _row_condition(kwargs: dict[str, Any]) -> str:
    condition = kwargs.get("row_condition")
    if not condition:
        return "true"
    if isinstance(condition, dict):
        return _structured_condition(condition)
    if kwargs.get("condition_parser") != "pandas":
        raise Untranslatable(f"condition parser {kwargs.get('condition_parser')!r}")
    return _pandas_condition(condition)


# Python's re and DuckDB's RE2 agree on the plain syntax our suites use. They differ on $ (Python also
# matches before a final newline), \Z (RE2 spells it \z), Unicode classes (\d, \w, \s, \b), lookarounds
# and back references: $ and \Z are rewritten, the others refused.
_REGEX_REFUSED = re.compile(r"\\[dDwWsSbBuUNx0-9]|\(\?[=!<]")


def _python_regex(regex: str) -> str:
    """`regex` for RE2 with the meaning ``re.search`` gives it in pandas, or Untranslatable."""
    out, index, in_class = [], 0, False
    while index < len(regex):
        char = regex[index]
        if char == "\\":
            escaped = regex[index : index + 2]
            if _REGEX_REFUSED.match(escaped):
                raise Untranslatable(f"regex {regex!r}: {escaped}")
            out.append("\\z" if escaped == "\\Z" and not in_class else escaped)
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            # A ] right after [ or [^ is a literal member, not the end of the class.
            if regex[index + 1 : index + 2] == "]" or regex[index + 1 : index + 3] == "^]":
                skip = 2 if regex[index + 1] == "]" else 3
                out.append(regex[index : index + skip])
                index += skip
                continue
        elif char == "$":
            if regex[index + 1 : index + 2] not in ("", ")", "|"):
                raise Untranslatable(f"regex {regex!r}: $ followed by more pattern")
            out.append("(?:\n?\\z)")
            index += 1
            continue
        elif regex.startswith("(?", index) and _REGEX_REFUSED.match(regex, index):
            raise Untranslatable(f"regex {regex!r}: lookaround")
        out.append(char)
        index += 1
    return "".join(out)


def _pair_skip(kwargs: dict[str, Any], a: str, b: str) -> str:
    ignore = kwargs.get("ignore_row_if", "both_values_are_missing")
    if ignore == "either_value_is_missing":
        return f"({a} is null or {b} is null)"
    if ignore == "both_values_are_missing":
        return f"({a} is null and {b} is null)"
    if ignore == "neither":
        return "false"
    raise Untranslatable(f"ignore_row_if {ignore!r}")


def unexpected_predicate(expectation: dict[str, Any], value_set_table: Callable[[list], str] | None = None) -> str:
    """SQL that is true for a row the expectation counts as unexpected.

    With `value_set_table`, a long value set is looked up in the table it names (one column ``v``):
    DuckDB plans a long IN list of constants in tens of milliseconds per query, a lookup in microseconds.
    """
    kind, kwargs = expectation["type"], expectation["kwargs"]
    unknown = set(kwargs) - {
        "column",
        "value_set",
        "regex",
        "min_value",
        "max_value",
        "strict_min",
        "strict_max",
        "column_A",
        "column_B",
        "or_equal",
        "ignore_row_if",
        "row_condition",
        "condition_parser",
        "mostly",
    }
    if unknown:
        raise Untranslatable(f"{kind} with {sorted(unknown)}")
    _refuse_partial_success(kind, kwargs)
    where = _row_condition(kwargs)
    if kind == "expect_column_values_to_not_be_null":
        failing = f"{_identifier(kwargs['column'])} is null"
    elif kind == "expect_column_values_to_be_in_set":
        column = _identifier(kwargs["column"])
        if value_set_table is not None and len(kwargs["value_set"]) > SHORT_VALUE_SET:
            failing = f"{column} is not null and {column} not in (select v from {value_set_table(kwargs['value_set'])})"
        else:
            values = ", ".join(_literal(value) for value in kwargs["value_set"]) or "null"
            failing = f"{column} is not null and {column} not in ({values})"
    elif kind == "expect_column_values_to_match_regex":
        column = _identifier(kwargs["column"])
        regex = _literal(_python_regex(kwargs["regex"]))
        failing = f"{column} is not null and not regexp_matches(cast({column} as varchar), {regex})"
    elif kind == "expect_column_values_to_be_between":
        column = _identifier(kwargs["column"])
        tests = []
        if kwargs.get("min_value") is not None:
            tests.append(f"{column} {'<=' if kwargs.get('strict_min') else '<'} {_literal(kwargs['min_value'])}")
        if kwargs.get("max_value") is not None:
            tests.append(f"{column} {'>=' if kwargs.get('strict_max') else '>'} {_literal(kwargs['max_value'])}")
        failing = f"{column} is not null and ({' or '.join(tests) or 'false'})"
    elif kind in ("expect_column_pair_values_a_to_be_greater_than_b", "expect_column_pair_values_to_be_equal"):
        a, b = _identifier(kwargs["column_A"]), _identifier(kwargs["column_B"])
        if kind == "expect_column_pair_values_to_be_equal":
            holds = f"{a} = {b}"
        else:
            holds = f"{a} {'>=' if kwargs.get('or_equal') else '>'} {b}"
        failing = f"not {_pair_skip(kwargs, a, b)} and not coalesce({holds}, false)"
    else:
        raise Untranslatable(kind)
    return f"({where}) and ({failing})"


SHORT_VALUE_SET = 16  # value sets up to this long stay inline: a lookup table gains nothing there
_local = threading.local()


def _connection():
    """This thread's in-memory DuckDB connection, made once: a new one costs ~40 ms, most of a small file's check.

    Keyed by process too: a connection must not cross a fork (Airflow forks a task from its worker).
    """
    import duckdb

    if getattr(_local, "pid", None) != os.getpid():
        _local.con = duckdb.connect(config={"enable_external_access": False})
        _local.pid = os.getpid()
        _local.value_sets = {}
    return _local.con


def _value_set_table(con, values: list) -> str:
    """The name of a temporary table holding `values` (column ``v``), created once per connection."""
    key = (type(values[0]).__name__, tuple(values))
    name = _local.value_sets.get(key)
    if name is None:
        name = f"value_set_{len(_local.value_sets)}"
        con.execute(f"create temporary table {name} as select unnest(?) as v", [list(values)])
        _local.value_sets[key] = name
    return name


def _refuse_partial_success(kind: str, kwargs: dict[str, Any]) -> None:
    """Only ``mostly`` 1 (every row) means "no unexpected row"; a lower share needs GX's denominators."""
    if kwargs.get("mostly") not in (None, 1):
        raise Untranslatable(f"{kind} with mostly={kwargs['mostly']!r}")


UNIQUENESS = ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique")


def duplicate_count_sql(expectation: dict[str, Any], source: str) -> str:
    """A scalar subquery: how many rows of `source` GX counts as unexpected for a uniqueness expectation.

    GX marks every row of a repeated value (``duplicated(keep=False)``); a single column ignores missing
    values, a compound key ignores rows as ``ignore_row_if`` says (default: all its columns missing) and
    counts missing parts as equal, as pandas and GROUP BY both do.
    """
    kind, kwargs = expectation["type"], expectation["kwargs"]
    allowed = {"column"} if kind == UNIQUENESS[0] else {"column_list", "ignore_row_if"}
    unknown = set(kwargs) - allowed - {"row_condition", "condition_parser", "mostly"}
    if kind not in UNIQUENESS or unknown:
        raise Untranslatable(f"{kind} with {sorted(unknown)}")
    _refuse_partial_success(kind, kwargs)
    if kind == UNIQUENESS[0]:
        columns = [_identifier(kwargs["column"])]
        skip = f"{columns[0]} is null"
    else:
        columns = [_identifier(name) for name in kwargs["column_list"]]
        missing = [f"{column} is null" for column in columns]
        ignore = kwargs.get("ignore_row_if", "all_values_are_missing")
        if ignore == "all_values_are_missing":
            skip = " and ".join(missing)
        elif ignore == "any_value_is_missing":
            skip = " or ".join(missing)
        elif ignore == "never":
            skip = "false"
        else:
            raise Untranslatable(f"ignore_row_if {ignore!r}")
    keys, kept = ", ".join(columns), f"({_row_condition(kwargs)}) and not ({skip})"
    # Grouping 15 million distinct strings costs GBs; their 64-bit hashes a fraction of that. Only keys whose
    # hash repeats (every real duplicate, and the rare collision) are then grouped by value: exact, and cheap.
    return (
        f"(select coalesce(sum(n), 0) from (select count(*) as n from {source} where {kept} and hash({keys}) in "
        f"(select hash({keys}) from {source} where {kept} group by 1 having count(*) > 1) "
        f"group by {keys} having count(*) > 1))"
    )


def validate_table(table: pa.Table, suite: dict[str, Any]) -> list[ExpectationOutcome]:
    """Evaluate every expectation of `suite` on `table` in one DuckDB pass; outcomes in suite order."""
    con = _connection()
    predicates = [
        unexpected_predicate(expectation, lambda values: _value_set_table(con, values))
        for expectation in suite["expectations"]
    ]
    if not predicates:
        return []
    rows = table.append_column(ROW, pa.array(range(table.num_rows), pa.int64()))
    # One flag per rule and row; Arrow picks the failing rows. (Filtering in SQL on "any rule broken" makes
    # DuckDB evaluate every predicate twice: slower for a small file, no faster for a large one.)
    flags = ", ".join(f"({p}) as e{i}" for i, p in enumerate(predicates))
    con.register("rows", rows)
    try:
        flagged = con.sql(f"select {ROW}, {flags} from rows").to_arrow_table()
    finally:
        con.unregister("rows")
    row_numbers = flagged.column(ROW)
    failed_lists = [sorted(pc.filter(row_numbers, flagged.column(f"e{i}")).to_pylist()) for i in range(len(predicates))]
    outcomes = []
    for expectation, failed in zip(suite["expectations"], failed_lists, strict=True):
        meta = expectation.get("meta", {})
        outcomes.append(
            ExpectationOutcome(
                expectation_type=expectation["type"],
                code=str(meta.get("code", "")),
                severity=str(meta.get("severity", "afwijzing")),
                message=str(meta.get("message", expectation["type"])),
                success=not failed,
                failed_rows=list(failed or []),
            )
        )
    return outcomes
