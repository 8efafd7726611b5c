"""LocalExecutor whose workers start with the ingest libraries already imported.

LocalExecutor forks its worker processes from the scheduler, and each task forks from a worker.
Importing Great Expectations costs about 9 s on this kind of machine; paid once here, before the
workers fork, every ingest task inherits it instead of paying it per file (the same idea as
gunicorn's --preload). Nothing else changes: it is Airflow's own LocalExecutor.
"""

from __future__ import annotations

from airflow.executors.local_executor import LocalExecutor

# dbt too: otherwise every transform task imports it (16-34 s measured on a loaded 2-core machine).
PRELOADED = (
    "great_expectations",
    "pandas",
    "pyarrow.parquet",
    "lxml.etree",
    "outcome_monitor.ingest",
    "dbt.cli.main",
    "dbt.adapters.duckdb",
)


class WarmLocalExecutor(LocalExecutor):
    def start(self) -> None:
        import importlib

        for module in PRELOADED:
            importlib.import_module(module)
        super().start()
