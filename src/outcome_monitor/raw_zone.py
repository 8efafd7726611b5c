"""The raw zone: immutable Parquet files of parsed rows, one folder per submission and record type."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from outcome_monitor.config import Paths
from outcome_monitor.raw_schema import SCHEMAS


def ensure_schema_files(paths: Paths) -> None:
    """Write ``raw/<record_type>/_schema/empty.parquet`` where missing.

    dbt reads ``raw/<record_type>/*/*.parquet``; this empty, typed file makes that glob match
    before the first submission of a type arrives, and fixes the column types.
    """
    for record_type, schema in SCHEMAS.items():
        target = paths.raw_records(record_type) / "_schema" / "empty.parquet"
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".parquet.tmp")
        pq.write_table(pa.Table.from_pylist([], schema=schema), tmp)
        tmp.replace(target)
