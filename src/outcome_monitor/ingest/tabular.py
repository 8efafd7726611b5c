"""CSV, XLSX and JSON submissions: recognise the kind, read every cell strictly, return raw-zone rows.

    parsed = parse_tabular(data, "declaraties-2025-03.csv", submission_id=submission_id)
    for record_type, rows in parsed.rows_by_type.items(): ...  # rows keyed as raw_schema.SCHEMAS[record_type]

What a provider's spreadsheet habits get, and what they do not:

- CSV: separator ``;`` or ``,`` (whichever makes the header a known kind), UTF-8 with or without BOM,
  else Windows-1252; bytes that fit neither, or NUL bytes, reject the file.
- Dates ``YYYY-MM-DD`` or ``DD-MM-YYYY`` (``D-M-YYYY`` too, as Dutch Excel writes it); amounts with a
  decimal comma or point and no thousands separator. What needs a guess (``01/02/2025``, ``1.250``
  euro, ``1.250,00``, two-digit years) is refused, never interpreted.
- An unreadable cell is a finding on its row (``row["_problems"]``, codes OM020-OM025), never a file
  rejection: the other rows still count. File-level problems raise MessageRejected (OM001 unreadable,
  OM005 limits, OM007 encoding, OM010 header/kind, OM011 more than one sender).
- XLSX: openpyxl read-only with cached values only (a formula is never evaluated; one without a cached
  value is refused on its row); its ZIP container is checked against the bundle limits first.

Rows are built a batch at a time from converted columns (cells.py), with the cyclic garbage collector
paused: the rows hold no cycles, and a million fresh dicts would otherwise trigger full collections
over an ever larger heap.
"""

from __future__ import annotations

import gc
import os
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from itertools import repeat
from pathlib import PurePath
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from outcome_monitor.ingest.cells import ARROW_TYPES, ColumnReader, Problem, empty_problem, problem, shown
from outcome_monitor.ingest.kinds import WILDCARD, HeaderMatch, Kind
from outcome_monitor.ingest.rejection import MessageRejected
from outcome_monitor.ingest.tabular_formats import Batch, TabularLimits, read_csv, read_json, read_xlsx

__all__ = [
    "PROBLEM_TITLES",
    "TabularLimits",
    "TabularParse",
    "collector_paused",
    "is_tabular",
    "parse_tabular",
    "tabular_format",
]

FORMATS = {".csv": "CSV", ".xlsx": "XLSX", ".json": "JSON"}
_REFUSED_FORMATS = {
    ".xls": "Oude Excel-bestanden (.xls) worden niet gelezen; sla het bestand op als .xlsx of als CSV.",
    ".xlsm": "Excel-bestanden met macro's (.xlsm) worden niet gelezen; sla het bestand op als .xlsx.",
    ".ods": "OpenDocument-bestanden (.ods) worden niet gelezen; sla het bestand op als .xlsx of als CSV.",
}
DEFAULT_LIMITS = TabularLimits()
_READERS = {"CSV": read_csv, "XLSX": read_xlsx, "JSON": read_json}

# One line per row-level code, for the report's grouped findings; each row's problem has its own detail.
PROBLEM_TITLES = {
    "OM020": "Onleesbare datum: gebruik JJJJ-MM-DD of DD-MM-JJJJ.",
    "OM021": "Ongeldig of dubbelzinnig bedrag: gebruik een decimale komma of punt, zonder duizendtallen (1250,00).",
    "OM022": "Ongeldig of dubbelzinnig getal.",
    "OM023": "Verplicht veld is leeg.",
    "OM024": "Waarde niet toegestaan.",
    "OM025": "Waarde in een kolom zonder kolomnaam.",
}


@dataclass
class TabularParse:
    """The rows of one file, per raw record type: as columns (the fast way) or as row dicts.

    Both are keyed as ``raw_schema.SCHEMAS[record_type]`` plus "bsn" (in clear, where the kind has a
    client: the caller pseudonymises). Row-level problems (OM020-OM025) are in ``problems_by_type`` by
    row position, and on the row dicts as ``row["_problems"]``.
    """

    kind: str  # toewijzing, levering, declaratie, uitkomst, ...
    berichtcode: str  # CSV, XLSX or JSON
    sender_role: str  # 'aanbieder' or 'gemeente'
    sender: str | None  # the one AGB code or gemeente code in the file's sender column
    # Per record type and key: a list of values, or an Arrow array (the CSV fast path); see columns_by_type.
    arrays_by_type: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems_by_type: dict[str, dict[int, list[Problem]]] = field(default_factory=dict)

    @property
    def record_types(self) -> tuple[str, ...]:
        return tuple(self.arrays_by_type)

    @property
    def row_count(self) -> int:
        return sum(len(columns["line_number"]) for columns in self.arrays_by_type.values())

    @cached_property
    def columns_by_type(self) -> dict[str, dict[str, list[Any]]]:
        """Per record type and key, the values as a Python list."""
        return {
            record_type: {key: _as_list(values) for key, values in columns.items()}
            for record_type, columns in self.arrays_by_type.items()
        }

    @cached_property
    def rows_by_type(self) -> dict[str, list[dict[str, Any]]]:
        """One dict per row, in file order (built on first use: about as costly as the parse itself)."""
        with collector_paused():
            return {record_type: self._rows(record_type) for record_type in self.arrays_by_type}

    def _rows(self, record_type: str) -> list[dict[str, Any]]:
        columns = self.columns_by_type[record_type]
        keys = tuple(columns)
        rows = list(map(dict, map(zip, repeat(keys), zip(*columns.values(), strict=True))))
        for index, problems in self.problems_by_type.get(record_type, {}).items():
            rows[index]["_problems"] = [dict(problem) for problem in problems]
        return rows


def _as_list(values: Any) -> list[Any]:
    return values if isinstance(values, list) else values.to_pylist()


def _joined(values: list[Any]) -> Any:
    """The collected values of one key: the list itself, or its Arrow chunks as one array."""
    if values and all(isinstance(chunk, pa.Array) for chunk in values):
        return pa.concat_arrays(values) if len(values) > 1 else values[0]
    return values


def tabular_format(file_name: str) -> str | None:
    """'CSV', 'XLSX' or 'JSON' for a file name this module reads; None otherwise."""
    return FORMATS.get(PurePath(file_name).suffix.lower())


def is_tabular(file_name: str) -> bool:
    """Whether parse_tabular answers for this file (reading it, or refusing .xls/.xlsm/.ods with advice)."""
    suffix = PurePath(file_name).suffix.lower()
    return suffix in FORMATS or suffix in _REFUSED_FORMATS


def parse_tabular(
    data: bytes,
    file_name: str,
    *,
    kind: str | None = None,
    submission_id: str | None = None,
    limits: TabularLimits = DEFAULT_LIMITS,
) -> TabularParse:
    """Parse one CSV, XLSX or JSON submission; raise MessageRejected for a file-level problem.

    `kind` forces the kind (the API names it); otherwise the header (or JSON ``soort``) decides.
    """
    suffix = PurePath(file_name).suffix.lower()
    if suffix in _REFUSED_FORMATS:
        raise MessageRejected("OM001", _REFUSED_FORMATS[suffix])
    berichtcode = FORMATS.get(suffix)
    if berichtcode is None:
        raise MessageRejected("OM001", "Onbekend bestandsformaat: lever XML, CSV, XLSX of JSON aan.", file_name)
    if not data or data.isspace():  # as `not data.strip()`, without copying a large file
        raise MessageRejected("OM001", "Het bestand is leeg.")
    if len(data) > limits.max_file_bytes:
        raise MessageRejected(
            "OM005", "Het bestand is groter dan toegestaan.", f"{len(data)} bytes, maximaal {limits.max_file_bytes}"
        )
    with collector_paused():
        match, batches = _READERS[berichtcode](data, kind, limits)
        return _build(match, batches, file_name, berichtcode, submission_id, limits)


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a while: for building many objects without cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _build(match, batches, file_name, berichtcode, submission_id, limits: TabularLimits) -> TabularParse:
    builder = _Collector(match, file_name, berichtcode, submission_id)
    rows = 0
    for batch in batches:
        rows += len(batch.lines)
        if rows > limits.max_rows:
            raise MessageRejected(
                "OM005", "Het bestand heeft meer regels dan toegestaan.", f"maximaal {limits.max_rows}"
            )
        builder.add(batch)
    if rows == 0:
        raise MessageRejected("OM001", "Het bestand bevat geen gegevensregels, alleen een kopregel.")
    return builder.result()


CONVERT_THREADS = min(2, os.cpu_count() or 1)
_CONSTANT_KEYS = ("submission_id", "member_name", "message_id", "berichtcode")  # the same on every row
_DOMEIN_BY_WET = {"wmo": "wmo", "jeugdwet": "jeugd"}


class _Collector:
    """Converted columns per record type, batch after batch; collects the senders."""

    def __init__(self, match: HeaderMatch, member_name: str, berichtcode: str, submission_id: str | None) -> None:
        self.kind: Kind = match.kind
        self.match = match
        self.constants = (submission_id, member_name, None, berichtcode)
        self.readers = [(ColumnReader(column), match.positions.get(column.name)) for column in self.kind.columns]
        self.keys = [column.key for column in self.kind.columns]
        if "domein" not in self.keys:  # clientervaring: follows from wet
            self.keys.append("domein")
        self.all_keys = (*self.keys, *_CONSTANT_KEYS, "line_number")
        self.columns_by_type: dict[str, dict[str, list[Any]]] = {}  # values, or Arrow chunks
        self.row_counts: dict[str, int] = {}
        self.problems_by_type: dict[str, dict[int, list[Problem]]] = {}
        self.senders: set[str] = set()

    def add(self, batch: Batch) -> None:
        count = len(batch.lines)
        arrow = isinstance(batch.lines, pa.Array)
        values: dict[str, Any] = {}
        problems: dict[int, dict[str, Problem]] = defaultdict(dict)
        column_at = {}
        readings = self._read_columns(batch, arrow)
        for reader, position in self.readers:
            column = reader.column
            if position is None:  # an optional column the file leaves out
                if arrow:
                    values[column.key] = pa.repeat(pa.scalar(column.default, ARROW_TYPES[column.type]), count)
                else:
                    values[column.key] = [column.default] * count
                continue
            column_at[position] = column
            converted, refused = readings[position]
            values[column.key] = converted
            for index, found in refused.items():
                problems[index][column.name] = found
        for index, cells in batch.refused.items():  # never on the Arrow path: only XLSX and JSON refuse cells
            for position, reason in cells:
                if position in column_at:
                    column = column_at[position]
                    values[column.key][index] = None
                    problems[index][column.name] = problem(
                        column, "OM024", "", f"{column.name}: de cel bevat {reason}; dat is niet toegestaan."
                    )
        for index, cells in batch.strays.items():
            for position, text in cells:
                name = f"kolom {position + 1}"
                problems[index][name] = {
                    "code": "OM025",
                    "field": name,
                    "value": shown(text),
                    "message": f"{name} heeft geen kolomnaam in de kopregel, maar wel een waarde.",
                }
        record_types = self._kind_rules(values, problems, arrow)
        self._note_senders(values)
        if arrow:
            values.update(
                (key, pa.repeat(pa.scalar(value, pa.string()), count))
                for key, value in zip(_CONSTANT_KEYS, self.constants, strict=True)
            )
        else:
            values.update(zip(_CONSTANT_KEYS, ([value] * count for value in self.constants), strict=True))
        values["line_number"] = batch.lines
        if isinstance(record_types, str):
            self._collect(record_types, values, problems)
            return
        for record_type in dict.fromkeys(record_types):
            chosen = [index for index, found in enumerate(record_types) if found == record_type]
            picked = {
                key: column.take(pa.array(chosen, pa.int64())) if arrow else [column[i] for i in chosen]
                for key, column in values.items()
            }
            self._collect(record_type, picked, problems, chosen)

    def _read_columns(self, batch: Batch, arrow: bool) -> dict[int, tuple[Any, dict[int, Problem]]]:
        """Each named column converted, by header position. Arrow columns two at a time: Arrow's kernels run
        without the GIL, so on two cores one column's conversion overlaps another's."""
        present = [(reader, position) for reader, position in self.readers if position is not None]
        if not arrow:
            return {position: reader.read(batch.columns[position]) for reader, position in present}
        with ThreadPoolExecutor(CONVERT_THREADS, thread_name_prefix="convert") as pool:
            readings = pool.map(lambda job: job[0].read_arrow(batch.columns[job[1]]), present)
            return {position: reading for (_, position), reading in zip(present, readings, strict=True)}

    def _collect(self, record_type: str, values, problems, positions: list[int] | None = None) -> None:
        """Append a batch's columns for one record type; `positions`: its rows' places in the batch, if chosen."""
        columns = self.columns_by_type.setdefault(record_type, {key: [] for key in self.all_keys})
        offset = self.row_counts.get(record_type, 0)
        self.row_counts[record_type] = offset + len(values["line_number"])
        for key in self.all_keys:
            if isinstance(values[key], list):
                columns[key].extend(values[key])
            else:
                columns[key].append(values[key])  # an Arrow chunk
        kept = self.problems_by_type.setdefault(record_type, {})
        if positions is None:
            kept.update((offset + index, list(found.values())) for index, found in sorted(problems.items()))
            return
        for new_index, batch_index in enumerate(positions):
            if batch_index in problems:
                kept[offset + new_index] = list(problems[batch_index].values())

    def _kind_rules(self, values: dict[str, Any], problems, arrow: bool) -> str | list[str]:
        """What one column means for another: the record type of a levering row, the domein of a survey."""
        kind = self.kind
        if kind.name == "clientervaring":
            domein = [_DOMEIN_BY_WET.get(wet) for wet in _as_list(values["wet"])]
            values["domein"] = pa.array(domein, pa.string()) if arrow else domein
        if kind.record_type_by is None:
            return kind.record_types[0]
        # levering: soort picks start_zorg or stop_zorg; a stop needs an end date and a reason, a start has neither.
        by_column, mapping = kind.record_type_by
        record_type_of = dict(mapping)
        ends = _as_list(values["einddatum"]), _as_list(values["reden_beeindiging"])
        record_types = []
        for index, soort in enumerate(_as_list(values[by_column])):
            end_values = [
                (name, column[index]) for name, column in zip(("einddatum", "reden_beeindiging"), ends, strict=True)
            ]
            if soort == "stop":
                for name, value in end_values:
                    if value is None and name not in problems.get(index, {}):
                        problems[index][name] = empty_problem(
                            kind.column(name), f"{name}: verplicht bij soort stop, maar leeg."
                        )
            elif soort == "start":
                for name, value in end_values:
                    if value is not None:
                        problems[index][name] = problem(
                            kind.column(name),
                            "OM024",
                            str(value),
                            f"{name}: hoort niet bij soort start; lever een stop aan voor het einde van de zorg.",
                        )
            # A row without a valid soort is rejected anyway; it is kept with the type its cells suggest.
            fallback = "stop" if any(value is not None for _, value in end_values) else "start"
            record_types.append(record_type_of[soort or fallback])
        return record_types

    def _note_senders(self, values: dict[str, list[Any]]) -> None:
        column = self.kind.sender_column
        if column in self.match.positions:
            found = values[column]
            distinct = set(found) if isinstance(found, list) else pc.unique(found).to_pylist()
            self.senders.update(value for value in distinct if value and value != WILDCARD)

    def result(self) -> TabularParse:
        if len(self.senders) > 1:
            listed = sorted(self.senders)
            raise MessageRejected(
                "OM011",
                f"Het bestand bevat gegevens van meer dan één afzender ({self.kind.sender_column}); "
                "lever per afzender een apart bestand aan.",
                ", ".join(listed[:5]) + (f" en {len(listed) - 5} andere" if len(listed) > 5 else ""),
            )
        return TabularParse(
            kind=self.kind.name,
            berichtcode=self.constants[3],
            sender_role=self.kind.sender_role,
            sender=next(iter(self.senders), None),
            arrays_by_type={
                record_type: {key: _joined(values) for key, values in columns.items()}
                for record_type, columns in self.columns_by_type.items()
            },
            problems_by_type=self.problems_by_type,
        )
