"""The modules the warm Airflow workers import before forking: each must exist, or start() fails."""

from __future__ import annotations

import importlib.util

from outcome_monitor.stack.warm_executor import PRELOADED


def test_every_preloaded_module_can_be_found():
    missing = [name for name in PRELOADED if importlib.util.find_spec(name) is None]
    assert not missing


def test_the_transform_tasks_libraries_are_preloaded():
    # dbt's import costs the transform task 16-34 s on a loaded machine when it is not inherited.
    assert {"dbt.cli.main", "dbt.adapters.duckdb", "great_expectations"} <= set(PRELOADED)
