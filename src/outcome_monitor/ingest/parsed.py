"""One parsed submission, whatever its format: per record type an Arrow table with the raw-zone
columns plus the client's BSN in clear (pseudonymised before anything is written).

Every part becomes an Arrow table as it arrives: CSV/XLSX/JSON as columns from the tabular parser,
each XML message as its columns (or row dicts), so a million-line file never becomes a million
dicts and a bundle of messages holds only Arrow tables between messages. Message tables follow
the tabular ones, in arrival order. Cells the tabular parser refused travel as ``problems`` by row
position.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from outcome_monitor.raw_schema import SCHEMAS

# Written by ingest after validation, never parsed.
_ASSIGNED_LATER = {"client_pseudonym", "status", "finding_codes"}
BSN = pa.field("bsn", pa.string())


def parsed_schema(record_type: str) -> pa.Schema:
    """The raw schema without the columns ingest assigns, plus the BSN in clear."""
    fields = [f for f in SCHEMAS[record_type] if f.name not in _ASSIGNED_LATER]
    return pa.schema([*fields, BSN])


@dataclass
class ParsedSubmission:
    """Tables per record type, collected part by part, then assembled into one table each."""

    _tables: dict[str, list[pa.Table]] = field(default_factory=lambda: defaultdict(list))
    _message_tables: dict[str, list[pa.Table]] = field(default_factory=lambda: defaultdict(list))
    _problems: dict[str, list[tuple[int, dict[int, list[dict]]]]] = field(default_factory=lambda: defaultdict(list))

    def add_rows(self, record_type: str, rows: list[dict[str, Any]]) -> None:
        if rows:
            self._message_tables[record_type].append(_table_from_rows(record_type, rows))

    def add_message(self, record_type: str, columns: dict[str, Any], length: int) -> None:
        """One message's rows as columns (`length` rows); keys the schema does not know are left out."""
        if length:
            self._message_tables[record_type].append(_table_from_columns(record_type, columns, length))

    def add_columns(
        self, record_type: str, columns: dict[str, Any], problems: dict[int, list[dict]] | None = None
    ) -> None:
        self._tables[record_type].append(_table_from_columns(record_type, columns, len(columns["line_number"])))
        if problems:
            self._problems[record_type].append((len(self._tables[record_type]) - 1, problems))

    def assemble(self) -> dict[str, tuple[pa.Table, dict[int, list[dict]]]]:
        """Per record type: one table (column parts first, then XML messages) and its cell problems by row."""
        assembled = {}
        for record_type in sorted(set(self._tables) | set(self._message_tables)):
            parts = list(self._tables.get(record_type, []))
            offsets, position = [], 0
            for part in parts:
                offsets.append(position)
                position += part.num_rows
            parts += self._message_tables.get(record_type, [])
            problems = {
                offsets[part] + index: found
                for part, by_row in self._problems.get(record_type, [])
                for index, found in by_row.items()
            }
            # One chunk per column (a bundle brings one per message): validation and writing run over
            # contiguous arrays, and the table is copied once, here.
            assembled[record_type] = (pa.concat_tables(parts).combine_chunks(), problems)
        return assembled


def _table_from_columns(record_type: str, columns: dict[str, Any], length: int) -> pa.Table:
    schema = parsed_schema(record_type)
    arrays = [_typed(columns[f.name], f.type) if f.name in columns else pa.nulls(length, f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _typed(values: list[Any] | pa.Array | pa.ChunkedArray, type_: pa.DataType) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.cast(type_) if isinstance(values, pa.Array) else pa.array(values, type_)


def _table_from_rows(record_type: str, rows: list[dict[str, Any]]) -> pa.Table:
    schema = parsed_schema(record_type)
    return pa.Table.from_arrays([pa.array([row.get(f.name) for row in rows], f.type) for f in schema], schema=schema)
