"""The derived columns computed in Arrow (large submissions) flag exactly the rows the pandas ones flag,
for every ingest suite, on random rows with missing values, wrong codes, repeats and odd dates."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pyarrow as pa
import pytest

from outcome_monitor.ingest.parsed import parsed_schema
from outcome_monitor.validation.gx_runner import EXPECTATIONS_DIR, load_suite
from outcome_monitor.validation.row_checks import (
    _codelist,
    check_rows,
    with_derived_arrow_columns,
    with_derived_columns,
)
from outcome_monitor.validation.sql_rules import validate_table

RECORD_TYPES = sorted(path.stem.removeprefix("ingest_") for path in EXPECTATIONS_DIR.glob("ingest_*.json"))
TEXT_POOLS = {
    "gemeente_code": ["1731", "1699", "9999", "*"],
    "domein": ["jeugd", "wmo", "*", "zorg"],
    "aanbieder_agb": ["65656055", "42100317", "123", "*"],
    "productcategorie": ["45", "02", "54", "*", "é"],
    "productcode": ["45A03", "54A03", "02A01", "éA", "4"],
    "eenheid": ["04", "83", "14", "99"],
    "bsn": ["999900006", "999900007", "12", "", "111222333"],
    "referentienummer": ["RN1", "RN2", "RN3"],
    "reden_beeindiging": ["31", "99", "01"],
    "indicator_code": ["UITVAL", "VOLGENS_PLAN", "CEO_Q01", "CEO_", "ONBEKEND"],
    "periode": ["2025", "2025-H1", "2025-H3", "25"],
    "meetmoment": ["T0", "Tn", "T1"],
    "informant": ["jeugdige", "ouder", "client", "buur"],
    "zonder_hulp_verder": ["01", "04", "05"],
    "wet": ["wmo", "jeugdwet", "zvw"],
    "controleverklaring": ["ja", "nee", "misschien"],
    "versie": ["concept", "definitief", "x"],
    "richting": ["hoger", "lager", "gelijk"],
}
INTS = [-1, 0, 1, 3, 4, 5, 9, 10, 11, 13, 14, 1250, 2014, 2015, 2030, 5000]


def _value(rng: random.Random, field: pa.Field):
    if rng.random() < 0.15:
        return None
    if pa.types.is_date(field.type):
        return date(2025, 1, 1) + timedelta(days=rng.choice([0, 30, 31, 58, 59, 90, 364, 400]))
    if pa.types.is_integer(field.type):
        return rng.choice(INTS)
    if pa.types.is_floating(field.type):
        return rng.choice([0.1, 0.15, 2.5])
    if pa.types.is_boolean(field.type):
        return rng.random() < 0.5
    return rng.choice(TEXT_POOLS.get(field.name, ["a", "b"]))


def _table(record_type: str, rows: int, seed: int) -> pa.Table:
    rng = random.Random(seed)
    schema = parsed_schema(record_type)
    return pa.table({f.name: pa.array([_value(rng, f) for _ in range(rows)], f.type) for f in schema}, schema=schema)


@pytest.mark.parametrize("record_type", RECORD_TYPES)
def test_arrow_and_pandas_derived_columns_flag_the_same_rows(record_type):
    suite = load_suite(f"ingest_{record_type}", _codelist)
    table = _table(record_type, rows=800, seed=len(record_type))
    by_pandas = validate_table(
        pa.Table.from_pandas(with_derived_columns(record_type, table), preserve_index=False), suite
    )
    by_arrow = validate_table(with_derived_arrow_columns(record_type, table), suite)
    assert [o.code for o in by_pandas] == [o.code for o in by_arrow]
    for pandas_outcome, arrow_outcome in zip(by_pandas, by_arrow, strict=True):
        assert pandas_outcome.failed_rows == arrow_outcome.failed_rows, (record_type, pandas_outcome.code)
    assert any(o.failed_rows for o in by_arrow) and any(len(o.failed_rows) < table.num_rows for o in by_arrow)


def test_a_large_table_gets_the_codes_of_the_great_expectations_route(monkeypatch):
    table = _table("declaratie_regel", rows=300, seed=7)
    by_gx = check_rows("declaratie_regel", table)
    monkeypatch.setattr("outcome_monitor.validation.row_checks.GX_MAX_ROWS", 10)
    by_sql = check_rows("declaratie_regel", table)
    assert by_sql.codes_by_row == by_gx.codes_by_row
    assert "8021" in {code for codes in by_sql.codes_by_row.values() for code in codes}
