"""One column of text cells to typed values, strictly: what needs a guess is refused, on its row.

Finding codes (row level, blocking): OM020 onleesbare datum, OM021 ambigu/ongeldig bedrag, OM022
ongeldig getal, OM023 verplicht veld leeg, OM024 waarde niet toegestaan. Each problem names the field
and the value (never a BSN) in Dutch.

Columns are converted a batch at a time and every distinct cell text once: dates, codes and amounts
repeat a lot, so the per-cell cost is a dictionary look-up. A column that arrives as Arrow text (the
CSV fast path) stays Arrow: its distinct texts go through the same conversion, once each, and
identifiers are only handed to Python where ``str.strip`` could change them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from outcome_monitor.ingest.kinds import BSN, CODE, DATE, DECIMAL, EURO_CENTS, INT, TEXT, WILDCARD, Column

Problem = dict[str, str]  # {"code", "field", "value", "message"}

_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DUTCH_DATE = re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4})")  # DD-MM-YYYY; Dutch Excel writes D-M-YYYY
_WHOLE = re.compile(r"-?\d{1,18}")
_EURO = re.compile(r"(-?)(\d{1,15})(?:[.,](\d{1,2}))?")
_DECIMAL = re.compile(r"-?\d{1,15}(?:[.,]\d{1,15})?")
# 1.250 or 1,250: a thousands group or three decimals? Nobody can tell, so nobody guesses.
_THOUSANDS_LOOKALIKE = re.compile(r"-?[1-9]\d{0,2}[.,]\d{3}")


# The Arrow type of each column type's values (the raw schema may narrow an integer further).
ARROW_TYPES = {
    TEXT: pa.string(),
    CODE: pa.string(),
    BSN: pa.string(),
    DATE: pa.date32(),
    INT: pa.int64(),
    EURO_CENTS: pa.int64(),
    DECIMAL: pa.float64(),
}


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def shown(value: str) -> str:
    return value if len(value) <= 40 else value[:37] + "..."


def problem(column: Column, code: str, value: str, message: str) -> Problem:
    # Never echo a BSN into a report: the report leaves the municipality.
    return {"code": code, "field": column.name, "value": "" if column.type == BSN else shown(value), "message": message}


def empty_problem(column: Column, message: str | None = None) -> Problem:
    return problem(column, "OM023", "", message or f"{column.name}: verplicht veld is leeg.")


def parse_date(column: Column, text: str) -> date:
    iso = _ISO_DATE.fullmatch(text)
    dutch = None if iso else _DUTCH_DATE.fullmatch(text)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        if dutch:
            return date(int(dutch[3]), int(dutch[2]), int(dutch[1]))
    except ValueError:
        raise Refused("OM020", f"{column.name}: '{shown(text)}' is geen bestaande datum.") from None
    raise Refused("OM020", f"{column.name}: '{shown(text)}' is geen datum in de vorm JJJJ-MM-DD of DD-MM-JJJJ.")


def parse_int(column: Column, text: str) -> int:
    if _WHOLE.fullmatch(text):
        return int(text)
    raise Refused("OM022", f"{column.name}: '{shown(text)}' is geen geheel getal (zonder punt, komma of spaties).")


def parse_euro_cents(column: Column, text: str) -> int:
    match = _EURO.fullmatch(text.removeprefix("€").strip())
    if not match:
        raise Refused(
            "OM021",
            f"{column.name}: '{shown(text)}' is geen eenduidig bedrag; schrijf bijvoorbeeld 1250,00 of 1250.00, "
            "zonder duizendtallen en met hoogstens twee decimalen.",
        )
    sign, euros, cents = match.groups()
    value = int(euros) * 100 + int((cents or "0").ljust(2, "0"))
    return -value if sign else value


def parse_decimal(column: Column, text: str) -> float:
    if _THOUSANDS_LOOKALIKE.fullmatch(text):
        raise Refused(
            "OM022",
            f"{column.name}: '{shown(text)}' is dubbelzinnig (duizendtal of drie decimalen?); "
            "schrijf het getal zonder duizendtallen.",
        )
    if _DECIMAL.fullmatch(text):
        return float(text.replace(",", "."))
    raise Refused("OM022", f"{column.name}: '{shown(text)}' is geen getal (decimale komma of punt).")


def code_reader(column: Column) -> Callable[[str], str]:
    accepted = {value.casefold(): value for value in column.allowed}
    accepted.update({spelling.casefold(): value for spelling, value in column.aliases})
    choices = ", ".join(column.allowed) + (f" of {WILDCARD}" if column.wildcard else "")

    def read(text: str) -> str:
        if column.wildcard and text == WILDCARD:
            return text
        if column.name == "gemeente_code" and text[:2].upper() == "GM" and text[2:].isdigit():
            text = text[2:]  # GM0014, the CBS notation
        if column.pad and text.isdigit() and len(text) < column.pad:
            text = text.zfill(column.pad)  # Excel dropped the leading zeros of 0014 or 01
        if not accepted:
            return text
        canonical = accepted.get(text.casefold())
        if canonical is None:
            raise Refused("OM024", f"{column.name}: '{shown(text)}' is niet toegestaan; toegestaan: {choices}.")
        return canonical

    return read


def cell_reader(column: Column) -> Callable[[str], Any]:
    """Non-empty, stripped text -> value for one column; raises Refused."""
    if column.type == DATE:
        return lambda text: parse_date(column, text)
    if column.type == INT:
        return lambda text: parse_int(column, text)
    if column.type == EURO_CENTS:
        return lambda text: parse_euro_cents(column, text)
    if column.type == DECIMAL:
        return lambda text: parse_decimal(column, text)
    if column.type == CODE:
        return code_reader(column)
    return lambda text: text


def untouched_by_strip(cells: pa.Array) -> pa.Array:
    """Per cell: printable ASCII (space to ~) without surrounding spaces, never empty: text that str.strip()
    leaves alone. Three passes in Arrow; a regular expression per cell costs four times as much."""
    printable = pc.and_(pc.ascii_is_printable(cells), pc.not_equal(cells, ""))
    return pc.and_(printable, pc.invert(pc.or_(pc.starts_with(cells, " "), pc.ends_with(cells, " "))))


class _Memo(dict):
    """Cell text -> value; a text seen for the first time is converted once, inside the C-level look-up."""

    def __init__(self, learn: Callable[[str], Any]) -> None:
        super().__init__()
        self.learn = learn

    def __missing__(self, text: str) -> Any:
        value = self[text] = self.learn(text)
        return value


class ColumnReader:
    """Converts one column, batch after batch; remembers every distinct cell text it has seen."""

    MEMO_LIMIT = 200_000  # high-cardinality columns start afresh rather than grow without bound

    def __init__(self, column: Column) -> None:
        self.column = column
        self.read_cell = cell_reader(column)
        self.values = _Memo(self._learn)
        self.refused: dict[str, Problem] = {}

    def read(self, cells: Sequence[str]) -> tuple[list[Any], dict[int, Problem]]:
        """The values of `cells` (None where refused or empty) and the problems by position."""
        if self.column.type in (TEXT, BSN):
            return self._read_text(cells)
        if len(self.values) > self.MEMO_LIMIT:
            self.values.clear()
            self.refused.clear()
        values = list(map(self.values.__getitem__, cells))
        problems = {}
        if self.refused and not self.refused.keys().isdisjoint(cells):
            problems = {index: self.refused[text] for index, text in enumerate(cells) if text in self.refused}
        return values, problems

    def read_arrow(self, cells: pa.Array) -> tuple[pa.Array, dict[int, Problem]]:
        """As `read`, for a column of non-null Arrow text: the values as an Arrow array of ARROW_TYPES."""
        if self.column.type in (TEXT, BSN):
            return self._read_text_arrow(cells)
        encoded = pc.dictionary_encode(cells)
        texts = encoded.dictionary.to_pylist()
        values = pa.array([self._learn(text) for text in texts], ARROW_TYPES[self.column.type])
        problems: dict[int, Problem] = {}
        refused = [position for position, text in enumerate(texts) if text in self.refused]
        if refused:
            indices = encoded.indices
            rows = pc.indices_nonzero(pc.is_in(indices, value_set=pa.array(refused, indices.type))).to_pylist()
            problems = {row: self.refused[texts[indices[row].as_py()]] for row in rows}
        return values.take(encoded.indices), problems

    def _read_text_arrow(self, cells: pa.Array) -> tuple[pa.Array, dict[int, Problem]]:
        untouched = untouched_by_strip(cells)
        values = cells
        if self.column.type == BSN:
            lost_zero = pc.and_(untouched, pc.and_(pc.equal(pc.utf8_length(cells), 8), pc.ascii_is_decimal(cells)))
            if pc.any(lost_zero).as_py():
                values = pc.if_else(lost_zero, pc.binary_join_element_wise("0", cells, ""), cells)
        if not pc.all(untouched).as_py():
            # Spaces, empty cells, other characters: exactly the Python rule, for those cells only.
            touched = pc.invert(untouched)
            by_python, _ = self._read_text(cells.filter(touched).to_pylist())
            values = pc.replace_with_mask(values, touched, pa.array(by_python, pa.string()))
        problems = {}
        if self.column.required and values.null_count:
            missing = empty_problem(self.column)
            problems = dict.fromkeys(pc.indices_nonzero(pc.is_null(values)).to_pylist(), missing)
        return values, problems

    def _learn(self, text: str) -> Any:
        column = self.column
        stripped = text.strip()
        if not stripped:
            if column.required and column.default is None:
                self.refused[text] = empty_problem(column)
            return column.default
        try:
            return self.read_cell(stripped)
        except Refused as refused:
            self.refused[text] = problem(column, refused.code, stripped, refused.message)
            return None

    def _read_text(self, cells: Sequence[str]) -> tuple[list[Any], dict[int, Problem]]:
        # Mostly distinct values (referentienummer, BSN): no memo, just strip.
        values: list[Any] = [text or None for text in map(str.strip, cells)]
        if self.column.type == BSN:
            # A BSN of 8 digits lost its leading zero in Excel; any other length fails the elfproef later.
            values = ["0" + value if value and len(value) == 8 and value.isdigit() else value for value in values]
        problems = {}
        if self.column.required and None in values:
            missing = empty_problem(self.column)
            problems = {index: missing for index, value in enumerate(values) if value is None}
        return values, problems
