"""Airflow DAG: rebuild the warehouse with dbt whenever raw data changed, check it, publish it.

Runs one at a time (events that arrive meanwhile queue up one next run), builds into a new
DuckDB file, validates the marts with Great Expectations and only then replaces the published
file, so Superset never sees a half-built warehouse.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, dag, task

from outcome_monitor.config import RECORD_TYPES

published = Asset("published")
raw_changed = Asset(f"raw.{RECORD_TYPES[0]}")
for record_type in RECORD_TYPES[1:]:
    raw_changed = raw_changed | Asset(f"raw.{record_type}")


@dag(
    dag_id="transform_publish",
    schedule=raw_changed,
    catchup=False,
    max_active_runs=1,
    tags=["outcome-monitor", "transform"],
    default_args={"retries": 1, "retry_delay": timedelta(seconds=10)},
    doc_md=__doc__,
)
def transform_publish():
    @task
    def dbt_build() -> str:
        from outcome_monitor.build import run_dbt
        from outcome_monitor.config import paths

        return str(run_dbt(paths(), unit_tests=False))

    @task
    def check_marts(database: str) -> str:
        from pathlib import Path

        from outcome_monitor.build import check_marts

        check_marts(Path(database))
        return database

    @task(outlets=[published])
    def publish(database: str) -> str:
        from pathlib import Path

        from outcome_monitor.build import publish
        from outcome_monitor.config import paths
        from outcome_monitor.relational_feedback import update_feedback_reports

        published_file = publish(Path(database), paths())
        # Relational findings (9338, 8021, ...) reach each provider's report once they are published.
        update_feedback_reports(published_file, paths())
        return str(published_file)

    publish(check_marts(dbt_build()))


transform_publish()
