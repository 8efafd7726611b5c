"""Self-contained row checks: the rules that need nothing but the submission itself.

The rules live in ``expectations/ingest_<record_type>.json`` (Great Expectations suites whose
``meta`` carries the finding code and the Dutch message). This module only adds the derived
columns those suites look at, runs the suite and turns failed rows into finding codes per row.
"""

from __future__ import annotations

from dataclasses import dataclass

from outcome_monitor.bsn import passes_elfproef
from outcome_monitor.codelists import codelist
from outcome_monitor.validation.gx_runner import ExpectationOutcome, load_suite, validate_dataframe

_DATE_COLUMNS = (
    "period_start_date",
    "period_end_date",
    "declaratie_begindatum",
    "declaratie_einddatum",
    "ingangsdatum",
    "einddatum",
    "begindatum",
)


@dataclass
class RowCheckResult:
    codes_per_row: list[list[str]]  # finding codes per input row, in suite order, without repeats
    outcomes: list[ExpectationOutcome]  # for the report: code, severity and Dutch message per rule

    def severity_of(self, code: str) -> str:
        return next((o.severity for o in self.outcomes if o.code == code), "afwijzing")

    def message_of(self, code: str) -> str:
        return next((o.message for o in self.outcomes if o.code == code and not o.success), code)


def with_derived_columns(record_type: str, rows: list[dict]):
    """A DataFrame of `rows` plus the derived columns the suite of `record_type` checks."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    for column in _DATE_COLUMNS:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column])
    frame["bsn_passes_elfproef"] = [passes_elfproef(bsn or "") for bsn in frame["bsn"]]
    frame["productcategorie_key"] = frame["domein"] + ":" + frame["productcategorie"].fillna("")
    frame["productcode_categorie"] = frame["productcode"].str[:2]
    if record_type == "stop_zorg":
        frame["reden_beeindiging_key"] = frame["domein"] + ":" + frame["reden_beeindiging"].fillna("")
    if record_type == "declaratie_regel":
        frame["period_start_month"] = frame["period_start_date"].dt.strftime("%Y-%m")
        frame["period_end_month"] = frame["period_end_date"].dt.strftime("%Y-%m")
        # Nullable integers: ProductTarief is optional, and a missing tariff must not pass as 0.
        frame["volume_x_tarief_cents"] = frame["volume"].astype("Int64") * frame["tarief_cents"].astype("Int64")
        frame["bedrag_cents"] = frame["bedrag_cents"].astype("Int64")
        # The first use of a referentienummer by a provider stays; every repeat is the problem.
        frame["referentienummer_occurrence"] = (
            frame.groupby(["aanbieder_agb", "referentienummer"], dropna=False).cumcount() + 1
        )
    return frame


def check_rows(record_type: str, rows: list[dict]) -> RowCheckResult:
    if not rows:
        return RowCheckResult([], [])
    frame = with_derived_columns(record_type, rows)
    outcomes = validate_dataframe(frame, load_suite(f"ingest_{record_type}", codelist))
    broken = [o for o in outcomes if o.error]
    if broken:
        # A rule that cannot be evaluated is a defect of ours, never silently a pass.
        raise RuntimeError(f"rule {broken[0].code} could not be evaluated: {broken[0].error}")
    codes_per_row: list[list[str]] = [[] for _ in rows]
    for outcome in outcomes:
        for index in outcome.failed_rows:
            if outcome.code not in codes_per_row[index]:
                codes_per_row[index].append(outcome.code)
    return RowCheckResult(codes_per_row, outcomes)
