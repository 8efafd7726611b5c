"""LocalExecutor whose workers start with the ingest libraries already imported.

LocalExecutor forks its worker processes from the scheduler, and each task forks from a worker.
Importing Great Expectations costs about 9 s on this kind of machine; paid once here, before the
workers fork, every ingest task inherits it instead of paying it per file (the same idea as
gunicorn's --preload). Nothing else changes: it is Airflow's own LocalExecutor.
"""

from __future__ import annotations

from airflow.executors.local_executor import LocalExecutor

PRELOADED = ("great_expectations", "pandas", "pyarrow.parquet", "lxml.etree", "outcome_monitor.ingest")


class WarmLocalExecutor(LocalExecutor):
    def start(self) -> None:
        import importlib

        for module in PRELOADED:
            importlib.import_module(module)
        super().start()
