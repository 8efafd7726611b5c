"""Run a Great Expectations suite from ``expectations/`` on a pandas DataFrame.

Great Expectations' SQL route does not work on DuckDB, so GX runs the suites on pandas: the ingest
suites of a submission that arrives on its own (``row_checks``). Bulk and large files and the mart
suites run on the DuckDB translation (``sql_rules``, ``mart_rules``), proven equal by the tests. The suite
files are plain GX 1.x JSON with two additions this module resolves before GX sees them:

- each expectation's ``meta`` carries ``code``, ``severity`` and ``message`` (Dutch), so a failed
  expectation becomes a finding without a lookup table elsewhere;
- a ``value_set`` may be ``{"$codelist": "<name>"}``, filled in from the shipped code lists, so the
  suite never holds a stale copy of a list.

``import great_expectations`` costs seconds: it happens inside functions, never at import time.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

# The suites live at the top of the repository; an installed deployment may point elsewhere.
EXPECTATIONS_DIR = Path(
    os.environ.get("OUTCOME_MONITOR_EXPECTATIONS", Path(__file__).resolve().parents[3] / "expectations")
)


@dataclass
class ExpectationOutcome:
    """One expectation's verdict: which rows failed it, and what that means for a provider."""

    expectation_type: str
    code: str
    severity: str
    message: str
    success: bool
    failed_rows: list[int] = field(default_factory=list)  # positional index into the DataFrame
    error: str | None = None  # set when GX could not evaluate the expectation at all


def load_suite(name: str, codelists: Callable[[str], Iterable[str]] | None = None) -> dict[str, Any]:
    """The suite `expectations/<name>.json` with its ``$codelist`` references resolved."""
    suite = json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    suite = copy.deepcopy(suite)
    for expectation in suite["expectations"]:
        value_set = expectation["kwargs"].get("value_set")
        if isinstance(value_set, dict) and "$codelist" in value_set:
            if codelists is None:
                raise ValueError(f"suite {name} refers to code list {value_set['$codelist']}: none given")
            expectation["kwargs"]["value_set"] = sorted(codelists(value_set["$codelist"]))
    return suite


def validate_dataframe(frame: pd.DataFrame, suite: dict[str, Any]) -> list[ExpectationOutcome]:
    """Validate `frame` (with a default RangeIndex) against `suite`; one outcome per expectation."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # Progress bars go to stderr, where Airflow logs them as errors.
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    batch_definition = (
        context.data_sources.add_pandas("rows")
        .add_dataframe_asset("frame")
        .add_batch_definition_whole_dataframe("whole")
    )
    # GX does not keep the suite's order; the suite file's order is the report's order.
    expectations = [
        {**expectation, "meta": {**expectation.get("meta", {}), "position": position}}
        for position, expectation in enumerate(suite["expectations"])
    ]
    gx_suite = gx.ExpectationSuite(name=suite["name"], expectations=expectations)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(gx_suite, result_format={"result_format": "COMPLETE"})

    outcomes = []
    for item in sorted(result.results, key=lambda item: item.expectation_config.meta["position"]):
        config = item.expectation_config
        meta = config.meta or {}
        error = _exception_message(item.exception_info)
        failed = [int(index) for index in (item.result or {}).get("unexpected_index_list") or []]
        outcomes.append(
            ExpectationOutcome(
                expectation_type=config.type,
                code=str(meta.get("code", "")),
                severity=str(meta.get("severity", "afwijzing")),
                message=str(meta.get("message", config.type)),
                success=bool(item.success) and error is None,
                failed_rows=failed,
                error=error,
            )
        )
    return outcomes


def _exception_message(info: dict[str, Any] | None) -> str | None:
    """GX reports an exception either flat or keyed by metric; return its message, if any."""
    if not info:
        return None
    if "raised_exception" in info:
        return info.get("exception_message") if info["raised_exception"] else None
    for nested in info.values():
        if isinstance(nested, dict) and nested.get("raised_exception"):
            return str(nested.get("exception_message"))
    return None
