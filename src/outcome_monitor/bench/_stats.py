"""Percentiles for a handful of timings: nearest rank, so p95 of five runs is the slowest one."""

from __future__ import annotations

import math
import statistics


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value with at least `share` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summary(values: list[float | None]) -> dict[str, float | int | None]:
    """p50 (the median), p95 and max of the values that were measured (None: a stage not observed)."""
    measured = [v for v in values if v is not None]
    if not measured:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    return {
        "n": len(measured),
        "p50": round(statistics.median(measured), 3),
        "p95": round(percentile(measured, 0.95), 3),
        "max": round(max(measured), 3),
    }
