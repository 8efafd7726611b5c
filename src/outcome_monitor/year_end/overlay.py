"""After every dbt build: closed years' rows come from their snapshots, plus the two status tables.

``apply_closed_years`` works on ``build/warehouse.next.duckdb`` before it is checked and published.
For each closed year it first compares the live ``rpt_controller__reconciliatie`` rows with the
snapshot (``rpt_controller__wijzigingen_na_afsluiting``: what submissions after the close would
change), then replaces that year's rows of every year table by the snapshot rows. Applying it
twice to one file is harmless: a year already overlaid (by its snapshot id in the status table)
is left alone, so its post-closing changes, computed from the live rows, are kept.

Times in ``rpt_controller__jaarstatus`` are Europe/Amsterdam wall-clock time, as a controller reads them.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from zoneinfo import ZoneInfo

from outcome_monitor.config import Paths
from outcome_monitor.year_end.audit import YearState, read_entries, year_states
from outcome_monitor.year_end.layout import CHANGES_TABLE, STATUS_TABLE, YearEndError, YearEndLayout
from outcome_monitor.year_end.snapshot import Snapshot, load_snapshot, require_intact
from outcome_monitor.year_end.tables import YEAR_COLUMN, columns_of, literal, quote, year_tables

log = logging.getLogger(__name__)
LOCAL_TIME = ZoneInfo("Europe/Amsterdam")
RECONCILIATION_TABLE = "rpt_controller__reconciliatie"
RECONCILIATION_KEY = ("verslagjaar", "aanbieder_agb", "gemeente_code", "productcode")

STATUS_COLUMNS = {
    "verslagjaar": "integer",
    "status": "varchar",
    "snapshot_id": "varchar",
    "afgesloten_op": "timestamp",
    "afgesloten_door": "varchar",
    "heropend_op": "timestamp",
    "heropend_door": "varchar",
    "reden": "varchar",
}
CHANGES_COLUMNS = {
    "verslagjaar": "integer",
    "snapshot_id": "varchar",
    "aanbieder_agb": "varchar",
    "gemeente_code": "varchar",
    "productcode": "varchar",
    "kolom": "varchar",
    "bevroren_cents": "bigint",
    "actueel_cents": "bigint",
    "verschil_cents": "bigint",
    "submission_ids": "varchar[]",
}
# Raw record types whose rows bear on a reconciliation line: (record type, condition on verslagjaar $year).
TOUCHING_RECORDS = (
    ("declaratie_regel", "year(period_start_date) = $year"),
    ("productieverantwoording", "jaar = $year"),
    # A toewijzing without einddatum runs on: it touches every year from its start.
    ("toewijzing", "year(ingangsdatum) <= $year and (einddatum is null or year(einddatum) >= $year)"),
)


def apply_closed_years(db_path: Path, paths: Paths) -> None:
    """Overlay every closed year (by the audit log) on the built warehouse `db_path`."""
    layout = YearEndLayout.of(paths)
    apply_overlay(Path(db_path), paths, year_states(read_entries(layout)))


def apply_overlay(db_path: Path, paths: Paths, states: dict[int, YearState]) -> None:
    """Overlay the closed years of `states` (close uses this before its audit entry is written)."""
    import duckdb

    layout = YearEndLayout.of(paths)
    snapshots = {
        year: load_snapshot(layout, year, state.snapshot_id) for year, state in sorted(states.items()) if state.closed
    }
    for snapshot in snapshots.values():
        require_intact(snapshot)  # the published frozen figures are exactly the files in snapshot.json
    with duckdb.connect(str(db_path)) as con:
        con.execute("begin transaction")
        applied = _already_applied(con)
        stale = sorted(y for y, sid in applied.items() if y not in snapshots or snapshots[y].snapshot_id != sid)
        if stale:
            raise YearEndError(
                f"{db_path.name}: de cijfers van {', '.join(map(str, stale))} komen uit een snapshot die niet meer "
                "geldt en de actuele rijen zijn weg; bouw het warehouse opnieuw (outcome-monitor build)"
            )
        _create_table(con, CHANGES_TABLE, CHANGES_COLUMNS, replace=False)
        for year, snapshot in snapshots.items():
            if year not in applied:
                _record_changes(con, paths, snapshot)
                _replace_year_rows(con, snapshot)
        _write_status(con, states)
        con.execute("commit")


def _already_applied(con) -> dict[int, str]:
    if not columns_of(con, STATUS_TABLE):
        return {}
    rows = con.execute(
        f"select verslagjaar, snapshot_id from main.{STATUS_TABLE} where status = 'afgesloten'"
    ).fetchall()
    return dict(rows)


def _create_table(con, table: str, columns: dict[str, str], *, replace: bool) -> None:
    definition = ", ".join(f"{quote(name)} {kind}" for name, kind in columns.items())
    verb = "create or replace table" if replace else "create table if not exists"
    con.execute(f"{verb} main.{quote(table)} ({definition})")


def _replace_year_rows(con, snapshot: Snapshot) -> None:
    """The year's rows of each year table become the snapshot's rows, value for value."""
    year = snapshot.year
    for table in sorted(set(year_tables(con)) | set(snapshot.tables)):
        live_columns = columns_of(con, table)
        if table not in snapshot.tables:
            # A table made after the close has no frozen figures: a closed year shows none rather than live ones.
            log.warning("%s heeft geen rijen in snapshot %s: %s leeg gelaten", table, snapshot.snapshot_id, year)
            con.execute(f"delete from main.{quote(table)} where {YEAR_COLUMN} = ?", [year])
            continue
        source = f"read_parquet({literal(snapshot.parquet(table))})"
        if not live_columns:  # the model was removed or renamed: the frozen figures stay published
            con.execute(f"create table main.{quote(table)} as select * from {source}")
            continue
        for column, kind in snapshot.tables[table]["columns"].items():
            if column not in live_columns:
                con.execute(f"alter table main.{quote(table)} add column {quote(column)} {kind}")
        con.execute(f"delete from main.{quote(table)} where {YEAR_COLUMN} = ?", [year])
        con.execute(f"insert into main.{quote(table)} by name select * from {source}")


def _record_changes(con, paths: Paths, snapshot: Snapshot) -> None:
    """Insert one row per reconciliation line and *_cents column whose live value differs from the snapshot."""
    live_columns = columns_of(con, RECONCILIATION_TABLE)
    frozen_columns = snapshot.tables.get(RECONCILIATION_TABLE, {}).get("columns", {})
    if not live_columns or not frozen_columns:
        return
    missing = [key for key in RECONCILIATION_KEY if key not in live_columns or key not in frozen_columns]
    if missing:
        raise YearEndError(f"{RECONCILIATION_TABLE} mist sleutelkolom(men) {', '.join(missing)}")
    cents = sorted(name for name in {*live_columns, *frozen_columns} if name.endswith("_cents"))
    _late_touches(con, paths, snapshot)

    def side(alias: str, columns: dict[str, str], column: str) -> str:
        return f"cast({alias}.{quote(column)} as bigint)" if column in columns else "cast(null as bigint)"

    keys = ", ".join(f"coalesce(f.{quote(k)}, l.{quote(k)}) as {quote(k)}" for k in RECONCILIATION_KEY)
    values = ", ".join(
        f"{side('f', frozen_columns, c)} as {quote('f__' + c)}, {side('l', live_columns, c)} as {quote('l__' + c)}"
        for c in cents
    )
    join = " and ".join(f"f.{quote(k)} is not distinct from l.{quote(k)}" for k in RECONCILIATION_KEY)
    differences = " union all ".join(
        f"select {', '.join(quote(k) for k in RECONCILIATION_KEY)}, '{c}' as kolom, "
        f"{quote('f__' + c)} as bevroren_cents, {quote('l__' + c)} as actueel_cents from joined "
        f"where {quote('f__' + c)} is distinct from {quote('l__' + c)}"
        for c in cents
    )
    touch_match = " and ".join(f"t.{quote(k)} is not distinct from d.{quote(k)}" for k in RECONCILIATION_KEY[1:])
    con.execute(
        f"""
        insert into main.{CHANGES_TABLE}
        with
        frozen as (select * from read_parquet({literal(snapshot.parquet(RECONCILIATION_TABLE))})),
        live as (select * from main.{RECONCILIATION_TABLE} where {YEAR_COLUMN} = $year),
        joined as (select {keys}, {values} from frozen as f full outer join live as l on {join}),
        differences as ({differences})
        select
            d.verslagjaar, cast($snapshot_id as varchar), d.aanbieder_agb, d.gemeente_code, d.productcode, d.kolom,
            d.bevroren_cents, d.actueel_cents,
            coalesce(d.actueel_cents, 0) - coalesce(d.bevroren_cents, 0),
            coalesce(
                (select list(distinct t.submission_id order by t.submission_id) from _late_touches as t
                 where {touch_match}),
                []
            )
        from differences as d
        order by d.aanbieder_agb, d.gemeente_code, d.productcode, d.kolom
        """,
        {"year": snapshot.year, "snapshot_id": snapshot.snapshot_id},
    )


def _late_touches(con, paths: Paths, snapshot: Snapshot) -> None:
    """Temp table ``_late_touches``: which reconciliation lines of the year each later submission touches.

    'Later' means used by this build (fct_submission) but not in the snapshot's manifest. Read from
    the raw zone, whose columns are fixed by raw_schema, so the dbt models may change freely.
    """
    built = [sid for (sid,) in con.execute("select distinct submission_id from main.fct_submission").fetchall()]
    late = sorted(set(built) - snapshot.submission_ids)
    selects = []
    for record_type, condition in TOUCHING_RECORDS:
        files = [path for sid in late for path in sorted((paths.raw_submission(sid) / record_type).glob("*.parquet"))]
        if files:
            selects.append(
                "select submission_id, aanbieder_agb, gemeente_code, productcode "
                f"from read_parquet([{', '.join(literal(f) for f in files)}], union_by_name = true) where {condition}"
            )
    con.execute(
        "create or replace temp table _late_touches (submission_id varchar, aanbieder_agb varchar, "
        "gemeente_code varchar, productcode varchar)"
    )
    if selects:
        con.execute(f"insert into _late_touches {' union all '.join(selects)}", {"year": snapshot.year})


def _local(timestamp: str | None) -> dt.datetime | None:
    if timestamp is None:
        return None
    return dt.datetime.fromisoformat(timestamp).astimezone(LOCAL_TIME).replace(tzinfo=None)


def _write_status(con, states: dict[int, YearState]) -> None:
    """One row per year that has data or an audit entry: open or afgesloten, with who, when and why."""
    data_years = set()
    for table in year_tables(con):
        data_years |= {
            year for (year,) in con.execute(f"select distinct {YEAR_COLUMN} from main.{quote(table)}").fetchall()
        }
    rows = []
    for year in sorted({y for y in data_years if y is not None} | set(states)):
        state = states.get(year)
        close = state.last_close if state and state.closed else None
        reopen = state.last_reopen if state and not state.closed else None
        rows.append(
            (
                int(year),
                state.status if state else "open",
                close.snapshot_id if close else None,
                _local(close.at) if close else None,
                close.who if close else None,
                _local(reopen.at) if reopen else None,
                reopen.who if reopen else None,
                (close or reopen).reason if (close or reopen) else None,
            )
        )
    _create_table(con, STATUS_TABLE, STATUS_COLUMNS, replace=True)
    if rows:
        con.executemany(f"insert into main.{STATUS_TABLE} values ({', '.join('?' * len(STATUS_COLUMNS))})", rows)
