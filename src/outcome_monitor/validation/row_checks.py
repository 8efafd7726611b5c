"""Self-contained row checks: the rules that need nothing but the submission itself.

The rules live in ``expectations/ingest_<record_type>.json`` (Great Expectations suites whose
``meta`` carries the finding code and the Dutch message). This module only adds the derived
columns those suites look at, runs the suite and turns failed rows into finding codes per row.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from outcome_monitor.bsn import passes_elfproef
from outcome_monitor.codelists import codelist
from outcome_monitor.validation.gx_runner import ExpectationOutcome, load_suite, validate_dataframe
from outcome_monitor.validation.sql_rules import validate_table

# Submissions up to this many rows per record type are validated by Great Expectations itself;
# larger ones by the same suite translated to DuckDB SQL (tests/unit/test_sql_rules.py: same verdicts).
GX_MAX_ROWS = int(os.environ.get("OUTCOME_MONITOR_GX_MAX_ROWS", "50000"))
# The rule engines: AUTO as above, for a submission as it arrives; DUCKDB for every size, for bulk work
# (a replay or full rebuild of thousands of files, where GX's ~2 s a file would take hours).
AUTO, DUCKDB = "auto", "duckdb"
RULE_ENGINES = (AUTO, DUCKDB)

_DATE_COLUMNS = (
    "period_start_date",
    "period_end_date",
    "declaratie_begindatum",
    "declaratie_einddatum",
    "ingangsdatum",
    "einddatum",
    "begindatum",
    "meetdatum",
    "afgesproken_op",
)
# An afspraak may name any question of the client survey: CEO_<vraag> stands for all of them.
CEO_PREFIX = "CEO_"
CEO_ANY_QUESTION = f"{CEO_PREFIX}<vraag>"
WILDCARD = "*"  # an afspraak's scope: all gemeenten, domeinen, aanbieders or productcategorieën


@dataclass
class RowCheckResult:
    rows: int
    codes_by_row: dict[int, list[str]]  # only rows with findings: codes in suite order, without repeats
    outcomes: list[ExpectationOutcome]  # for the report: code, severity and Dutch message per rule

    @property
    def codes_per_row(self) -> list[list[str]]:
        return [self.codes_by_row.get(index, []) for index in range(self.rows)]

    def severity_of(self, code: str) -> str:
        return next((o.severity for o in self.outcomes if o.code == code), "afwijzing")

    def message_of(self, code: str) -> str:
        return next((o.message for o in self.outcomes if o.code == code and not o.success), code)


def with_derived_columns(record_type: str, rows: list[dict] | pa.Table):
    """A DataFrame of `rows` (dicts or an Arrow table) plus the derived columns the suite checks."""
    import pandas as pd

    # From Arrow, integers with gaps become float64 with NaN, the form GX's pair expectations can skip.
    frame = rows.to_pandas(date_as_object=False) if isinstance(rows, pa.Table) else pd.DataFrame(rows)
    for column in _DATE_COLUMNS:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column])
    # The CSV/XLSX/JSON-only record types may have no client or no product category.
    if "bsn" in frame:
        # Once per client, not per line: a client has many lines.
        verdicts = {bsn: isinstance(bsn, str) and passes_elfproef(bsn) for bsn in frame["bsn"].unique()}
        frame["bsn_passes_elfproef"] = frame["bsn"].map(verdicts).astype(bool)
    if "productcategorie" in frame and record_type != "afspraak":
        frame["productcategorie_key"] = frame["domein"] + ":" + frame["productcategorie"].fillna("")
        frame["productcode_categorie"] = frame["productcode"].str[:2]
    if record_type == "stop_zorg":
        frame["reden_beeindiging_key"] = frame["domein"] + ":" + frame["reden_beeindiging"].fillna("")
    if record_type == "declaratie_regel":
        frame["period_start_month"] = frame["period_start_date"].dt.strftime("%Y-%m")
        frame["period_end_month"] = frame["period_end_date"].dt.strftime("%Y-%m")
        # As float with NaN, not pandas' nullable Int64: GX's pair expectations cannot skip pd.NA
        # ("boolean value of NA is ambiguous"). Cents stay exact in a double far beyond any amount.
        volume = frame["volume"].astype("float64")
        frame["volume_x_tarief_cents"] = volume * frame["tarief_cents"].astype("float64")
        frame["bedrag_cents"] = frame["bedrag_cents"].astype("float64")
        # The first use of a referentienummer by a provider stays; every repeat is the problem.
        frame["referentienummer_occurrence"] = (
            frame.groupby(["aanbieder_agb", "referentienummer"], dropna=False).cumcount() + 1
        )
    if record_type == "uitkomst":
        frame["uitkomst_ingevuld"] = frame[["tevredenheid", "zonder_hulp_verder", "doelrealisatie"]].notna().any(axis=1)
    if "jaar" in frame:
        # Next year is the latest plausible one (a concept statement may precede the year's end).
        frame["jaar_plausibel_tot"] = date.today().year + 1
    if record_type == "afspraak":
        frame["indicator_code_basis"] = [
            CEO_ANY_QUESTION
            if isinstance(code, str) and code.startswith(CEO_PREFIX) and len(code) > len(CEO_PREFIX)
            else code
            for code in frame["indicator_code"]
        ]
        frame["productcategorie_bekend"] = [
            _scope_category_known(domein, categorie)
            for domein, categorie in zip(frame["domein"], frame["productcategorie"], strict=True)
        ]
    return frame


def with_derived_arrow_columns(record_type: str, table: pa.Table) -> pa.Table:
    """`table` plus the derived columns of with_derived_columns, computed in Arrow, for the DuckDB engine.

    The same values wherever a rule can tell (tests/unit/test_row_checks_arrow.py): dates stay dates
    (compared, never formatted), integers with gaps stay integers with nulls where pandas has NaN.
    """
    derived: dict[str, pa.Array | pa.ChunkedArray] = {}
    names = set(table.column_names)
    if "bsn" in names:
        bsn = table.column("bsn")
        clients = pc.unique(bsn)  # once per client, not per line
        verdicts = pa.array([isinstance(v, str) and passes_elfproef(v) for v in clients.to_pylist()], pa.bool_())
        derived["bsn_passes_elfproef"] = verdicts.take(pc.index_in(bsn, value_set=clients))
    if "productcategorie" in names and record_type != "afspraak":
        derived["productcategorie_key"] = _key(table, "productcategorie")
        derived["productcode_categorie"] = pc.utf8_slice_codeunits(table.column("productcode"), 0, 2)
    if record_type == "stop_zorg":
        derived["reden_beeindiging_key"] = _key(table, "reden_beeindiging")
    if record_type == "declaratie_regel":
        # Months as year * 12 + month: equal exactly when pandas' "%Y-%m" texts are equal.
        for side in ("start", "end"):
            day = table.column(f"period_{side}_date")
            derived[f"period_{side}_month"] = pc.add(pc.multiply(pc.year(day), 12), pc.month(day))
        volume, tarief = (table.column(name).cast(pa.float64()) for name in ("volume", "tarief_cents"))
        derived["volume_x_tarief_cents"] = pc.multiply(volume, tarief)
        derived["bedrag_cents"] = table.column("bedrag_cents").cast(pa.float64())
        derived["referentienummer_occurrence"] = pa.array(
            _occurrence(table.column("aanbieder_agb"), table.column("referentienummer")), pa.int64()
        )
    if record_type == "uitkomst":
        filled = [pc.is_valid(table.column(name)) for name in ("tevredenheid", "zonder_hulp_verder", "doelrealisatie")]
        derived["uitkomst_ingevuld"] = pc.or_(pc.or_(filled[0], filled[1]), filled[2])
    if "jaar" in names:
        derived["jaar_plausibel_tot"] = pa.array(np.full(table.num_rows, date.today().year + 1, dtype=np.int64))
    if record_type == "afspraak":
        frame = with_derived_columns(record_type, table.select(["indicator_code", "domein", "productcategorie"]))
        for name in ("indicator_code_basis", "productcategorie_bekend"):
            derived[name] = pa.Array.from_pandas(frame[name])
    for name, column in derived.items():
        if name in names:
            table = table.set_column(table.schema.get_field_index(name), name, column)
        else:
            table = table.append_column(name, column)
    return table


def _key(table: pa.Table, column: str):
    """domein + ':' + the code ('' when missing), as the code lists key them; missing when domein is."""
    return pc.binary_join_element_wise(table.column("domein"), pc.fill_null(table.column(column), ""), ":")


def _occurrence(*columns) -> np.ndarray:
    """Per row, how many rows so far (itself included) have the same values in `columns`; missing is a value."""
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()  # one dictionary for the whole column
        encoded = pc.dictionary_encode(column, null_encoding="encode")
        key = key * (len(encoded.dictionary) + 1) + np.asarray(encoded.indices.to_numpy(zero_copy_only=False))
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]] if len(ordered) else np.zeros(0, dtype=bool)
    positions = np.arange(len(ordered))
    group_start = np.maximum.accumulate(np.where(starts, positions, 0))
    occurrence = np.empty(len(ordered), dtype=np.int64)
    occurrence[order] = positions - group_start + 1
    return occurrence


def _scope_category_known(domein: str | None, categorie: str | None) -> bool:
    """An afspraak's productcategorie: '*' (all), or a category of its domein (of either, for domein '*')."""
    if categorie == WILDCARD or domein not in ("jeugd", "wmo", WILDCARD):
        return True  # an unknown domein is its own finding (OM111); the category cannot be judged without one
    domeinen = ("jeugd", "wmo") if domein == WILDCARD else (domein,)
    return any(f"{d}:{categorie}" in codelist("productcategorie") for d in domeinen)


def _codelist(name: str) -> set[str]:
    """The shipped code lists, plus the indicator codes (from the dbt seed) an afspraak may name."""
    if name == "indicator":
        # Imported here: outcome_monitor.ingest imports this module.
        from outcome_monitor.ingest.kinds import indicator_codes

        return {*indicator_codes(), CEO_ANY_QUESTION}
    return codelist(name)


def check_rows(record_type: str, rows: list[dict] | pa.Table, engine: str = AUTO) -> RowCheckResult:
    if engine not in RULE_ENGINES:
        raise ValueError(f"rule engine {engine!r}: choose from {', '.join(RULE_ENGINES)}")
    if len(rows) == 0:
        return RowCheckResult(0, {}, [])
    suite = load_suite(f"ingest_{record_type}", _codelist)
    if engine == DUCKDB or len(rows) > GX_MAX_ROWS:
        # Same suite, evaluated by DuckDB: GX on pandas costs about 30 µs a row (see sql_rules). An Arrow
        # table gets its derived columns in Arrow too: pandas' strftime and groupby cost seconds a million rows.
        if isinstance(rows, pa.Table):
            table = with_derived_arrow_columns(record_type, rows)
        else:
            table = pa.Table.from_pandas(with_derived_columns(record_type, rows), preserve_index=False)
        outcomes = validate_table(table, suite)
    else:
        outcomes = validate_dataframe(with_derived_columns(record_type, rows), suite)
    broken = [o for o in outcomes if o.error]
    if broken:
        # A rule that cannot be evaluated is a defect of ours, never silently a pass.
        raise RuntimeError(f"rule {broken[0].code} could not be evaluated: {broken[0].error}")
    codes_by_row: dict[int, list[str]] = {}
    for outcome in outcomes:
        for index in outcome.failed_rows:
            codes = codes_by_row.setdefault(index, [])
            if outcome.code not in codes:
                codes.append(outcome.code)
    return RowCheckResult(len(rows), codes_by_row, outcomes)
