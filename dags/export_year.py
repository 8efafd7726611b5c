"""Airflow DAG: a controller makes a fresh auditor's package (trigger with the year as parameter).

The task exports the verslagjaar from the published warehouse into the package store
(outcome_monitor.year_end.package_store), where Superset offers it to controllers at
/jaarafsluiting/. A closed year's package carries its snapshot id; after post-closing changes
arrived, a new run lists them in a new package. An open year needs `voorlopig`. No schedule: a
close makes its own package; this DAG runs only when triggered.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Param, dag, get_current_context, task


@dag(
    dag_id="export_year",
    schedule=None,
    catchup=False,
    max_active_runs=1,
    tags=["outcome-monitor", "jaarafsluiting"],
    default_args={"retries": 1, "retry_delay": timedelta(seconds=30)},
    params={
        "verslagjaar": Param(type="integer", minimum=2015, maximum=2100, description="Het jaar van het pakket"),
        "voorlopig": Param(
            False, type="boolean", description="Ook een jaar dat nog niet is afgesloten (het pakket heet dan voorlopig)"
        ),
    },
    doc_md=__doc__,
)
def export_year():
    @task
    def export() -> dict:
        from outcome_monitor.config import paths
        from outcome_monitor.year_end.package_store import store_package

        params = get_current_context()["params"]
        return store_package(paths(), int(params["verslagjaar"]), voorlopig=bool(params["voorlopig"])).summary()

    export()


export_year()
