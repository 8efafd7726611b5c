"""Are two warehouse files the same build result? Every table and view, compared as multisets of rows.

    python -m outcome_monitor.bench.compare_warehouses A.duckdb B.duckdb [--ignore table.column ...]

Used to prove that a faster dbt project builds byte-for-byte the same warehouse: both files must
hold the same relations (schema and name), each with the same columns and types, and the same rows
with the same multiplicities (DuckDB ``EXCEPT ALL`` both ways, so order does not matter but
duplicates do). Only the columns that record when and by which dbt run a build was made differ
between two builds of the same data; they are ignored by name (IGNORED_COLUMNS, plus ``--ignore``).

Exit 0 when identical, 1 with the differing relations (one line each, naming what differs).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# table -> columns that say when/which dbt invocation built the file, not what it contains.
IGNORED_COLUMNS: Mapping[str, frozenset[str]] = {
    "rpt_build_info": frozenset({"built_at", "dbt_invocation_id"}),
}


@dataclass(frozen=True)
class Difference:
    relation: str  # schema.name
    detail: str

    def describe(self) -> str:
        return f"{self.relation}: {self.detail}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _relations(con, catalog: str) -> dict[str, tuple[str, str]]:
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables where table_catalog = ?", [catalog]
    ).fetchall()
    return {f"{schema}.{name}": (schema, name) for schema, name in rows}


def _columns(con, catalog: str, schema: str, name: str) -> dict[str, str]:
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = ? and table_name = ? order by ordinal_position",
        [catalog, schema, name],
    ).fetchall()
    return dict(rows)


def _count_except_all(con, columns: Sequence[str], left: str, right: str) -> int:
    select_list = ", ".join(_quote(column) for column in columns) or "1"
    return con.execute(
        f"select count(*) from (select {select_list} from {left} except all select {select_list} from {right})"
    ).fetchone()[0]


def _ignored(name: str, ignore: Mapping[str, Iterable[str]]) -> set[str]:
    return set(ignore.get(name, ()))


def compare_warehouses(
    a: Path | str, b: Path | str, ignore: Mapping[str, Iterable[str]] = IGNORED_COLUMNS
) -> list[Difference]:
    """The relations whose presence, columns (name and type) or multiset of rows differ between a and b."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(f"attach {_sql_string(a)} as wa (read_only)")
        con.execute(f"attach {_sql_string(b)} as wb (read_only)")
        in_a, in_b = _relations(con, "wa"), _relations(con, "wb")
        differences = [Difference(key, f"alleen in {Path(b).name}") for key in sorted(in_b.keys() - in_a.keys())]
        differences += [Difference(key, f"alleen in {Path(a).name}") for key in sorted(in_a.keys() - in_b.keys())]
        for key in sorted(in_a.keys() & in_b.keys()):
            schema, name = in_a[key]
            difference = _compare_relation(con, key, schema, name, _ignored(name, ignore))
            if difference is not None:
                differences.append(difference)
        return sorted(differences, key=lambda difference: difference.relation)
    finally:
        con.close()


def _sql_string(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _compare_relation(con, key: str, schema: str, name: str, ignored: set[str]) -> Difference | None:
    columns_a = {c: t for c, t in _columns(con, "wa", schema, name).items() if c not in ignored}
    columns_b = {c: t for c, t in _columns(con, "wb", schema, name).items() if c not in ignored}
    if columns_a != columns_b:
        changed = sorted(
            f"{column} ({columns_a.get(column, '-')} / {columns_b.get(column, '-')})"
            for column in columns_a.keys() | columns_b.keys()
            if columns_a.get(column) != columns_b.get(column)
        )
        return Difference(key, "kolommen verschillen: " + ", ".join(changed))
    columns = list(columns_a)
    left = f"wa.{_quote(schema)}.{_quote(name)}"
    right = f"wb.{_quote(schema)}.{_quote(name)}"
    only_a = _count_except_all(con, columns, left, right)
    only_b = _count_except_all(con, columns, right, left)
    if only_a or only_b:
        return Difference(key, f"{only_a} rijen alleen in A, {only_b} rijen alleen in B")
    return None


def _parse_ignore(values: Iterable[str]) -> dict[str, set[str]]:
    ignore: dict[str, set[str]] = {table: set(columns) for table, columns in IGNORED_COLUMNS.items()}
    for value in values:
        table, dot, column = value.partition(".")
        if not dot or not table or not column:
            raise SystemExit(f"--ignore {value!r}: verwacht tabel.kolom")
        ignore.setdefault(table, set()).add(column)
    return ignore


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--ignore", action="append", default=[], help="table.column to leave out (repeatable)")
    args = parser.parse_args(argv)
    for path in (args.a, args.b):
        if not path.is_file():
            parser.error(f"{path} bestaat niet")
    differences = compare_warehouses(args.a, args.b, _parse_ignore(args.ignore))
    for difference in differences:
        print(difference.describe())
    if differences:
        print(f"{len(differences)} relaties verschillen", file=sys.stderr)
        return 1
    print(f"gelijk: {args.a} en {args.b}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
