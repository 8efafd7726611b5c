"""Checks of an auditor's package against the warehouse it came from, shared by the store's tests.

``assert_totals_equal_warehouse`` reads the package back (workbook with openpyxl, CSV with the csv
module) and compares every additive euro column of every sheet, and the Samenvatting's total of
it, with the warehouse's sum in cents for that verslagjaar.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl

from outcome_monitor.year_end import export


def _cents(value) -> Decimal:
    return Decimal(repr(value)) * 100


def assert_totals_equal_warehouse(folder: Path, warehouse: Path, verslagjaar: int) -> int:
    """Every euro total of the package equals the warehouse's to the cent; returns how many were compared."""
    (workbook_path,) = folder.glob("*.xlsx")
    workbook = openpyxl.load_workbook(workbook_path, read_only=True)
    summary = {
        (part, label): value
        for part, label, value in list(workbook[export.SUMMARY_TITLE].iter_rows(values_only=True))[2:]
    }
    compared = 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for sheet in (s for s in export.SHEETS if s.totals):
            rows = list(workbook[sheet.title].iter_rows(values_only=True))
            header, body = list(rows[1]), rows[2:]
            (csv_path,) = folder.glob(f"*-{sheet.slug}.csv")
            with csv_path.open(encoding="utf-8-sig", newline="") as handle:
                lines = list(csv.reader(handle, delimiter=";"))
            assert lines[0] == header and len(lines) - 1 == len(body), sheet.title
            for column in [h for h in header if h.endswith("_euro") and "tarief" not in h and "grens" not in h]:
                index = header.index(column)
                cents_column = column.removesuffix("_euro") + "_cents"
                (expected,) = con.execute(
                    f'select coalesce(sum("{cents_column}"), 0)::hugeint from "{sheet.table}" where verslagjaar = ?',
                    [verslagjaar],
                ).fetchone()
                in_workbook = sum((_cents(r[index]) for r in body if r[index] is not None), Decimal(0))
                in_csv = sum((Decimal(line[index].replace(",", ".")) * 100 for line in lines[1:] if line[index]), 0)
                in_summary = _cents(summary[(sheet.title, f"totaal {column}")])
                assert in_workbook == in_csv == in_summary == expected, (sheet.title, column)
                compared += 1
    workbook.close()
    return compared
