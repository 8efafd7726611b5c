"""A small built warehouse for the year-end tests: controller tables as the marts helper makes them.

``write_warehouse(db_path, reconciliatie)`` writes ``rpt_controller__reconciliatie`` from the rows
given (two years by default) plus a findings table, a one-row-per-year tolerance table, a
controller table without verslagjaar and a council table with one (both must be ignored), and
``fct_submission`` listing the submissions the "build" used.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

AGB_A, AGB_B = "12345678", "87654321"
GEMEENTE = "1731"

# (verslagjaar, aanbieder_agb, gemeente_code, productcode, toegewezen, gedeclareerd, geaccepteerd, afgewezen)
RECONCILIATIE = [
    (2024, AGB_A, GEMEENTE, "45A01", 500_000, 400_000, 390_000, 10_000),
    (2025, AGB_A, GEMEENTE, "45A01", 600_000, 500_000, 450_000, 50_000),
    (2025, AGB_A, GEMEENTE, "45A02", None, 120_000, 120_000, 0),
    (2025, AGB_B, GEMEENTE, "02A01", 300_000, 280_000, 280_000, 0),
]


def write_warehouse(
    db_path: Path, reconciliatie=RECONCILIATIE, submissions=("sub-1", "sub-2"), tolerance_years=(2024, 2025)
) -> Path:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db_path.unlink(missing_ok=True)
    with duckdb.connect(str(db_path)) as con:
        con.execute(
            """
            create table rpt_controller__reconciliatie (
                verslagjaar integer, aanbieder_agb varchar, gemeente_code varchar, productcode varchar,
                toegewezen_bedrag_cents bigint, gedeclareerd_bedrag_cents bigint,
                geaccepteerd_bedrag_cents bigint, afgewezen_bedrag_cents bigint,
                boven_drempel boolean, oorzaak varchar
            )
            """
        )
        con.executemany(
            "insert into rpt_controller__reconciliatie values (?, ?, ?, ?, ?, ?, ?, ?, ?, null)",
            [(*row, row[6] != row[5]) for row in reconciliatie],
        )
        con.execute(
            """
            create table rpt_controller__bevindingen as
            select verslagjaar, 'sub-1' as submission_id, aanbieder_agb, 'fout' as klasse,
                afgewezen_bedrag_cents as bedrag_cents, ['9338'] as codes, 'Geen geldige toewijzing' as omschrijving
            from rpt_controller__reconciliatie where afgewezen_bedrag_cents > 0
            """
        )
        con.execute(
            "create table rpt_controller__tolerantietoets (verslagjaar integer, lasten_cents bigint, "
            "fout_pct double, oordeel varchar)"
        )
        con.executemany(
            "insert into rpt_controller__tolerantietoets values (?, 1234567, 0.1 + 0.2, 'binnen de tolerantie')",
            [(year,) for year in tolerance_years],
        )
        con.execute("create table rpt_controller__toelichting as select 'zonder jaar' as tekst")
        con.execute("create table rpt_raad__gedeclareerd as select 2025 as verslagjaar, 1 as bedrag_cents")
        con.execute("create table fct_submission (submission_id varchar, record_type varchar)")
        con.executemany("insert into fct_submission values (?, 'declaratie_regel')", [(s,) for s in submissions])
    return db_path


def rows(db_path: Path, table: str, year: int) -> list[tuple]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(f"select * from {table} where verslagjaar = ? order by all", [year]).fetchall()
