"""The mart suites, counted by DuckDB inside the warehouse file: no copy into pandas or Arrow.

Great Expectations on pandas needs every mart in memory: at 300,000 declaration lines it took 36-45 s
and 1.4 GB for the five marts (plus 8 s to import GX), at national scale (15 million lines) it would need
tens of GB. Here the suites are translated by ``sql_rules`` (the suite files stay the only definition of
the rules) and counted in one query per mart: a ``count(*) filter (where ...)`` per row rule, a grouped
subquery per uniqueness rule. Only counts come back; ``build.check_marts`` needs no row lists. Measured:
under 1 s and 190 MB at 300,000 lines, 10-15 s and 1.2 GB for fct_declaration_line at 15 million. GX is
faster at no size (0.2 s against 0.02 s on a one-row mart), so it stays only as the tests' reference.

A float column's NaN is missing to pandas (and so to GX) but a value to DuckDB: the rules read the mart
through a projection that turns NaN into NULL. ``tests/unit/test_mart_rules*.py`` prove that GX and
this engine give the same verdict and count for every expectation of every shipped mart suite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from outcome_monitor.validation.sql_rules import UNIQUENESS, duplicate_count_sql, unexpected_predicate

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class RuleCount:
    """One expectation's verdict on a mart: how many rows broke it (or why it could not be evaluated)."""

    expectation_type: str
    code: str
    severity: str
    message: str
    success: bool
    failed_row_count: int
    error: str | None = None


_FLOATS = {"FLOAT", "DOUBLE"}


def _mart_rows(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The mart as the rules read it: NaN in a float column is missing, as in pandas.

    Raises duckdb.CatalogException if `table` does not exist.
    """
    columns = con.execute(f'select * from main."{table}" limit 0').description
    quoted = {name: '"' + name.replace('"', '""') + '"' for name, *_ in columns}
    projection = ", ".join(
        f"case when isnan({quoted[name]}) then null else {quoted[name]} end as {quoted[name]}"
        if str(kind) in _FLOATS
        else quoted[name]
        for name, kind, *_ in columns
    )
    return f'(select {projection} from main."{table}") as mart_rows'


def _count_sql(expectation: dict[str, Any], source: str) -> str:
    """One SELECT item counting the rows that break `expectation`; raises Untranslatable."""
    if expectation["type"] in UNIQUENESS:
        return duplicate_count_sql(expectation, source)
    return f"count(*) filter (where {unexpected_predicate(expectation)})"


def count_failures(con: duckdb.DuckDBPyConnection, table: str, suite: dict[str, Any]) -> list[RuleCount]:
    """Evaluate every expectation of `suite` on mart `table`; outcomes in suite order.

    Raises ``sql_rules.Untranslatable`` for a rule DuckDB cannot mirror exactly and
    ``duckdb.CatalogException`` for a missing mart. A rule DuckDB cannot evaluate (a missing column,
    a type clash) fails with ``error`` set, as an expectation GX cannot evaluate does.
    """
    import duckdb

    source = _mart_rows(con, table)
    items = [_count_sql(expectation, source) for expectation in suite["expectations"]]
    if not items:
        return []
    counts: list[int | None]
    errors: list[str | None] = [None] * len(items)
    try:
        counts = list(con.execute(f"select {', '.join(items)} from {source}").fetchone())
    except duckdb.Error:
        # One query for all rules failed: evaluate them one by one to name the rule that cannot run.
        counts = []
        for position, item in enumerate(items):
            try:
                counts.append(con.execute(f"select {item} from {source}").fetchone()[0])
            except duckdb.Error as exc:
                counts.append(None)
                errors[position] = f"DuckDB kan deze regel niet uitvoeren op {table}: {exc}"
    outcomes = []
    for expectation, count, error in zip(suite["expectations"], counts, errors, strict=True):
        meta = expectation.get("meta", {})
        outcomes.append(
            RuleCount(
                expectation_type=expectation["type"],
                code=str(meta.get("code", "")),
                severity=str(meta.get("severity", "afwijzing")),
                message=str(meta.get("message", expectation["type"])),
                success=error is None and count == 0,
                failed_row_count=int(count or 0),
                error=error,
            )
        )
    return outcomes
