"""A generated region, ingested and built without Airflow: the shared set-up of the warehouse tests."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest


def published_sample(
    tmp_path_factory: pytest.TempPathFactory, *, scale: float, as_of: date, seed: int = 7
) -> tuple[Path, dict[str, Any]]:
    """(published warehouse, the generator's ground truth) of a region of 2025 to mid-2026."""
    from outcome_monitor.build import build_and_publish
    from outcome_monitor.config import Paths
    from outcome_monitor.generate import generate
    from outcome_monitor.ingest import ingest_file

    region = tmp_path_factory.mktemp("region")
    home = tmp_path_factory.mktemp("home")
    generate(region, seed=seed, scale=scale, start=date(2025, 1, 1), end=date(2026, 6, 30))
    paths = Paths(home)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OUTCOME_MONITOR_HOME", str(home))
        for submission in sorted((region / "submissions").iterdir()):
            ingest_file(submission, paths)
        build_and_publish(paths, as_of_date=as_of)
    truth = json.loads((region / "ground_truth.json").read_text(encoding="utf-8"))
    return paths.published_warehouse, truth
