"""Which warehouse tables belong to a year: every ``rpt_controller__*`` table with a verslagjaar column."""

from __future__ import annotations

from outcome_monitor.year_end.layout import CHANGES_TABLE, STATUS_TABLE, YEAR_TABLE_PREFIX

YEAR_COLUMN = "verslagjaar"


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def year_tables(con) -> list[str]:
    """Discovered, not listed: a new controller mart is frozen with the rest without a code change.

    The two tables the overlay writes itself are left out.
    """
    rows = con.execute(
        """
        select t.table_name
        from information_schema.tables as t
        join information_schema.columns as c
            on c.table_schema = t.table_schema and c.table_name = t.table_name
        where t.table_schema = 'main' and t.table_type = 'BASE TABLE'
            and starts_with(t.table_name, ?) and c.column_name = ?
        order by t.table_name
        """,
        [YEAR_TABLE_PREFIX, YEAR_COLUMN],
    ).fetchall()
    return [name for (name,) in rows if name not in (STATUS_TABLE, CHANGES_TABLE)]


def columns_of(con, table: str, schema: str = "main") -> dict[str, str]:
    """Column name -> DuckDB type, in table order; empty if the table does not exist."""
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    return dict(rows)


def literal(path) -> str:
    """A file path as a SQL string literal (DuckDB's file functions take no bound parameters)."""
    return "'" + str(path).replace("'", "''") + "'"
